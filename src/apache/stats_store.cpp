// The shared cache downloads are counted in: the AudioStreamStatsCache directive, the
// mod_socache provider made by the parent at post_config and joined by every child, its
// health (AS0052/AS0053), the secret mixed into its salt (AS0054 without one), and the Tally
// each child records listens with.
#include "stats_store.h"

#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_general.h"
#include "apr_global_mutex.h"
#include "apr_lib.h"
#include "apr_shm.h"
#include "util_mutex.h"


namespace audio_stream::apache {

namespace {

using namespace audio_stream::stats;

constexpr const char* kMutexType = "audio-stream-stats";
constexpr const char* kDefaultProvider = "shmcb";
// A cache entry is a coverage of at most Coverage::kMaxRanges ranges of two 20-digit numbers.
constexpr unsigned kMaxValue = 2048;
// The shortest AudioStreamStatsSecret, and the most of the file read.
constexpr apr_size_t kMinSecret = 16;
constexpr apr_size_t kMaxSecret = 4096;
// At most one AS0052 line per server per minute while the cache fails.
constexpr apr_time_t kWarnEvery = apr_time_from_sec(60);

using WarnClock = std::atomic<apr_time_t>;
static_assert(WarnClock::is_always_lock_free, "the warning clock lives in shared memory");

// The process's counting state. Configuration (reset by pre_config on every (re)start), then
// the cache made by the parent at post_config, which the children inherit, then what each
// child makes for its threads.
struct Counting {
    // AudioStreamStatsCache, or the default provider's name with no arguments.
    const char* name = nullptr;
    const char* args = nullptr;
    const ap_socache_provider_t* provider = nullptr;
    bool on_seen = false;  // AudioStreamStats On somewhere in the configuration files
    const char* secret = nullptr;  // AudioStreamStatsSecret's bytes (secret_length of them)
    apr_size_t secret_length = 0;

    ap_socache_instance_t* instance = nullptr;
    apr_global_mutex_t* mutex = nullptr;  // providers not safe across processes (shmcb)

    Tally* tally = nullptr;
    server_rec quiet{};  // the main server with logging off, for the provider's calls
    // When AS0052 was last written: in shared memory made at post_config, so that all the
    // children of a server share one limit (this process's own if that could not be made).
    WarnClock own_warning{0};
    WarnClock* last_warning = &own_warning;
    std::atomic<bool> failing{false};
};

Counting g;

// mod_socache as a Store. Calls go through a copy of the server record whose log level lets
// nothing through: a provider logs every failed call (mod_socache_memcache: AH00791 per
// request), and while the cache is away AS0052 says so once a minute instead.
class SocacheStore final : public Store {
public:
    explicit SocacheStore(apr_pool_t* pool) : pool_(pool) {}

    Got get(const std::string& key, std::string& value) override
    {
        unsigned char buf[kMaxValue];
        unsigned int len = sizeof buf;
        const apr_status_t rv = g.provider->retrieve(g.instance, &g.quiet, bytes(key), length(key), buf, &len, pool_);
        if (rv == APR_SUCCESS) {
            value.assign(reinterpret_cast<const char*>(buf), len);
            return Got::Found;
        }
        if (APR_STATUS_IS_NOTFOUND(rv)) {
            return Got::Absent;
        }
        status_ = rv;
        return Got::Failed;
    }

    bool put(const std::string& key, const std::string& value, std::int64_t expires_unix) override
    {
        const apr_status_t rv =
            g.provider->store(g.instance, &g.quiet, bytes(key), length(key), apr_time_from_sec(expires_unix),
                              reinterpret_cast<unsigned char*>(const_cast<char*>(value.data())),
                              static_cast<unsigned int>(value.size()), pool_);
        if (rv != APR_SUCCESS) {
            status_ = rv;
        }
        return rv == APR_SUCCESS;
    }

    // shmcb is not safe across processes: its calls go under the global mutex.
    bool lock() override
    {
        const apr_status_t rv = g.mutex ? apr_global_mutex_lock(g.mutex) : APR_SUCCESS;
        if (rv != APR_SUCCESS) {
            status_ = rv;
        }
        return rv == APR_SUCCESS;
    }

    void unlock() override
    {
        if (g.mutex) {
            (void)apr_global_mutex_unlock(g.mutex);
        }
    }

    // Under the mutex no other child comes between a read and a write; memcached and Redis
    // are shared by a fleet and have no lock.
    bool exclusive() const override { return g.mutex != nullptr; }

    apr_status_t status() const { return status_; }

private:
    static const unsigned char* bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }
    static unsigned int length(const std::string& s) { return static_cast<unsigned int>(s.size()); }

    apr_pool_t* pool_;
    apr_status_t status_ = APR_SUCCESS;
};

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

apr_status_t destroy_cache(void*) noexcept
{
    if (g.instance) {
        g.provider->destroy(g.instance, &g.quiet);
        g.instance = nullptr;
    }
    return APR_SUCCESS;
}

// The cache is failing (AS0052, at most once a minute per server) or works again (AS0053,
// once per child).
void note_health(server_rec* s, bool failed, apr_status_t rv)
{
    if (!failed) {
        if (g.failing.exchange(false)) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "AS0053: download counting: the stats cache (%s) works again",
                         g.name);
        }
        return;
    }
    g.failing = true;
    const apr_time_t now = apr_time_now();
    apr_time_t last = g.last_warning->load();
    if (now - last >= kWarnEvery && g.last_warning->compare_exchange_strong(last, now)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "AS0052: download counting degraded: the stats cache (%s) %s; requests are served "
                     "and counted one by one until it answers (this line at most once a minute)",
                     g.name ? g.name : "none", g.instance ? "fails" : "could not be made");
    }
}

