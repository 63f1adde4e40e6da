// libFuzzer target: cut_mp4 on any bytes, at any time, and layout_mp4 (input and invariants:
// fuzz_cut.h).
#include "src/formats/formats.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return fuzz_cut::run(audio_stream::cut_mp4, audio_stream::layout_mp4, data, size);
}
