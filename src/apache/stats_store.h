// The shared cache of download counting: the AudioStreamStatsCache and AudioStreamStatsSecret
// directives, the mod_socache instance made at post_config and joined by every child (its
// adapter: socache_store.h), its health (AS0052/AS0053), and the one call the request side
// (stats.h) records a listen with. All of it hangs off the server records (config.h).
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
// Told by the AudioStreamStats setter: On anywhere in the configuration files needs a cache.
void note_stats_setting(cmd_parms* cmd, apr_int64_t value) noexcept;

int stats_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) noexcept;
// Fails the configuration (configtest too) when AudioStreamStats On has no cache to use.
int stats_check_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;
int stats_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s) noexcept;
// The child's Tally, owned by pchild; null (with one AS0098 line) when the cache cannot be
// joined: the child then counts each request alone.
stats::Tally* stats_child_init(apr_pool_t* pchild, server_rec* s) noexcept;

// The verdict on `listen`, from the shared cache when there is one (alone in this child when it
// could not be made), and the cache's health noted.
stats::Verdict record_listen(request_rec* owner, const stats::Listen& listen);

}  // namespace audio_stream::apache

#endif
