// libFuzzer target: cut_ogg on any bytes, at any time, layout_ogg, and its Opus packets for HLS. Input and
// invariants: fuzz_cut.h.
#include "src/formats/formats.h"
#include "tests/fuzz/fuzz_cut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz_cut::run_packets(audio_stream::track_ogg, audio_stream::packets_ogg, data, size);
    return fuzz_cut::run(audio_stream::cut_ogg, audio_stream::layout_ogg, data, size);
}
