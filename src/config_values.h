// Parsing of directive arguments, so that a bad value is refused at configtest with a message
// naming the directive and the value.
#ifndef AUDIO_STREAM_CONFIG_VALUES_H
#define AUDIO_STREAM_CONFIG_VALUES_H

#include <optional>
#include <string_view>

#include "piece_window.h"

namespace audio_stream {

// Largest size we accept: 1 PiB, far above any file and far below any overflow.
inline constexpr Offset kMaxSize = Offset{1} << 50;

// "8388608", "512K", "8M", "1G" (suffix case-insensitive, binary multiples). nullopt if bad.
std::optional<Offset> parse_size(std::string_view text);

// The largest AudioStreamReadThreshold we accept: the buffer of one request is at most this.
inline constexpr Offset kMaxReadThreshold = Offset{16} << 20;

// AudioStreamReadThreshold: a size as parse_size takes it ("64K"), at most kMaxReadThreshold;
// 0 means "always sendfile". nullopt if bad.
std::optional<Offset> parse_read_threshold(std::string_view text);

// "media" | "all" (case-insensitive).
std::optional<PieceScope> parse_scope(std::string_view text);

// A positive count up to 100000, or "unlimited" (returned as 0).
std::optional<unsigned> parse_max_ranges(std::string_view text);

// AudioStreamSnapshotSize: a size as parse_size takes it, at most kMaxSnapshotSize (the
// address space each snapshot slot reserves); 0 means "never snapshot". nullopt if bad.
inline constexpr Offset kMaxSnapshotSize = Offset{16} << 20;
std::optional<Offset> parse_snapshot_size(std::string_view text);

// AudioStreamHLSMP3: "ts" | "packed" (case-insensitive), as false | true (packed audio).
std::optional<bool> parse_hls_mp3_packed(std::string_view text);

// "on" | "off" (case-insensitive), as true | false.
std::optional<bool> parse_on_off(std::string_view text);

}  // namespace audio_stream

#endif
