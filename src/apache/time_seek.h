// ?t=: the representation "this file from time t on", from the child's cut cache or made now.
#ifndef AUDIO_STREAM_APACHE_TIME_SEEK_H
#define AUDIO_STREAM_APACHE_TIME_SEEK_H

#include <memory>

#include "glue.h"

#include "../cut.h"

namespace audio_stream::apache {

// When the request asks for a time (`t` in the query and time seek on), the cut of the open
// file `fd` at that time in `cut`, with the response's ETag suffixed to name it. Otherwise
// `cut` stays null. An answer when no cut can be served: 400 (malformed t), 501 (a type
// without a cutter), 416 (past the end) or 500 (the file does not parse as its type).
Answer resolve_cut(request_rec* r, apr_file_t* fd, std::shared_ptr<const Cut>& cut);

}  // namespace audio_stream::apache

#endif
