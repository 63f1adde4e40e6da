// Download counting in httpd (README, "Download counts"): the AudioStreamStatsCache directive,
// the shared cache (a mod_socache provider) made at post_config and joined by every child,
// and the AUDIO_* request variables, set at log time from what was actually sent.
#ifndef AUDIO_STREAM_APACHE_STATS_H
#define AUDIO_STREAM_APACHE_STATS_H

#include "glue.h"

#include "../response_plan.h"
#include "request_state.h"

namespace audio_stream::apache {

// AudioStreamStatsCache provider[:args] (server config only): the provider must be loaded.
const char* set_stats_cache(cmd_parms* cmd, void* conf, const char* arg) noexcept;
// Told by the AudioStreamStats setter: On anywhere in the configuration needs a cache.
void note_stats_setting(apr_int64_t value) noexcept;

int stats_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) noexcept;
// Fails the configuration (configtest too) when AudioStreamStats On has no cache to use.
int stats_check_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;
int stats_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;
void stats_child_init(apr_pool_t* pchild, server_rec* s) noexcept;

// The handler's side, when AudioStreamStats is On for the request (each a no-op otherwise).
// The request is ours: it gets its variables whatever its outcome.
void stats_note_request(request_rec* r);
// The file is open: its layout (from the child's cache or its headers).
void stats_note_file(request_rec* r, apr_file_t* fd, bool cut);
// The plan about to be sent (owned by r->pool).
void stats_note_plan(request_rec* r, const Plan& plan);
// emit's count of what was sent, or nullptr when nobody counts.
SentCount* stats_sent_counter(request_rec* r);

// log_transaction: sets the AUDIO_* variables on the request and its internal redirects.
void stats_log(request_rec* r, request_rec* owner) noexcept;

}  // namespace audio_stream::apache

#endif
