// Download counting over HTTP/2: the body bytes that went out on a stream, not those handed to
// mod_http2.
#ifndef AUDIO_STREAM_APACHE_H2_SENT_H
#define AUDIO_STREAM_APACHE_H2_SENT_H

#include <optional>

#include "glue.h"

#include "request_state.h"

namespace audio_stream::apache {

// The body bytes of `owner`'s response (of `length`) that went out on its HTTP/2 stream, at log
// time. Since httpd 2.4.58 mod_http2 credits the frame bytes it wrote for a stream to the
// stream's connection in mod_logio's count when the stream ends, before the request is logged.
// - A stream that ended (END_STREAM sent, the connection not aborted) after every byte was
//   handed on, or one for which mod_http2 wrote at least the frames of the whole body (a client
//   that closed its connection right after it, as curl does): all of it.
// - One the client reset or left before: the frame bytes less an upper bound of the response
//   head's frame and 9 bytes per 8 KiB of DATA frame headers, and at most the windows handed on
//   before the last. A client whose window stayed 0 gets nothing; one that read part of the
//   body, at most what it read. The one way past it: a whole body handed on (a small file) that
//   a client drew in frames of a few bytes, pacing its window, each frame's 9-byte header
//   standing in for body.
// nullopt where the count is not kept (mod_logio not loaded, an older httpd): the caller falls
// back on what was handed on.
std::optional<Offset> h2_body_written(const request_rec* owner, const SentCount& sent, Offset length);

}  // namespace audio_stream::apache

#endif
