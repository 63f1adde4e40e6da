#include "write.h"

#include <string>

#include "id3_write.h"
#include "new_frames.h"

namespace audio_stream {
namespace mp3 {

namespace {

// The lead frames: silent, the last one ending with frame W's reservoir.
std::string lead_frames(const Stream& s, const Clip& c)
{
    std::string lead;
    for (std::uint64_t i = 1; i < c.trim.lead; ++i) {
        lead += *reservoir_frame(s.audio_raw, {});  // the audio's own bitrate holds no tail
    }
    if (c.trim.lead > 0) {
        auto frame = reservoir_frame(s.audio_raw, c.reservoir.tail);
        if (!frame) {
            refuse_malformed("no bitrate holds the bit reservoir");
        }
        lead += *frame;
    }
    return lead;
}

// The Xing/Info frame, then the lead frames.
std::string new_frames(const Stream& s, const Clip& c)
{
    const std::string lead = lead_frames(s, c);
    NewTag tag;
    tag.audio_raw = s.audio_raw;
    tag.frames = c.frames;
    tag.audio_bytes = c.audio_bytes;
    tag.constant = c.constant;
    tag.bitrate_index = c.bitrate_index;
    tag.toc = c.toc;
    tag.original = &s.tag;
    tag.lame = c.trim.lame;
    tag.delay = static_cast<unsigned>(c.trim.delay);
    tag.padding = static_cast<unsigned>(c.trim.padding);
    auto xing = xing_frame(tag);
    if (!xing) {
        refuse_malformed("stream too long for a Xing header");
    }
    return *xing + lead;
}

}  // namespace

Cut write_cut(const Stream& s, const Clip& c)
{
    Cut cut;
    cut.status = Cut::Status::Ok;
    // Without a LAME tag the cut is the stream untrimmed, from its first sample.
    const Timeline& tl = c.timeline;
    cut.start = c.trim.lame ? samples_to_micros(c.ends.sample, tl.rate) : 0;
    cut.end = c.ends.to_the_end ? Span::kToTheEnd : samples_to_micros(c.ends.end, tl.rate);
    // What the new tag says: its frames, less the delay and padding it trims.
    const std::uint64_t samples = c.frames * tl.spf;
    const std::uint64_t trimmed = c.trim.delay + c.trim.padding;
    cut.duration = samples_to_micros(samples > trimmed ? samples - trimmed : 0, tl.rate);
    if (s.tags.id3.keep) {
        const auto ms = [](Micros us) { return (static_cast<std::uint64_t>(us) + 500) / 1000; };
        emit_id3(cut.rep.extents, s.tags.id3, TagWindow{ms(cut.start), ms(cut.start + cut.duration)});
    }
    cut.rep.extents.push_back(MemoryBlock{new_frames(s, c)});  // its own block, apart from the tag's
    if (c.ends.to_the_end) {
        cut.rep.extents.push_back(FileExtent{c.first_offset, s.size - c.first_offset});
    }
    else {
        cut.rep.extents.push_back(FileExtent{c.first_offset, c.audio_end - c.first_offset});
        if (s.tags.limit < s.size) {
            cut.rep.extents.push_back(FileExtent{s.tags.limit, s.size - s.tags.limit});
        }
    }
    cut.rep.length = extents_length(cut.rep.extents);
    return cut;
}

}  // namespace mp3
}  // namespace audio_stream
