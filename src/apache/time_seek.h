// ?t=: the representation "this file from START on" or "from START to END", from the child's
// cut cache or made now.
#ifndef AUDIO_STREAM_APACHE_TIME_SEEK_H
#define AUDIO_STREAM_APACHE_TIME_SEEK_H

#include <memory>

#include "glue.h"

#include "../cut.h"

namespace audio_stream::apache {

// When the request asks for a time or a span (`t` in the query and time seek on), the cut or
// clip of the open file `fd` in `cut`, with the response's ETag suffixed to name it. Otherwise
// `cut` stays null. An answer when none can be served: 400 (a malformed t or span), 501 (a type
// without a cutter, or a file it does not cut), 416 (START past the end) or 500 (the file does
// not parse as its type).
Answer resolve_cut(request_rec* r, apr_file_t* fd, std::shared_ptr<const Cut>& cut);

}  // namespace audio_stream::apache

#endif
