#include "playlist.h"

#include <algorithm>

#include "ts.h"

namespace audio_stream::hls {

namespace {

// A segment's container bytes beside its packets, at most (`peak`) or on average: an ID3 tag of
// 73 bytes; a moof of a fixed part, 8 bytes a sample (trun's duration and size) and the mdat
// header; for MPEG-TS, PAT and PMT, the audio packets rounded up to 16 (their counters: 7.5 more
// on average), and a PES header and its last packet's stuffing (under 184 bytes, 92 on average)
// every kTsFramesPerPes frames, all in 188-byte packets of 184 bytes of payload.
std::uint64_t container_bytes(const Variant& v, std::uint64_t packets, bool peak)
{
    switch (v.form) {
    case SegmentForm::Packed:
        return 73;
    case SegmentForm::Ts: {
        const std::uint64_t pes = (packets + kTsFramesPerPes - 1) / kTsFramesPerPes;
        const std::uint64_t in_packets = pes * (14 + (peak ? 183 : 92)) + 8;  // + the PCR's field
        return (peak ? 18 : 10) * kTsPacket + (in_packets * kTsPacket + 183) / 184;
    }
    case SegmentForm::Fmp4:
        break;
    }
    return 160 + 8 * packets;
}

// `bits_per_second` of packets with a segment's container bytes spread over its duration (the
// shortest segment's for the peak, the average's else; and, for MPEG-TS, 188 bytes for every 184
// of them), rounded up.
std::uint64_t with_container(std::uint64_t bits_per_second, const AudioTrack& t, const Segmenting& seg,
                             const Variant& v, bool peak)
{
    if (seg.count == 0) {
        return bits_per_second;
    }
    const std::uint64_t shortest = std::min(seg.ticks_in(0, t), seg.ticks_in(seg.count - 1, t));
    const std::uint64_t samples = std::max<std::uint64_t>(1, peak ? shortest : t.total / seg.count);
    const std::uint64_t bits = container_bytes(v, seg.per_segment, peak) * 8;
    const std::uint64_t carried =
        v.form == SegmentForm::Ts ? (bits_per_second * kTsPacket + 183) / 184 : bits_per_second;
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
    rate = std::max<std::uint32_t>(rate, 1);  // the readers refuse a rate of 0
    const std::uint64_t micros = (samples * 1'000'000 + rate / 2) / rate;
    std::string fraction = std::to_string(micros % 1'000'000);
    fraction.insert(0, 6 - fraction.size(), '0');
    return std::to_string(micros / 1'000'000) + "." + fraction;
}

std::string media_playlist(const AudioTrack& track, const Segmenting& seg, const Variant& variant)
{
    // EXTINF rounded to the nearest integer may not exceed the target duration (RFC 8216 §4.3.3.1).
    const std::uint64_t longest = seg.count == 0 ? 0 : std::max(seg.ticks_in(0, track), seg.ticks_in(seg.count - 1, track));
    const std::uint64_t rate = std::max<std::uint32_t>(track.rate, 1);
    const std::uint64_t target = (longest * 2 + rate) / (2 * rate);
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
    out += std::to_string(with_container(peak, track, seg, variant, true));
    out += ",AVERAGE-BANDWIDTH=" + std::to_string(with_container(track.average_bitrate(), track, seg, variant, false));
    out += ",CODECS=\"";
    out += track.codecs;
    out += "\"\n";
    out += kMediaName;
    out += "\n";
    return out;
}

}  // namespace audio_stream::hls
