#include "playlist.h"

#include <algorithm>

namespace audio_stream::hls {

namespace {

// An upper bound of a segment's container bytes beside its packets and, for MPEG-TS, beside
// the 4-byte header of every 184 bytes: an ID3 tag of 73 bytes; a moof of a fixed part and 8
// bytes a sample (trun's duration and size) and the mdat header; PAT, PMT, up to 16 packets
// more to round the audio packets up (their counters) and a PES header a packet at most.
std::uint64_t container_bytes(const Variant& v, std::uint64_t packets)
{
    switch (v.form) {
    case SegmentForm::Packed:
        return 73;
    case SegmentForm::Ts:
        return 18 * 188 + 14 * packets;
    case SegmentForm::Fmp4:
        break;
    }
    return 160 + 8 * packets;
}

// `bits_per_second` with a segment's container bytes spread over its duration, rounded up.
std::uint64_t with_container(std::uint64_t bits_per_second, const AudioTrack& t, const Segmenting& seg,
                             const Variant& v)
{
    const std::uint64_t samples = std::max<std::uint64_t>(1, std::min(seg.per_segment, t.packets) * t.packet_samples);
    const std::uint64_t bits = container_bytes(v, seg.per_segment) * 8;
    const std::uint64_t carried = v.form == SegmentForm::Ts ? (bits_per_second * 188 + 183) / 184 : bits_per_second;
    return carried + (bits * t.rate + samples - 1) / samples;
}

}  // namespace

Segmenting segmenting(const AudioTrack& track, Micros target)
{
    Segmenting s;
    if (track.packet_samples == 0 || track.rate == 0 || track.packets == 0) {
        return s;
    }
    const std::uint64_t per_second = track.packet_samples * 1'000'000;
    const auto t = static_cast<std::uint64_t>(std::max<Micros>(target, 1));
    s.per_segment = std::max<std::uint64_t>(1, (t * track.rate + per_second / 2) / per_second);
    s.count = (track.packets + s.per_segment - 1) / s.per_segment;
    const std::uint64_t left = track.packets % s.per_segment;
    if (s.count > 1 && left != 0 && left < (s.per_segment + 3) / 4) {
        --s.count;  // the remainder joins the last whole segment
    }
    return s;
}

std::string seconds_text(std::uint64_t samples, std::uint32_t rate)
{
    const std::uint64_t micros = (samples * 1'000'000 + rate / 2) / rate;
    std::string fraction = std::to_string(micros % 1'000'000);
    fraction.insert(0, 6 - fraction.size(), '0');
    return std::to_string(micros / 1'000'000) + "." + fraction;
}

std::string media_playlist(const AudioTrack& track, const Segmenting& seg, const Variant& variant)
{
    // EXTINF rounded to the nearest integer may not exceed the target duration (RFC 8216 §4.3.3.1).
    const std::uint64_t longest = seg.count == 0 ? 0 : std::max(seg.ticks_in(0, track), seg.ticks_in(seg.count - 1, track));
    const std::uint64_t target = (longest * 2 + track.rate) / (2 * std::uint64_t{track.rate});
    const bool fmp4 = variant.form == SegmentForm::Fmp4;
    std::string out = "#EXTM3U\n#EXT-X-VERSION:";
    out += fmp4 ? "6" : "3";
    out += "\n#EXT-X-TARGETDURATION:" + std::to_string(std::max<std::uint64_t>(target, 1));
    out += "\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n";
    if (fmp4) {
        out += "#EXT-X-MAP:URI=\"";
        out += kInitName;
        out += "\"\n";
    }
    for (std::uint64_t n = 0; n < seg.count; ++n) {
        out += "#EXTINF:" + seconds_text(seg.ticks_in(n, track), track.rate) + ",\n";
        out += segment_name(n, variant.extension) + "\n";
    }
    out += "#EXT-X-ENDLIST\n";
    return out;
}

std::string master_playlist(const AudioTrack& track, const Segmenting& seg, const Variant& variant)
{
    const std::uint64_t peak = std::max<std::uint64_t>(track.peak_bitrate, track.average_bitrate());
    std::string out = "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=";
    out += std::to_string(with_container(peak, track, seg, variant));
    out += ",AVERAGE-BANDWIDTH=" + std::to_string(with_container(track.average_bitrate(), track, seg, variant));
    out += ",CODECS=\"";
    out += track.codecs;
    out += "\"\n";
    out += kMediaName;
    out += "\n";
    return out;
}

}  // namespace audio_stream::hls
