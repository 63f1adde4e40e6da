// Download counting in httpd (README, "Download counts"), the request side: what the handler
// notes of a request, and the AUDIO_* request variables, set at log time from what was actually
// sent (the shared cache they are counted in: stats_store.h).
#ifndef AUDIO_STREAM_APACHE_STATS_H
#define AUDIO_STREAM_APACHE_STATS_H

#include "glue.h"

#include <memory>

#include "../cut.h"
#include "../response_plan.h"
#include "request_state.h"

namespace audio_stream::apache {

// The handler's side, when AudioStreamStats is On for the request (each a no-op otherwise).
// The request is ours: it gets its variables whatever its outcome.
void stats_note_request(request_rec* r);
// The file is open: its layout (from the child's cache or its headers), and the derived
// representation the request is for (a cut, an HLS playlist or segment; null: the file),
// kept on r->pool when it was built in memory from file bytes that count.
void stats_note_file(request_rec* r, apr_file_t* fd, const std::shared_ptr<const Cut>& cut);
// The plan about to be sent (owned by r->pool).
void stats_note_plan(request_rec* r, const Plan& plan);
// emit's count of what was sent, or nullptr when nobody counts.
SentCount* stats_sent_counter(request_rec* r);

// log_transaction: sets the AUDIO_* variables on the request and its internal redirects.
void stats_log(request_rec* r, request_rec* owner) noexcept;

}  // namespace audio_stream::apache

#endif
