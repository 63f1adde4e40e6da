// Which cutter serves a media type.
#ifndef AUDIO_STREAM_FORMATS_DISPATCH_H
#define AUDIO_STREAM_FORMATS_DISPATCH_H

#include <optional>
#include <string_view>

#include "cut.h"

namespace audio_stream {

// The cut of a file of `content_type` (parameters ignored) at t, or nullopt when no cutter
// knows the type.
std::optional<Cut> cut_for_type(std::string_view content_type, ByteSource& src, Micros t);

// True when cut_for_type knows the type.
bool can_cut_type(std::string_view content_type);

}  // namespace audio_stream

#endif
