// libFuzzer target: cut_mp3 on any bytes, at any time, alone and through a seek index cache, and
// layout_mp3 and its packets for HLS (input and invariants: fuzz_cut.h). The same bytes are also read as a saved seek
// index (FrameIndex::parse): whatever parse accepts describes frames inside the file.
#include "src/formats/formats.h"
#include "src/formats/mp3/index.h"
#include "tests/fuzz/fuzz_cut.h"

namespace {

void check_parsed_payload(std::string_view bytes)
{
    using namespace audio_stream;
    const Offset file_size = Offset{1} << 20;
    const auto index = mp3::FrameIndex::parse(bytes, file_size);
    if (!index) {
        return;
    }
    CHECK(index->payload() == bytes);
    for (std::size_t i = 0; i < index->frames.size(); ++i) {
        const mp3::FrameInfo f = index->at(i);
        CHECK(f.offset + f.size <= index->audio_end && index->audio_end <= file_size);
        CHECK(f.main_data < f.size);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    check_parsed_payload(std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz_cut::run_packets(audio_stream::track_mp3, audio_stream::packets_mp3, data, size);
    return fuzz_cut::run_indexed(audio_stream::cut_mp3, audio_stream::layout_mp3, data, size);
}
