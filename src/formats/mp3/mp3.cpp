// Time-seek cuts and clips of MPEG-1/2/2.5 Layer III files (CBR and VBR): a fresh Xing/Info
// frame in memory whose counts and LAME tag describe the clip, then the audio frames from a
// frame or two before START to the one holding END's last sample as a file extent (a short clip
// keeps six frames). Exact to the sample at both ends for gapless players (the LAME tag's
// encoder delay and end padding).
// stream.h (the file read) -> locate.h (the frames of a span) -> write.h (the clip).
#include "../formats.h"

#include "write.h"

namespace audio_stream {

namespace {

// The smallest frame of the stream: at its version's lowest bitrate (index 1: 32 kbit/s for
// MPEG-1, 8 kbit/s for MPEG-2 and 2.5), unpadded. Every frame of the stream is at least this
// long (free format, the one way below it, is not read).
Offset smallest_frame(const mp3::Stream& s) { return mp3::size_like(s.audio_raw, 1); }

// How long the stream plays: the Xing/Info frame count on the player's timeline, else the audio
// bytes at the first audio frame's bitrate (exact for CBR, an estimate for VBR). A frame count
// that the audio bytes cannot hold even in the smallest frames is a lie (hours claimed for a
// few kilobytes): the bytes at the first frame's bitrate then.
Micros duration_of(const mp3::Stream& s)
{
    if (s.tag.frames > 0 && s.tag.frames * smallest_frame(s) <= s.tags.limit - s.tags.id3.end) {
        const mp3::Timeline tl = mp3::timeline_of(s.head, s.tag, s.tag.frames);
        return samples_to_micros(tl.samples(), tl.rate);
    }
    return static_cast<Micros>(mp3::mul_div(s.tags.limit - s.audio, 8000, s.audio_head.bitrate));
}

// The floor of the threshold: a stream of nothing but the smallest frames, the lowest average
// any real stream of this version and sample rate has (31,850 bit/s at 44.1 kHz MPEG-1, not 32
// kbit/s: an unpadded 32 kbit/s frame is 104 bytes, not 104.5).
std::uint64_t floor_bitrate_of(const mp3::Stream& s)
{
    return mp3::mul_div(smallest_frame(s) * 8, s.audio_head.sample_rate, s.audio_head.samples);
}

}  // namespace

// The cut of the MP3 file in `src` over `span`, on the timeline a gapless player shows (the
// LAME/Lavf/Lavc encoder delay and padding honoured), or on the decoder's when the file has no
// LAME tag. A stream that is not CBR is walked once for its seek index (mp3::FrameIndex, from
// `indexes`); a CBR one is found by arithmetic. See timeline.h and locate.h for the choices made.
Cut cut_mp3(ByteSource& src, const Span& span, IndexSource& indexes)
{
    return as_cut([&] {
        mp3::Reader r(src);
        const mp3::Stream s = mp3::read_stream(r, mp3::read_tags(r));
        const mp3::Clip clip = mp3::locate(r, s, span, indexes);
        if (r.failed()) {
            refuse_malformed("read error");
        }
        return mp3::write_cut(s, clip);
    });
}

// The same with an index of its own, made for this cut alone.
Cut cut_mp3(ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_mp3(src, span, none);
}

// Where the audio lies (after the ID3v2 tags, before ID3v1/APE) and how long it plays: the
// Xing/Info frame count (less the LAME encoder delay and padding) when the bytes can hold it,
// else the first frame's bitrate over the audio bytes; the floor, the smallest frames'
// bitrate. Duration 0 when no frame is found.
AudioLayout layout_mp3(ByteSource& src)
{
    mp3::Reader r(src);
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        const mp3::Tags tags = mp3::read_tags(r);
        l.audio_start = tags.id3.end;
        l.audio_end = tags.limit;
        const mp3::Stream s = mp3::read_stream(r, tags);
        l.duration = duration_of(s);
        l.floor_bitrate = floor_bitrate_of(s);
    });
    return l;
}

}  // namespace audio_stream
