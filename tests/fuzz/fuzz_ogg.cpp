// libFuzzer target: cut_ogg on any bytes, at any time, and layout_ogg. Input and invariants: fuzz_cut.h.
#include "src/formats/formats.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return fuzz_cut::run(audio_stream::cut_ogg, audio_stream::layout_ogg, data, size);
}
