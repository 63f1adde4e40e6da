// libFuzzer target: cut_mp3 on any bytes, at any time, and layout_mp3. Input and invariants: fuzz_cut.h.
#include "src/formats/mp3.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return fuzz_cut::run(audio_stream::cut_mp3, audio_stream::layout_mp3, data, size);
}
