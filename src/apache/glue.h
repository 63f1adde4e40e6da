// The httpd side of the module: the headers every file of src/apache needs, in the order httpd
// wants them, and the module record they log under. Only mod_audio_stream.cpp and src/apache/
// include httpd headers; the rest of src/ is plain C++ (APR allowed).
#ifndef AUDIO_STREAM_APACHE_GLUE_H
#define AUDIO_STREAM_APACHE_GLUE_H

#include <optional>

#include "httpd.h"  // first: the other httpd headers depend on it
#include "apr_buckets.h"
#include "apr_strings.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

// The module record is defined in mod_audio_stream.cpp; C linkage, as httpd looks it up.
extern "C" {
extern module AP_MODULE_DECLARE_DATA audio_stream_module;
}
// Every translation unit that logs needs its own module index for ap_log_rerror.
APLOG_USE_MODULE(audio_stream);

namespace audio_stream::apache {

// What a step of the handler decides: nullopt lets the request go on to the next step; a
// status answers it (OK when the step has sent the response itself).
using Answer = std::optional<int>;

}  // namespace audio_stream::apache

#endif
