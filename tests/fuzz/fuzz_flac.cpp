// libFuzzer target: cut_flac on any bytes, at any time, alone and through a seek index cache, and
// layout_flac and its packets for HLS (input and invariants: fuzz_cut.h). The same bytes are also read as a saved seek
// index (FrameIndex::parse, what a child loads from AudioStreamSeekIndexDir): whatever parse
// accepts renumbers into extents inside the file, as a cut and as a clip.
#include "src/formats/formats.h"
#include "src/formats/flac/renumber.h"
#include "tests/fuzz/fuzz_cut.h"

namespace {

void check_parsed_payload(std::string_view bytes)
{
    using namespace audio_stream;
    const Offset file_size = Offset{1} << 20;
    const auto index = flac::FrameIndex::parse(bytes, file_size);
    if (!index || index->frames.empty()) {
        return;
    }
    CHECK(index->payload() == bytes);
    flac::Clip clip;
    clip.first = index->frames.size() / 2;
    clip.last = index->frames.size() - 1;
    for (const bool to_the_end : {true, false}) {
        clip.to_the_end = to_the_end;
        flac::CutFrames frames;
        if (!parses([&] { frames = flac::cut_frames(*index, clip, file_size, {}); })) {
            continue;
        }
        for (const auto& e : frames.extents) {
            if (const auto* f = std::get_if<FileExtent>(&e)) {
                CHECK(f->offset <= file_size && f->length <= file_size - f->offset);
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    check_parsed_payload(std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz_cut::run_packets(audio_stream::track_flac, audio_stream::packets_flac, data, size);
    return fuzz_cut::run_indexed(audio_stream::cut_flac, audio_stream::layout_flac, data, size);
}
