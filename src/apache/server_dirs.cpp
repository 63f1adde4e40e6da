#include "server_dirs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apr_file_info.h"
#include "unixd.h"

#include "../config_values.h"
#include "../memory_file.h"
#include "../snapshot_pool.h"

namespace audio_stream::apache {

namespace {

constexpr const char* kDefaultIndexDir = "audio-stream-index";  // under DefaultRuntimeDir

// One directive's directory: as written (reset by pre_config on every (re)start), then what
// post_config made of it.
struct ServerDir {
    const char* configured = nullptr;  // nullptr: the default
    const char* dir = nullptr;         // usable

    const char* set(cmd_parms* cmd, const char* arg, const char* what) noexcept
    {
        if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) {
            return err;
        }
        if (!*arg) {
            return what;
        }
        configured = apr_pstrdup(cmd->pool, arg);
        return nullptr;
    }
    bool none() const { return configured && std::strcmp(configured, "none") == 0; }
};

ServerDir g_index;
ServerDir g_snapshot;

void make_index_dir(apr_pool_t* pconf, server_rec* s)
{
    const char* configured = g_index.configured;
    const char* dir = configured ? ap_server_root_relative(pconf, configured)
                                 : ap_runtime_dir_relative(pconf, kDefaultIndexDir);
    if (!dir) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0060: seek index directory %s: invalid path; "
                     "each child keeps its own indexes", configured ? configured : kDefaultIndexDir);
        return;
    }
    apr_status_t rv = apr_dir_make_recursive(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, pconf);
    // The children run as User: the directory is theirs, and nobody else's to read or write.
    if (rv == APR_SUCCESS && geteuid() == 0 && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "AS0060: seek index directory %s cannot be made for the server's user; each child "
                     "keeps its own indexes", dir);
        return;
    }
    g_index.dir = dir;
}

void check_snapshot_dir(apr_pool_t* pconf, server_rec* s)
{
    // On a disk every snapshot would be written back to it; on a tmpfs without huge pages it
    // would be no faster than a memory file.
    const char* dir = ap_server_root_relative(pconf, g_snapshot.configured);
    if (!dir || !in_memory_file_system(dir) ||
        dir_page_size(dir, static_cast<std::size_t>(kMaxSnapshotSize)) <= 1) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AS0061: snapshot directory %s is not a directory on a tmpfs with huge pages "
                     "(huge=within_size); snapshots are kept in memory files instead", g_snapshot.configured);
        return;
    }
    g_snapshot.dir = dir;
}

}  // namespace

const char* set_seek_index_dir(cmd_parms* cmd, void*, const char* arg) noexcept
{
    return g_index.set(cmd, arg, "AudioStreamSeekIndexDir: a directory, or none");
}

const char* set_snapshot_dir(cmd_parms* cmd, void*, const char* arg) noexcept
{
    return g_snapshot.set(cmd, arg, "AudioStreamSnapshotDir: a directory on a tmpfs with huge pages, or none");
}

int server_dirs_pre_config(apr_pool_t*, apr_pool_t*, apr_pool_t*) noexcept
{
    g_index = ServerDir{};
    g_snapshot = ServerDir{};
    return OK;
}

int server_dirs_post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) noexcept
{
    g_index.dir = g_snapshot.dir = nullptr;
    // httpd reads the configuration twice at startup: directories are made and checked (and
    // warned of) on the second pass.
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!g_index.none()) {
        make_index_dir(pconf, s);  // the default when none is configured
    }
    if (g_snapshot.configured && !g_snapshot.none()) {
        check_snapshot_dir(pconf, s);
    }
    return OK;
}

const char* seek_index_dir() noexcept
{
    return g_index.dir;
}

const char* snapshot_dir() noexcept
{
    return g_snapshot.dir;
}

}  // namespace audio_stream::apache
