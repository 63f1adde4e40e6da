// What an HLS URL under a file names: `episode.mp3/master.m3u8`, `episode.mp3/index.m3u8`, the
// init segment `episode.mp3/init.mp4` and the media segments `episode.mp3/seg-N.<ext>`, N from 0
// in plain decimal. Each name has one spelling, so one resource has one URL (and one entry in
// every cache in front of the server).
#ifndef AUDIO_STREAM_HLS_NAMES_H
#define AUDIO_STREAM_HLS_NAMES_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace audio_stream::hls {

// How a segment holds its packets (RFC 8216 §3): packed audio (an ID3 tag with the
// transportStreamTimestamp PRIV frame, then the elementary stream), MPEG-TS, or fragmented MP4
// (CMAF).
enum class SegmentForm { Packed, Ts, Fmp4 };

enum class Resource { Master, Media, Init, Segment };

struct Name {
    Resource resource = Resource::Media;
    std::uint64_t segment = 0;  // for Segment
};

// The largest segment number a name may carry: far above any file's count, far below overflow.
inline constexpr std::uint64_t kMaxSegmentNumber = 999'999'999;

// The resource `path` names (the request's path info, with its leading slash), or nullopt for
// anything else: another name, a number with leading zeros or beyond kMaxSegmentNumber, a
// segment extension that is not `extension`, or an init segment for packed audio.
std::optional<Name> parse_name(std::string_view path, SegmentForm form, std::string_view extension);

// The segment's name, relative to the playlist: "seg-N.<extension>".
std::string segment_name(std::uint64_t n, std::string_view extension);

inline constexpr std::string_view kMasterName = "master.m3u8";
inline constexpr std::string_view kMediaName = "index.m3u8";
inline constexpr std::string_view kInitName = "init.mp4";

}  // namespace audio_stream::hls

#endif
