// log_transaction: what can only be said once the response is over.
#ifndef AUDIO_STREAM_APACHE_LOG_H
#define AUDIO_STREAM_APACHE_LOG_H

#include "glue.h"

#include "../representation.h"

namespace audio_stream::apache {

// Keeps, for log_transaction, what a file-bucket body promised: over HTTP/1.1 the core
// writes the file after the handler has returned, so only then can a shrunk file be seen.
// `needed_end`: one past the last file byte the body needs.
void remember_sent_file(request_rec* r, Offset needed_end);

// The log_transaction hook.
int log_transaction(request_rec* r) noexcept;

}  // namespace audio_stream::apache

#endif
