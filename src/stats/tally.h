// Counting downloads by the IAB Podcast Measurement Technical Guidelines v2.3 (§5.5): which
// requests count at all, and whether this one completes a listener's download of a file
// today. The shared state lives in a Store (the glue's mod_socache instance, a map in the
// tests); the clock and the salt's randomness are injected.
#ifndef AUDIO_STREAM_STATS_TALLY_H
#define AUDIO_STREAM_STATS_TALLY_H

#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "client.h"
#include "coverage.h"

namespace audio_stream::stats {

// AUDIO_KIND: what the request was.
enum class Kind {
    Full,         // a 200 GET of the file
    Range,        // a 206 of the file
    Probe,        // a range of at most the first two bytes (bytes=0-1, bytes=0-0)
    Head,
    NotModified,  // 304
    Cut,          // a ?t= cut (whole or ranged)
    Error,        // 4xx, 5xx (416 included)
};
const char* kind_name(Kind k);  // full, range, probe, head, notmod, cut, error

// AUDIO_STATE: what the request did to the count.
enum class State {
    Counted,  // it completed a download (AUDIO_DOWNLOAD=1)
    Dup,      // the listener's download of this file was already counted today
    Partial,  // bytes added, not yet a download
    Ignored,  // does not count: HEAD, 304, probe, error, bot, Apple Watch, no User-Agent
};
const char* state_name(State s);  // counted, dup, partial, ignored

// The shared store: a key-value cache with expiry, no compare-and-set (mod_socache). Each
// key's get and put is atomic (memcached, Redis); nothing spans two keys.
class Store {
public:
    enum class Got { Found, Absent, Failed };
    virtual ~Store() = default;
    // Held around each exchange with the store (the salt; a listener's entry), and nothing
    // else: a store not safe across processes (shmcb) takes a global mutex here, which makes
    // the exchange atomic within one server. false: it could not be taken.
    virtual bool lock() { return true; }
    virtual void unlock() {}
    // Whether lock() keeps every other writer out (shmcb's mutex; a fleet cannot share shmcb):
    // then a write needs no read back.
    virtual bool exclusive() const { return false; }
    virtual Got get(const std::string& key, std::string& value) = 0;
    virtual bool put(const std::string& key, const std::string& value, std::int64_t expires_unix) = 0;
};

// One response, as counting sees it.
struct Listen {
    std::string_view file;         // which file: the same on every server of a fleet (host + path)
    std::string_view address;      // the client address (listener_address applies the /64 rule)
    std::string_view user_agent;
    Client client;
    Kind kind;
    std::vector<FileRange> sent;   // the file bytes actually sent
    Offset threshold;              // bytes that make a download (download_threshold)
};

struct Verdict {
    State state;
    bool download;           // this request made the download count
    bool degraded = false;   // the store failed: decided from this request alone (see README)
    bool used_store = false; // the store answered
    // The listener's key for today's logs (listener_tag): set when the day's salt was at hand
    // (counted, partial, a dup the store told), empty otherwise.
    std::string listener = {};
};

class Tally {
public:
    using Clock = std::function<std::int64_t()>;                 // Unix seconds
    using Random = std::function<std::string(std::size_t bytes)>;
    // How long a request waits between writing its bytes to a store shared by a fleet and
    // reading them back (tally.cpp, add_bytes): another server's request that read before the
    // write and is this long late writing is seen replacing it. A request whose own read is
    // older than half of it when it is about to write reads again first.
    static constexpr int kReadBackPauseMs = 2;
    // The pause, and a monotonic clock in microseconds (tests: counted, and a clock they move).
    struct Timing {
        std::function<void()> pause;
        std::function<std::int64_t()> micros;
    };

    // `secret` (AudioStreamStatsSecret; may be empty) is mixed into the store's daily salt, so
    // that the store alone does not give the keys away (listener.h, keyed_salt).
    Tally(Clock clock, Random random, std::string secret = {}, Timing timing = {});

    // Reads and updates `store`, each exchange under store.lock(). Thread-safe: the
    // salt and the memo of counted listeners are the Tally's own, under its mutex. Any request
    // past a UTC midnight first empties the memo of the days before, counted or not.
    Verdict record(Store& store, const Listen& listen);

    // The listeners this process remembers as counted (kMaxRemembered at most).
    std::size_t remembered();
    static constexpr std::size_t kMaxRemembered = 16384;

    // Without a store: this request alone decides (degraded when it would have used one).
    static Verdict record_alone(const Listen& listen);

    // The UTC day of a Unix time (floor(seconds / 86400), before 1970 too).
    static std::int64_t day_of(std::int64_t unix_seconds);

private:
    // Today's salt: the cache's, or a new random one put there by the first server to need it,
    // so that every server sharing the cache hashes a listener alike; read again every minute.
    // Empty when the store failed.
    std::string salt_for(Store& store, std::int64_t day, std::int64_t now);

    // A request's id when it decides a download (tally.cpp, decide): unique among every
    // server's requests.
    std::string claim_id();

    Clock clock_;
    Random random_;
    Timing timing_;
    std::mutex salt_mutex_;
    std::int64_t salt_day_ = INT64_MIN;
    std::int64_t salt_checked_ = 0;
    std::int64_t salt_failed_ = INT64_MIN / 2;  // when the store last failed to give the salt

    // The listeners (day, address, user agent, file) this process has seen counted today: a
    // duplicate, the most common request once a player has its download, then needs no store,
    // no salt and no SHA-1. Kept as 64-bit hashes keyed by a number random to the process, never
    // the address; cleared when full, and by the first request of a new UTC day.
    void forget_past_days(std::int64_t day);
    bool counted_before(std::uint64_t memo, std::int64_t day);  // forgets past days first
    void remember_counted(std::uint64_t memo, std::int64_t day);
    std::uint64_t memo_of(const Listen& listen, std::int64_t day) const;
    std::unordered_set<std::uint64_t> counted_;
    std::int64_t counted_day_ = INT64_MIN;
    std::string memo_secret_;  // random to the process, hashed before each memo
    std::string process_id_;  // 64 random bits in hex: the first part of claim_id
    std::atomic<std::uint64_t> claims_{0};
    // A leaf lock: taken under the store's lock, never the other way round (salt_for takes
    // salt_mutex_, then the store's). Shared by the threads that only look.
    std::shared_mutex memo_mutex_;
    std::string salt_;        // the store's salt of salt_day_
    std::string keyed_salt_;  // the same, the secret mixed in (what keys are made with)
    std::string secret_;
};

}  // namespace audio_stream::stats

#endif
