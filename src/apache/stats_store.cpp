// The shared cache downloads are counted in: the AudioStreamStatsCache directive, the
// mod_socache provider made by the parent at post_config and joined by every child, its
// health (AS0052/AS0053), the secret mixed into its salt (AS0054 without one), and the Tally
// each child records listens with. The state is the main server's StatsServer, made on the
// configuration pool and shared with every virtual host's record.
#include "stats_store.h"

#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "ap_provider.h"
#include "apr_general.h"
#include "apr_lib.h"
#include "apr_shm.h"
#include "util_mutex.h"

#include "config.h"
#include "request_state.h"
#include "socache_store.h"

namespace audio_stream::apache {

namespace {

using namespace audio_stream::stats;

constexpr const char* kMutexType = "audio-stream-stats";
constexpr const char* kDefaultProvider = "shmcb";
// The shortest AudioStreamStatsSecret, and the most of the file read.
constexpr apr_size_t kMinSecret = 16;
constexpr apr_size_t kMaxSecret = 4096;
// At most one AS0052 line per server per minute while the cache fails.
constexpr apr_time_t kWarnEvery = apr_time_from_sec(60);

using WarnClock = std::atomic<apr_time_t>;
static_assert(WarnClock::is_always_lock_free, "the warning clock lives in shared memory");

}  // namespace

// Counting's settings (the directives), then the cache made by the parent at post_config,
// which the children inherit.
struct StatsServer {
    // AudioStreamStatsCache, or the default provider's name with no arguments.
    const char* name = nullptr;
    const char* args = nullptr;
    std::string secret;  // AudioStreamStatsSecret's bytes
    bool on = false;     // AudioStreamStats On in some server's configuration (check_config)

    SocacheHandle cache;
    server_rec quiet{};  // the main server with logging off, for the provider's calls
    // When AS0052 was last written: in shared memory made at post_config, so that all the
    // children of a server share one limit (this process's own if that could not be made).
    WarnClock own_warning{0};
    WarnClock* last_warning = &own_warning;
    std::atomic<bool> failing{false};
};

namespace {

// The main server's counting state, made on the configuration pool on first use.
StatsServer& stats_server(apr_pool_t* pconf, server_rec* main)
{
    ServerConfig& record = server_record(main);
    if (!record.stats) {
        record.stats = pool_owned<StatsServer>(pconf);
    }
    return *record.stats;
}

std::string random_bytes(std::size_t n)
{
    std::string out(n, '\0');
    if (apr_generate_random_bytes(reinterpret_cast<unsigned char*>(&out[0]), n) != APR_SUCCESS) {
        throw std::runtime_error("no random bytes for the salt");
    }
    return out;
}

const ap_socache_provider_t* lookup_provider(const char* name)
{
    return static_cast<const ap_socache_provider_t*>(
        ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION));
}

apr_status_t destroy_cache(void* data) noexcept
{
    auto* st = static_cast<StatsServer*>(data);
    if (st->cache.instance) {
        st->cache.provider->destroy(st->cache.instance, &st->quiet);
        st->cache.instance = nullptr;
    }
    return APR_SUCCESS;
}

// The cache is failing (AS0052, at most once a minute per server) or works again (AS0053,
// once per child).
void note_health(StatsServer& st, server_rec* s, bool failed, apr_status_t rv)
{
    if (!failed) {
        if (st.failing.exchange(false)) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "AS0053: download counting: the stats cache (%s) works again",
                         st.name);
        }
        return;
    }
    st.failing = true;
    const apr_time_t now = apr_time_now();
    apr_time_t last = st.last_warning->load();
    if (now - last >= kWarnEvery && st.last_warning->compare_exchange_strong(last, now)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "AS0052: download counting degraded: the stats cache (%s) %s; requests are served "
                     "and counted one by one until it answers (this line at most once a minute)",
                     st.name ? st.name : "none", st.cache.instance ? "fails" : "could not be made");
    }
}

