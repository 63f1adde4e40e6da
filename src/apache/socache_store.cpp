#include "socache_store.h"

namespace audio_stream::apache {

namespace {

// A cache entry is a coverage of at most Coverage::kMaxRanges ranges of two 20-digit numbers.
constexpr unsigned kMaxValue = 2048;

const unsigned char* bytes(const std::string& s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned int length(const std::string& s)
{
    return static_cast<unsigned int>(s.size());
}

}  // namespace

stats::Store::Got SocacheStore::get(const std::string& key, std::string& value)
{
    unsigned char buf[kMaxValue];
    unsigned int len = sizeof buf;
    const apr_status_t rv =
        cache_.provider->retrieve(cache_.instance, cache_.quiet, bytes(key), length(key), buf, &len, pool_);
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

bool SocacheStore::put(const std::string& key, const std::string& value, std::int64_t expires_unix)
{
    const apr_status_t rv = cache_.provider->store(cache_.instance, cache_.quiet, bytes(key), length(key),
                                                   apr_time_from_sec(expires_unix), const_cast<unsigned char*>(bytes(value)),
                                                   length(value), pool_);
    if (rv != APR_SUCCESS) {
        status_ = rv;
    }
    return rv == APR_SUCCESS;
}

bool SocacheStore::lock()
{
    const apr_status_t rv = cache_.mutex ? apr_global_mutex_lock(cache_.mutex) : APR_SUCCESS;
    if (rv != APR_SUCCESS) {
        status_ = rv;
    }
    return rv == APR_SUCCESS;
}

void SocacheStore::unlock()
{
    if (cache_.mutex) {
        (void)apr_global_mutex_unlock(cache_.mutex);
    }
}

}  // namespace audio_stream::apache
