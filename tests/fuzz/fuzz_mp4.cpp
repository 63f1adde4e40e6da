// libFuzzer target: layout_mp4 on any bytes (MP4 has no cutter yet). Input and invariants:
// fuzz_cut.h (the 4-byte time prefix is read and ignored, so the seeds are like the others').
#include "src/formats/mp4.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return fuzz_cut::run_layout(audio_stream::layout_mp4, data, size);
}
