// The handler of `SetHandler audio-stream`: the request as named steps.
#ifndef AUDIO_STREAM_APACHE_HANDLER_H
#define AUDIO_STREAM_APACHE_HANDLER_H

#include "glue.h"

namespace audio_stream::apache {

// The handler hook: DECLINED for other handlers; an exception firewall (nothing C++ crosses
// into httpd).
int handler(request_rec* r) noexcept;

}  // namespace audio_stream::apache

#endif
