// libFuzzer target: cut_flac on any bytes, at any time, alone and through a seek index cache, and layout_flac. Input and invariants: fuzz_cut.h.
#include "src/formats/flac.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return fuzz_cut::run_indexed(audio_stream::cut_flac, audio_stream::layout_flac, data, size);
}
