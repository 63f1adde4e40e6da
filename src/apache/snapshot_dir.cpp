#include "snapshot_dir.h"

#include <cstring>

#include "../config_values.h"
#include "../memory_file.h"
#include "../snapshot_pool.h"

namespace audio_stream::apache {

namespace {

// Configuration (reset by pre_config on every (re)start), then what post_config made of it.
struct SnapshotDir {
    const char* configured = nullptr;  // as written; nullptr: none
    const char* dir = nullptr;         // checked
};

SnapshotDir g;

}  // namespace

const char* set_snapshot_dir(cmd_parms* cmd, void*, const char* arg) noexcept
{
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) {
        return err;
    }
    if (!*arg) {
        return "AudioStreamSnapshotDir: a directory on a tmpfs with huge pages, or none";
    }
    g.configured = apr_pstrdup(cmd->pool, arg);
    return nullptr;
}

int snapshot_dir_pre_config(apr_pool_t*, apr_pool_t*, apr_pool_t*) noexcept
{
    g = SnapshotDir{};
    return OK;
}

int snapshot_dir_post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) noexcept
{
    g.dir = nullptr;
    // httpd reads the configuration twice at startup: one warning, on the second pass.
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG || !g.configured ||
        std::strcmp(g.configured, "none") == 0) {
        return OK;
    }
    // On a disk every snapshot would be written back to it; on a tmpfs without huge pages it
    // would be no faster than a memory file.
    const char* dir = ap_server_root_relative(pconf, g.configured);
    if (!dir || !in_memory_file_system(dir) ||
        dir_page_size(dir, static_cast<std::size_t>(kMaxSnapshotSize)) <= 1) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AS0061: snapshot directory %s is not a directory on a tmpfs with huge pages "
                     "(huge=within_size); snapshots are kept in memory files instead", g.configured);
        return OK;
    }
    g.dir = dir;
    return OK;
}

const char* snapshot_dir() noexcept
{
    return g.dir;
}

}  // namespace audio_stream::apache
