#include "stream.h"

namespace audio_stream {
namespace mp3 {

namespace {

// An "Info" frame is trusted for arithmetic when its frame count matches the bytes within 1%:
// ISO/IEC 11172-3 §2.4.3.1, a frame holds 144 (MPEG-1) or 72 (ISO/IEC 13818-3) bytes per kbit/s
// over the sample rate in kHz.
bool plausible_cbr(const Stream& s, const std::optional<Head>& audio)
{
    if (!s.tag.info || s.tag.frames == 0 || !audio) {
        return false;
    }
    const Mp3Header& h = audio->header;
    const double per_frame = (h.lsf ? 72000.0 : 144000.0) * h.bitrate / h.sample_rate;
    const double actual = static_cast<double>(s.tags.limit - s.audio) / s.tag.frames;
    return actual > per_frame * 0.99 && actual < per_frame * 1.01;
}

}  // namespace

Tags read_tags(Reader& r)
{
    Tags t;
    t.id3 = read_id3v2(r);
    t.limit = trailing_tags_start(r, t.id3.end);
    return t;
}

Stream read_stream(Reader& r, const Tags& tags)
{
    Stream s;
    s.tags = tags;
    s.size = r.size();
    const Offset at = resync(r, tags.id3.end, tags.limit, 0);
    const auto first = frame_at(r, at, tags.limit);
    if (!first) {
        refuse_malformed(r.failed() ? "read error" : "no MPEG Layer III frames");
    }
    s.ref = first->raw;
    s.head = first->header;
    s.tag = read_vbr_tag(r, at, s.head);
    s.audio = s.tag.found ? at + s.head.size : at;
    s.audio_raw = s.ref;
    s.audio_head = s.head;
    auto audio = frame_at(r, s.audio, tags.limit);
    if (audio && !same_stream(s.ref, audio->raw)) {
        audio.reset();
    }
    if (audio) {
        s.audio_raw = audio->raw;
        s.audio_head = audio->header;
    }
    s.cbr = plausible_cbr(s, audio);
    return s;
}

}  // namespace mp3
}  // namespace audio_stream
