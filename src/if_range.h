// If-Range (RFC 9110 §13.1.5): does the client's validator still name this representation?
#ifndef AUDIO_STREAM_IF_RANGE_H
#define AUDIO_STREAM_IF_RANGE_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace audio_stream {

// Seconds since the epoch, as in an HTTP-date.
using UnixSeconds = std::int64_t;

// Parses an HTTP-date in any of the three forms a recipient must accept (RFC 9110 §5.6.7).
std::optional<UnixSeconds> parse_http_date(std::string_view text);

// True when the Range header should be honoured. `etag` is the current ETag as sent (strong or
// W/ weak, empty if none); `last_modified` and `now` are the file's mtime and the request time.
bool if_range_matches(std::string_view if_range, std::string_view etag, UnixSeconds last_modified,
                      UnixSeconds now);

}  // namespace audio_stream

#endif
