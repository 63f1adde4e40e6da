// HLS playlists of a track (RFC 8216): its segments (runs of whole packets nearest a target
// duration), the media playlist that lists them, and the master playlist of its one variant.
// Pure text from the track's numbers: no file is read here.
#ifndef AUDIO_STREAM_HLS_PLAYLIST_H
#define AUDIO_STREAM_HLS_PLAYLIST_H

#include <cstdint>
#include <string>
#include <algorithm>
#include <string_view>

#include "../audio_track.h"
#include "../micros.h"
#include "names.h"

namespace audio_stream::hls {

// The default target duration of a segment (Apple's HLS authoring guidance: 6 s).
inline constexpr Micros kDefaultSegmentTarget = 6'000'000;

// The most segments a playlist lists (a week of 6-second segments, a playlist of ~4 MB): a file
// whose packets would make more is refused as over the budget, not listed.
inline constexpr std::uint64_t kMaxSegments = 100'000;

// Segment n holds packets [n * per_segment, ...): per_segment each, the last what is left
// (more than per_segment when a remainder under a quarter of a segment joins it, rather than
// stand alone as a segment of a few milliseconds).
struct Segmenting {
    std::uint64_t per_segment = 1;
    std::uint64_t count = 0;

    std::uint64_t first_packet(std::uint64_t n) const { return n * per_segment; }
    std::uint64_t packets_in(std::uint64_t n, const AudioTrack& t) const
    {
        const std::uint64_t first = first_packet(n);
        if (n >= count || first >= t.packets) {
            return 0;
        }
        return n + 1 == count ? t.packets - first : per_segment;
    }
    // Ticks segment n plays (the last packet's own length counted).
    std::uint64_t ticks_in(std::uint64_t n, const AudioTrack& t) const
    {
        const std::uint64_t first = first_packet(n) * t.packet_samples;
        const std::uint64_t end = std::min(t.total, (first_packet(n) + packets_in(n, t)) * t.packet_samples);
        return end > first ? end - first : 0;
    }
};

// Whole packets nearest `target` a segment (at least one).
Segmenting segmenting(const AudioTrack& track, Micros target);

// How a playlist names the segments.
struct Variant {
    SegmentForm form = SegmentForm::Packed;
    std::string_view extension;  // of the segments' names
};

// "S.ssssss": `samples` at `rate` in seconds, rounded to the microsecond.
std::string seconds_text(std::uint64_t samples, std::uint32_t rate);

// The VOD media playlist: every segment with its exact duration, the lowest EXT-X-VERSION its
// tags need (3 for decimal durations; 6 with EXT-X-MAP), EXT-X-ENDLIST.
std::string media_playlist(const AudioTrack& track, const Segmenting& seg, const Variant& variant);

// The master playlist: one variant, media_playlist's URI, its peak and average bandwidth (the
// segments' container bytes included) and codecs.
std::string master_playlist(const AudioTrack& track, const Segmenting& seg, const Variant& variant);

}  // namespace audio_stream::hls

#endif
