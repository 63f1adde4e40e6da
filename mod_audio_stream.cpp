// mod_audio_stream: the module record and its hooks. The adapter to httpd lives in src/apache/
// (config, child, handler, emit, log, time_seek); the logic it adapts, in plain C++, in src/.
#include "src/apache/child.h"
#include "src/apache/config.h"
#include "src/apache/glue.h"
#include "src/apache/handler.h"
#include "src/apache/server_dirs.h"
#include "src/apache/log.h"
#include "src/apache/stats_store.h"

namespace {

namespace as = audio_stream::apache;

// Each callback httpd calls is noexcept or an exception firewall (see their declarations).
// Order: only log_transaction depends on another module's (see there); the rest run at
// APR_HOOK_MIDDLE.
void register_hooks(apr_pool_t*)
{
    // Download counting's shared cache: its mutex type, a check that AudioStreamStats On has a
    // cache (configtest too), the cache made once in the parent.
    ap_hook_pre_config(as::stats_pre_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_check_config(as::stats_check_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_post_config(as::stats_post_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    // The directories the children share: the seek indexes' (made for the user they run as) and
    // the snapshot files' (checked to be in memory).
    ap_hook_pre_config(as::server_dirs_pre_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_post_config(as::server_dirs_post_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    // Per child: the caches of cuts, seek indexes and layouts and the snapshot pool its threads
    // share (made after the fork, so never shared between processes).
    ap_hook_child_init(as::child_init, nullptr, nullptr, APR_HOOK_MIDDLE);
    // The handler answers `SetHandler audio-stream` and declines everything else.
    ap_hook_handler(as::handler, nullptr, nullptr, APR_HOOK_MIDDLE);
    // After the response: what only its end can tell (a file that shrank under sendfile, the
    // bytes sent for download counting). Before mod_log_config, which logs the AUDIO_*
    // variables this sets.
    static const char* const before[] = {"mod_log_config.c", nullptr};
    ap_hook_log_transaction(as::log_transaction, nullptr, before, APR_HOOK_FIRST);
}

}  // namespace

// Declared (with C linkage) and used for logging in src/apache/glue.h.
extern "C" {
module AP_MODULE_DECLARE_DATA audio_stream_module = {
    STANDARD20_MODULE_STUFF,
    as::create_dir_config,
    as::merge_dir_config,
    as::create_server_config,
    nullptr,  // no server merge: the server record holds only the child's state (caches, pool)
    as::directives,
    register_hooks,
    AP_MODULE_FLAG_NONE,
};
}
