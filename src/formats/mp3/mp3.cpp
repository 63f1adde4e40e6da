#include "mp3.h"

#include "write.h"

namespace audio_stream {

namespace {

// How long the stream plays: the Xing/Info frame count on the player's timeline, else the audio
// bytes at the first audio frame's bitrate (exact for CBR, an estimate for VBR).
Micros duration_of(const mp3::Stream& s)
{
    if (s.tag.frames > 0) {
        const mp3::Timeline tl = mp3::timeline_of(s.head, s.tag, s.tag.frames);
        return samples_to_micros(tl.samples(), tl.rate);
    }
    return static_cast<Micros>(mp3::mul_div(s.tags.limit - s.audio, 8000, s.audio_head.bitrate));
}

}  // namespace

Cut cut_mp3(ByteSource& src, const Span& span, IndexSource& indexes)
{
    return as_cut([&] {
        mp3::Reader r(src);
        const mp3::Stream s = mp3::read_stream(r, mp3::read_tags(r));
        const mp3::Clip clip = mp3::locate(r, s, span, indexes);
        if (r.failed()) {
            refuse_malformed("read error");
        }
        return mp3::write_cut(r, s, clip);
    });
}

Cut cut_mp3(ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_mp3(src, span, none);
}

AudioLayout layout_mp3(ByteSource& src)
{
    mp3::Reader r(src);
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        const mp3::Tags tags = mp3::read_tags(r);
        l.audio_start = tags.id3.end;
        l.audio_end = tags.limit;
        l.duration = duration_of(mp3::read_stream(r, tags));
    });
    return l;
}

}  // namespace audio_stream