// The children inherit the anonymous mapping: one warning clock for the whole server.
void share_warning_clock(StatsServer& st, apr_pool_t* pconf, server_rec* s)
{
    apr_shm_t* shm = nullptr;
    const apr_status_t rv = apr_shm_create(&shm, sizeof(WarnClock), nullptr, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_INFO, rv, s, "AS0051: no shared memory for the stats warning clock: "
                     "AS0052 is limited per child instead");
        st.last_warning = &st.own_warning;
        return;
    }
    st.last_warning = new (apr_shm_baseaddr_get(shm)) WarnClock(0);
}

// The cache made once in the parent (the second reading of the configuration), which every
// child joins. An error line and false when it cannot be made.
bool make_cache(StatsServer& st, apr_pool_t* pconf, apr_pool_t* ptemp, server_rec* s)
{
    st.quiet = *s;
    st.quiet.log.level = APLOG_EMERG;
    st.quiet.log.module_levels = nullptr;
    st.cache.quiet = &st.quiet;
    if (const char* err = st.cache.provider->create(&st.cache.instance, st.args, ptemp, pconf)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "AS0051: AudioStreamStatsCache %s: %s", st.name, err);
        return false;
    }
    if (st.cache.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        const apr_status_t rv = ap_global_mutex_create(&st.cache.mutex, nullptr, kMutexType, nullptr, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "AS0051: cannot create the stats cache's mutex");
            return false;
        }
    }
    ap_socache_hints hints{};
    hints.avg_id_len = 64;
    hints.avg_obj_size = 64;
    hints.expiry_interval = apr_time_from_sec(30);
    const apr_status_t rv = st.cache.provider->init(st.cache.instance, kMutexType, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "AS0051: cannot initialise the stats cache %s", st.name);
        return false;
    }
    apr_pool_cleanup_register(pconf, &st, destroy_cache, apr_pool_cleanup_null);
    return true;
}

}  // namespace

Verdict record_listen(request_rec* owner, const Listen& listen)
{
    StatsServer* st = server_record(owner->server).stats;
    Tally* tally = child_state(owner->server).tally;
    if (!st || !tally) {
        const Verdict alone = Tally::record_alone(listen);
        if (alone.degraded && st) {
            note_health(*st, owner->server, true, APR_SUCCESS);
        }
        return alone;
    }
    SocacheStore store(st->cache, owner->pool);
    const Verdict v = tally->record(store, listen);
    if (v.degraded || v.used_store) {
        note_health(*st, owner->server, v.degraded, store.status());
    }
    return v;
}

const char* set_stats_cache(cmd_parms* cmd, void*, const char* arg) noexcept
{
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) {
        return err;
    }
    const char* colon = std::strchr(arg, ':');
    const char* name = colon ? apr_pstrmemdup(cmd->pool, arg, static_cast<apr_size_t>(colon - arg)) : arg;
    const ap_socache_provider_t* provider = *name ? lookup_provider(name) : nullptr;
    if (!provider) {
        return apr_psprintf(cmd->pool,
                            "AudioStreamStatsCache: no socache provider '%s' is loaded (load its module "
                            "first: LoadModule socache_%s_module, a2enmod socache_%s)",
                            name, name, name);
    }
    try {
        StatsServer& st = stats_server(cmd->pool, cmd->server);
        st.name = apr_pstrdup(cmd->pool, arg);
        st.args = colon ? colon + 1 : nullptr;
        st.cache.provider = provider;
        return nullptr;
    }
    catch (const std::exception& e) {
        return apr_psprintf(cmd->pool, "AudioStreamStatsCache: %s", e.what());
    }
}

