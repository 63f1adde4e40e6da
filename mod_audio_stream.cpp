// mod_audio_stream: the module record and its hooks. The adapter to httpd lives in src/apache/
// (config, child, handler, emit, log, time_seek); the logic it adapts, in plain C++, in src/.
#include "src/apache/child.h"
#include "src/apache/config.h"
#include "src/apache/glue.h"
#include "src/apache/handler.h"
#include "src/apache/log.h"

namespace {

namespace as = audio_stream::apache;

// Each callback httpd calls is noexcept or an exception firewall (see their declarations).
// Order: none of our hooks depends on another module's, so all run at APR_HOOK_MIDDLE.
void register_hooks(apr_pool_t*)
{
    // Per child: the cut cache and snapshot pool its threads share (made after the fork, so
    // never shared between processes).
    ap_hook_child_init(as::child_init, nullptr, nullptr, APR_HOOK_MIDDLE);
    // The handler answers `SetHandler audio-stream` and declines everything else.
    ap_hook_handler(as::handler, nullptr, nullptr, APR_HOOK_MIDDLE);
    // After the response: what only its end can tell (a file that shrank under sendfile).
    ap_hook_log_transaction(as::log_transaction, nullptr, nullptr, APR_HOOK_MIDDLE);
}

}  // namespace

// Declared (with C linkage) and used for logging in src/apache/glue.h.
extern "C" {
module AP_MODULE_DECLARE_DATA audio_stream_module = {
    STANDARD20_MODULE_STUFF,
    as::create_dir_config,
    as::merge_dir_config,
    as::create_server_config,
    nullptr,  // no server merge: the only server setting is the child's cut cache
    as::directives,
    register_hooks,
    AP_MODULE_FLAG_NONE,
};
}
