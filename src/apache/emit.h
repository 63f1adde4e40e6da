// A plan into buckets: how a body goes down is decided once per request (delivery.h) and
// carried out here, in one place: HTTP/1.x or HTTP/2, read into memory or sent as file
// buckets, in one pass or in slices.
#ifndef AUDIO_STREAM_APACHE_EMIT_H
#define AUDIO_STREAM_APACHE_EMIT_H

#include "glue.h"

#include "delivery.h"

namespace audio_stream::apache {

// Sends the plan's body (headers are set by the caller) and ends the response: the handler's
// return value. A file that proves shorter than the plan needs never yields wrong bytes under
// the promised length: before anything is sent (read, snapshot) it is a 500 (AS0030); mid-body
// the response is cut short (HTTP/1: the connection closes, log.cpp says AS0041; HTTP/2:
// AS0040, the stream is reset).
int emit(request_rec* r, apr_file_t* fd, const Plan& plan, const Delivery& how);

}  // namespace audio_stream::apache

#endif
