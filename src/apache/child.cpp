#include "child.h"

#include <exception>

#include "ap_mpm.h"
#include "../config_values.h"
#include "config.h"
#include "stats.h"

namespace audio_stream::apache {

namespace {

constexpr std::size_t kCutCacheEntries = 256;
constexpr std::size_t kCutCacheBytes = std::size_t{16} << 20;
// A slot is held from the handler until its stream ends, a little after the worker thread is
// free again: twice the child's threads.
constexpr int kSlotsPerThread = 2;
constexpr int kFallbackThreads = 64;
// The pages all of a child's snapshots may hold, in use or kept warm in free slots: 64 streams
// of 1 MiB windows. Past it, bodies are read in chunks.
constexpr std::size_t kSnapshotMemory = std::size_t{64} << 20;

std::size_t snapshot_slots()
{
    int threads = 0;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads <= 0) {
        threads = kFallbackThreads;
    }
    return static_cast<std::size_t>(threads) * kSlotsPerThread;
}

apr_status_t drop_child_state(void* main_v) noexcept
{
    auto* main = static_cast<server_rec*>(main_v);
    CutCache* cache = cut_cache(main);
    SnapshotPool* pool = snapshot_pool(main);
    set_child_state(main, nullptr, nullptr);
    delete cache;
    delete pool;
    return APR_SUCCESS;
}

template <typename T, typename... Args>
T* make_or_log(server_rec* s, const char* what, Args... args) noexcept
{
    try {
        return new T(args...);
    }
    catch (const std::exception& e) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no %s: %s", what, e.what());
    }
    catch (...) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no %s", what);
    }
    return nullptr;
}

}  // namespace

void child_init(apr_pool_t* pchild, server_rec* s) noexcept
{
    // Time seek still works uncached without the cache; HTTP/2 reads in chunks without the pool.
    CutCache* cache = make_or_log<CutCache>(s, "cut cache", kCutCacheEntries, kCutCacheBytes);
    SnapshotPool* pool = SnapshotPool::supported()
                             ? make_or_log<SnapshotPool>(s, "snapshot pool", snapshot_slots(),
                                                         static_cast<std::size_t>(kMaxSnapshotSize),
                                                         kSnapshotMemory)
                             : nullptr;
    set_child_state(s, cache, pool);
    stats_child_init(pchild, s);
    apr_pool_cleanup_register(pchild, s, drop_child_state, apr_pool_cleanup_null);
}

}  // namespace audio_stream::apache
