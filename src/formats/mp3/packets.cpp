// An MP3 stream as packets for HLS: its audio frames (the Xing/Info frame left out), found as a
// cut finds them (frame_map.h): by arithmetic in a CBR stream whose Info frame counts them,
// else through the stream's seek index, made once per file. A run of frames is one file extent
// (more only where junk lies between frames), each frame's size beside it.
#include "../formats.h"

#include <algorithm>
#include <memory>

#include "frame_map.h"

namespace audio_stream {

namespace {

// Frames [first, first + count) through `map`, or nullopt when it cannot find all of them
// (CBR: junk, or a short file where the arithmetic expects them).
std::optional<PacketRun> run_in(mp3::FrameMap& map, std::uint64_t first, std::uint64_t count)
{
    const auto run = map.run(first, first + count - 1);
    if (!run || run->first != first || run->frames.size() != count) {
        return std::nullopt;
    }
    PacketRun out;
    out.status = Cut::Status::Ok;
    out.sizes.reserve(run->frames.size());
    for (const mp3::FrameInfo& f : run->frames) {
        append_file(out.data, f.offset, f.size);
        out.sizes.push_back(f.size);
    }
    return out;
}

// The largest frame's bitrate, from the index.
std::uint32_t peak_of(const mp3::FrameIndex& x, const mp3::Stream& s)
{
    unsigned largest = 0;
    for (const auto& e : x.frames) {
        largest = std::max(largest, static_cast<unsigned>(e.packed & 0x7FF));
    }
    return static_cast<std::uint32_t>(mp3::mul_div(Offset{largest} * 8, s.audio_head.sample_rate, s.audio_head.samples));
}

}  // namespace

// The stream's frames as packets: counted by its Info frame when CBR, else by its index.
AudioTrack track_mp3(ByteSource& src, IndexSource& indexes)
{
    return read_judged<AudioTrack>([&](AudioTrack& t) {
        mp3::Reader r(src);
        const mp3::Stream s = mp3::read_stream(r, mp3::read_tags(r));
        t.codec = AudioCodec::Mp3;
        t.rate = s.audio_head.sample_rate;
        t.sample_rate = t.rate;
        t.codecs = "mp4a.40.34";
        t.channels = s.audio_head.mono ? 1 : 2;
        t.packet_samples = s.audio_head.samples;
        mp3::CbrFrames cbr(r, s);
        // The Info frame's count, when its last frame is where the arithmetic puts it (a file
        // cut short by up to 1% still looks CBR: then the index counts what is there).
        if (s.cbr && s.tag.frames > 0 && cbr.run(s.tag.frames - 1, s.tag.frames - 1)) {
            t.packets = s.tag.frames;
            t.audio_bytes = s.tags.limit - s.audio;
            t.peak_bitrate = s.audio_head.bitrate * 1000;
        }
        else {
            const auto index = mp3::stream_index(r, s, indexes);
            t.packets = index->frames.size();
            t.audio_bytes = index->audio_end - index->base;
            t.peak_bitrate = peak_of(*index, s);
        }
        t.total = t.packets * t.packet_samples;
        if (r.failed()) {
            refuse_malformed("read error");
        }
    });
}

// Frames [first, first + count) of the stream, count >= 1: by arithmetic when CBR, else (or
// where the arithmetic does not find them) from the index.
PacketRun packets_mp3(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count)
{
    return read_judged<PacketRun>([&](PacketRun& out) {
        mp3::Reader r(src);
        const mp3::Stream s = mp3::read_stream(r, mp3::read_tags(r));
        std::optional<PacketRun> run;
        if (s.cbr) {
            mp3::CbrFrames cbr(r, s);
            run = run_in(cbr, first, count);
        }
        if (!run) {
            const auto index = mp3::stream_index(r, s, indexes);
            mp3::IndexedFrames indexed(*index);
            run = run_in(indexed, first, count);
        }
        if (!run || r.failed()) {
            refuse_malformed(r.failed() ? "read error" : "MP3 frames missing from the stream");
        }
        out = std::move(*run);
    });
}

}  // namespace audio_stream
