// The shared cache of download counting: the AudioStreamStatsCache directive, the mod_socache
// provider made at post_config and joined by every child, and the one call the request side
// (stats.h) records a listen with.
#ifndef AUDIO_STREAM_APACHE_STATS_STORE_H
#define AUDIO_STREAM_APACHE_STATS_STORE_H

#include "glue.h"

#include "../stats/tally.h"

namespace audio_stream::apache {

// AudioStreamStatsCache provider[:args] (server config only): the provider must be loaded.
const char* set_stats_cache(cmd_parms* cmd, void* conf, const char* arg) noexcept;
// AudioStreamStatsSecret /path (server config only): the file's bytes (at least 16, trailing
// white space not counted) are mixed into the daily salt (stats/listener.h, keyed_salt).
const char* set_stats_secret(cmd_parms* cmd, void* conf, const char* arg) noexcept;
// Told by the AudioStreamStats setter: On anywhere in the configuration needs a cache.
void note_stats_setting(apr_int64_t value) noexcept;

int stats_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) noexcept;
// Fails the configuration (configtest too) when AudioStreamStats On has no cache to use.
int stats_check_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;
int stats_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;
void stats_child_init(apr_pool_t* pchild, server_rec* s) noexcept;

// The verdict on `listen`, from the shared cache when there is one (alone in this child when it
// could not be made), and the cache's health noted.
stats::Verdict record_listen(request_rec* owner, const stats::Listen& listen);

}  // namespace audio_stream::apache

#endif
