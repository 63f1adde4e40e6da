#include "index_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "apr_file_info.h"
#include "unixd.h"

namespace audio_stream::apache {

namespace {

constexpr const char* kDefaultDir = "audio-stream-index";  // under DefaultRuntimeDir

// Configuration (reset by pre_config on every (re)start), then what post_config made of it.
struct IndexDir {
    const char* configured = nullptr;  // as written; nullptr: the default
    const char* dir = nullptr;         // made and usable
};

IndexDir g;

}  // namespace

const char* set_seek_index_dir(cmd_parms* cmd, void*, const char* arg) noexcept
{
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) {
        return err;
    }
    if (!*arg) {
        return "AudioStreamSeekIndexDir: a directory, or none";
    }
    g.configured = apr_pstrdup(cmd->pool, arg);
    return nullptr;
}

int index_dir_pre_config(apr_pool_t*, apr_pool_t*, apr_pool_t*) noexcept
{
    g = IndexDir{};
    return OK;
}

int index_dir_post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) noexcept
{
    g.dir = nullptr;
    // httpd reads the configuration twice at startup; the directory is made on the second pass.
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (g.configured && std::strcmp(g.configured, "none") == 0) {
        return OK;
    }
    const char* dir = g.configured ? ap_server_root_relative(pconf, g.configured)
                                   : ap_runtime_dir_relative(pconf, kDefaultDir);
    if (!dir) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0060: seek index directory %s: invalid path; "
                     "each child keeps its own indexes", g.configured ? g.configured : kDefaultDir);
        return OK;
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
        return OK;
    }
    g.dir = dir;
    return OK;
}

const char* seek_index_dir() noexcept
{
    return g.dir;
}

}  // namespace audio_stream::apache
