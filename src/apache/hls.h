// HLS from the file itself (`episode.mp3/index.m3u8`, `episode.mp3/master.m3u8`, its segments):
// the request's path info names a playlist or segment of the file, served as a representation
// of its own (from the child's cut cache, or made now from the file's packets).
#ifndef AUDIO_STREAM_APACHE_HLS_H
#define AUDIO_STREAM_APACHE_HLS_H

#include <memory>

#include "glue.h"

#include "../cut.h"

namespace audio_stream::apache {

// Whether the request names something under the file (path info) that HLS may answer.
bool wants_hls(const request_rec* r);

// The playlist or segment the path info names, in `rep` (its ETag suffixed to name it), and its
// media type in `type` (to be set once the file's own type has served download counting). An
// answer when none can be served: 404 (not an HLS name, a segment past the end, a file or codec
// with no HLS form), 500 (the file does not parse as its type), 501 (over a request's budget).
Answer resolve_hls(request_rec* r, apr_file_t* fd, std::shared_ptr<const Cut>& rep, const char*& type);

}  // namespace audio_stream::apache

#endif