// The children inherit the anonymous mapping: one warning clock for the whole server.
void share_warning_clock(apr_pool_t* pconf, server_rec* s)
{
    apr_shm_t* shm = nullptr;
    const apr_status_t rv = apr_shm_create(&shm, sizeof(WarnClock), nullptr, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_INFO, rv, s, "AS0051: no shared memory for the stats warning clock: "
                     "AS0052 is limited per child instead");
        g.last_warning = &g.own_warning;
        return;
    }
    g.last_warning = new (apr_shm_baseaddr_get(shm)) WarnClock(0);
}

}  // namespace

Verdict record_listen(request_rec* owner, const Listen& listen)
{
    if (!g.tally) {
        const Verdict alone = Tally::record_alone(listen);
        if (alone.degraded) {
            note_health(owner->server, true, APR_SUCCESS);
        }
        return alone;
    }
    SocacheStore store(owner->pool);
    const Verdict v = g.tally->record(store, listen);
    if (v.degraded || v.used_store) {
        note_health(owner->server, v.degraded, store.status());
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
    g.name = apr_pstrdup(cmd->pool, arg);
    g.args = colon ? colon + 1 : nullptr;
    g.provider = provider;
    return nullptr;
}

const char* set_stats_secret(cmd_parms* cmd, void*, const char* arg) noexcept
{
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) {
        return err;
    }
    const char* path = ap_server_root_relative(cmd->pool, arg);
    apr_file_t* f = nullptr;
    char* bytes = static_cast<char*>(apr_palloc(cmd->pool, kMaxSecret));
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
    g.secret = bytes;
    g.secret_length = length;
    return nullptr;
}

void note_stats_setting(apr_int64_t value) noexcept
{
    if (value != 0) {
        g.on_seen = true;
    }
}

int stats_pre_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*) noexcept
{
    g.name = g.args = nullptr;
    g.provider = nullptr;
    g.on_seen = false;
    g.secret = nullptr;
    g.secret_length = 0;
    g.instance = nullptr;
    g.mutex = nullptr;
    g.last_warning = &g.own_warning;
    return ap_mutex_register(pconf, kMutexType, nullptr, APR_LOCK_DEFAULT, 0) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

int stats_check_config(apr_pool_t*, apr_pool_t*, apr_pool_t*, server_rec* s) noexcept
{
    if (!g.provider) {
        g.provider = lookup_provider(kDefaultProvider);
        g.name = g.provider ? kDefaultProvider : nullptr;
    }
    if (g.on_seen && !g.provider) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     "AS0050: AudioStreamStats On needs a cache to count in: load mod_socache_shmcb "
                     "(a2enmod socache_shmcb), or name one with AudioStreamStatsCache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int stats_post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t* ptemp, server_rec* s) noexcept
{
    // httpd reads the configuration twice at startup; the cache is made on the second pass.
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    share_warning_clock(pconf, s);
    if (!g.provider) {
        return OK;
    }
    if (g.on_seen && !g.secret) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0054: AudioStreamStats On without AudioStreamStatsSecret: "
                     "whoever can read the stats cache (%s) finds the day's salt beside the keys, and can "
                     "recover a listener's IPv4 address from a key by trying all 2^32 with a guessed "
                     "User-Agent and file", g.name);
    }
    g.quiet = *s;
    g.quiet.log.level = APLOG_EMERG;
    g.quiet.log.module_levels = nullptr;
    if (const char* err = g.provider->create(&g.instance, g.args, ptemp, pconf)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "AS0051: AudioStreamStatsCache %s: %s", g.name, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (g.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        const apr_status_t rv = ap_global_mutex_create(&g.mutex, nullptr, kMutexType, nullptr, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "AS0051: cannot create the stats cache's mutex");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    ap_socache_hints hints{};
    hints.avg_id_len = 64;
    hints.avg_obj_size = 64;
    hints.expiry_interval = apr_time_from_sec(30);
    const apr_status_t rv = g.provider->init(g.instance, kMutexType, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "AS0051: cannot initialise the stats cache %s", g.name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, nullptr, destroy_cache, apr_pool_cleanup_null);
    return OK;
}

void stats_child_init(apr_pool_t* pchild, server_rec* s) noexcept
{
    try {
        if (g.mutex) {
            const apr_status_t rv =
                apr_global_mutex_child_init(&g.mutex, apr_global_mutex_lockfile(g.mutex), pchild);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "AS0098: no stats cache mutex in this child");
                g.instance = nullptr;
            }
        }
        if (g.instance) {
            g.tally = new Tally([] { return static_cast<std::int64_t>(apr_time_sec(apr_time_now())); }, random_bytes,
                                std::string(g.secret ? g.secret : "", g.secret_length));
        }
        apr_pool_cleanup_register(
            pchild, nullptr,
            [](void*) noexcept -> apr_status_t {
                delete g.tally;
                g.tally = nullptr;
                return APR_SUCCESS;
            },
            apr_pool_cleanup_null);
    }
    catch (const std::exception& e) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no download counting in this child: %s", e.what());
    }
}

}  // namespace audio_stream::apache
