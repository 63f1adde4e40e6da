// Built-in Content-Type table for audio files, used when mod_mime has set none.
#ifndef AUDIO_STREAM_AUDIO_TYPES_H
#define AUDIO_STREAM_AUDIO_TYPES_H

#include <string_view>

namespace audio_stream {

inline constexpr std::string_view kUnknownType = "application/octet-stream";

// The media type for a file name by its extension (case-insensitive), or kUnknownType.
// The returned view refers to static storage.
std::string_view audio_type_for_path(std::string_view path);

}  // namespace audio_stream

#endif
