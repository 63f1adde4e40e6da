// A mod_socache instance as counting's Store (stats/tally.h): the one adapter between the two.
#ifndef AUDIO_STREAM_APACHE_SOCACHE_STORE_H
#define AUDIO_STREAM_APACHE_SOCACHE_STORE_H

#include "glue.h"

#include "ap_socache.h"
#include "apr_global_mutex.h"

#include "../stats/tally.h"

namespace audio_stream::apache {

// The cache a server counts in, as made at start (stats_store.cpp).
struct SocacheHandle {
    const ap_socache_provider_t* provider = nullptr;
    ap_socache_instance_t* instance = nullptr;
    apr_global_mutex_t* mutex = nullptr;  // providers not safe across processes (shmcb)
    server_rec* quiet = nullptr;          // the main server with logging off (below)
};

// One request's view of the cache, its calls on `pool`. Calls go through a copy of the server
// record whose log level lets nothing through: a provider logs every failed call
// (mod_socache_memcache: AH00791 per request), and while the cache is away AS0052 says so once
// a minute instead. status() is the last failure's.
class SocacheStore final : public stats::Store {
public:
    SocacheStore(const SocacheHandle& cache, apr_pool_t* pool) : cache_(cache), pool_(pool) {}

    Got get(const std::string& key, std::string& value) override;
    bool put(const std::string& key, const std::string& value, std::int64_t expires_unix) override;
    // shmcb is not safe across processes: its calls go under the global mutex.
    bool lock() override;
    void unlock() override;
    // Under the mutex no other child comes between a read and a write; memcached and Redis
    // are shared by a fleet and have no lock.
    bool exclusive() const override { return cache_.mutex != nullptr; }

    apr_status_t status() const { return status_; }

private:
    const SocacheHandle& cache_;
    apr_pool_t* pool_;
    apr_status_t status_ = APR_SUCCESS;
};

}  // namespace audio_stream::apache

#endif