const char* set_stats_secret(cmd_parms* cmd, void*, const char* arg) noexcept
{
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) {
        return err;
    }
    const char* path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t* f = nullptr;
    char* bytes = static_cast<char*>(apr_palloc(cmd->temp_pool, kMaxSecret));
    apr_size_t length = 0;
    apr_status_t rv = path ? apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, cmd->temp_pool) : APR_EBADPATH;
    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, bytes, kMaxSecret, &length);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv)) {
        char why[120];
        return apr_psprintf(cmd->pool, "AudioStreamStatsSecret: cannot read '%s': %s", arg,
                            apr_strerror(rv, why, sizeof why));
    }
    while (length > 0 && apr_isspace(bytes[length - 1])) {
        --length;
    }
    if (length < kMinSecret) {
        return apr_psprintf(cmd->pool, "AudioStreamStatsSecret: '%s' holds %" APR_SIZE_T_FMT " bytes; a secret "
                            "needs at least %" APR_SIZE_T_FMT " (make one with: head -c 32 /dev/urandom | "
                            "base64 > FILE)", arg, length, kMinSecret);
    }
    try {
        stats_server(cmd->pool, cmd->server).secret.assign(bytes, length);
        return nullptr;
    }
    catch (const std::exception& e) {
        return apr_psprintf(cmd->pool, "AudioStreamStatsSecret: %s", e.what());
    }
}

void note_stats_setting(cmd_parms* cmd, apr_int64_t value) noexcept
{
    // At start only: an .htaccess read for a request (the server is running) changes nothing.
    if (value != 0 && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_RUN_MPM) {
        server_record(cmd->server).stats_on = true;
    }
}

int stats_pre_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*) noexcept
{
    return ap_mutex_register(pconf, kMutexType, nullptr, APR_LOCK_DEFAULT, 0) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

int stats_check_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) noexcept
{
    try {
        StatsServer& st = stats_server(pconf, s);
        if (!st.cache.provider) {
            st.cache.provider = lookup_provider(kDefaultProvider);
            st.name = st.cache.provider ? kDefaultProvider : nullptr;
        }
        for (const server_rec* v = s; v; v = v->next) {
            st.on = st.on || server_record(v).stats_on;
        }
        if (st.on && !st.cache.provider) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "AS0050: AudioStreamStats On needs a cache to count in: load mod_socache_shmcb "
                         "(a2enmod socache_shmcb), or name one with AudioStreamStatsCache");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        return OK;
    }
    catch (const std::exception& e) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s, "AS0051: download counting: %s", e.what());
        return HTTP_INTERNAL_SERVER_ERROR;
    }
}

int stats_post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t* ptemp, server_rec* s) noexcept
{
    // httpd reads the configuration twice at startup; the cache is made on the second pass.
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    StatsServer* st = server_record(s).stats;  // made by check_config
    for (server_rec* v = s; v; v = v->next) {
        server_record(v).stats = st;
    }
    if (!st) {
        return OK;
    }
    share_warning_clock(*st, pconf, s);
    if (!st->cache.provider) {
        return OK;
    }
    if (st->on && st->secret.empty()) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0054: AudioStreamStats On without AudioStreamStatsSecret: "
                     "whoever can read the stats cache (%s) finds the day's salt beside the keys, and can "
                     "recover a listener's IPv4 address from a key by trying all 2^32 with a guessed "
                     "User-Agent and file", st->name);
    }
    return make_cache(*st, pconf, ptemp, s) ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

Tally* stats_child_init(apr_pool_t* pchild, server_rec* s) noexcept
{
    StatsServer* st = server_record(s).stats;
    if (!st || !st->cache.instance) {
        return nullptr;
    }
    try {
        if (st->cache.mutex) {
            const apr_status_t rv =
                apr_global_mutex_child_init(&st->cache.mutex, apr_global_mutex_lockfile(st->cache.mutex), pchild);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "AS0098: no stats cache mutex in this child");
                return nullptr;
            }
        }
        return pool_owned<Tally>(pchild, [] { return static_cast<std::int64_t>(apr_time_sec(apr_time_now())); },
                                 random_bytes, st->secret);
    }
    catch (const std::exception& e) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no download counting in this child: %s", e.what());
    }
    return nullptr;
}

}  // namespace audio_stream::apache
