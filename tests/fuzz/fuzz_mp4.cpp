// libFuzzer target: cut_mp4 on any bytes, at any time, layout_mp4, and its packets for HLS (input and invariants:
// fuzz_cut.h).
#include "src/formats/formats.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz_cut::run_packets(audio_stream::track_mp4, audio_stream::packets_mp4, data, size);
    return fuzz_cut::run(audio_stream::cut_mp4, audio_stream::layout_mp4, data, size);
}
