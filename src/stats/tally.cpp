#include "tally.h"

#include <climits>
#include <random>

#include "listener.h"

namespace audio_stream::stats {

namespace {

constexpr std::int64_t kDay = 86400;
// An entry outlives its day by an hour, so that a request that straddles midnight still finds
// the entry it started (it is counted on the day it ends on, a new key).
constexpr std::int64_t kGrace = 3600;
constexpr std::size_t kSaltBytes = 16;
// How long a child trusts the salt it read before it reads the cache again.
constexpr std::int64_t kSaltRecheck = 60;
// How long after a failed salt read the store is left alone.
constexpr std::int64_t kSaltRetry = 2;
// How long a child that has just put the salt trusts it: another child may have put another at
// the same moment (no compare-and-set), and each takes what the store kept at its next read.
constexpr std::int64_t kSaltAfterPut = 2;
constexpr const char* kCounted = "c";

// Gives back a store lock taken with Store::lock() (which the caller checked) on every return.
struct StoreLock {
    Store& store;
    ~StoreLock() { store.unlock(); }
};

bool counts(const Listen& l)
{
    const bool kind = l.kind == Kind::Full || l.kind == Kind::Range || l.kind == Kind::Cut;
    return kind && l.client == Client::Ok;
}

Coverage coverage_of(const std::vector<FileRange>& sent)
{
    Coverage c;
    for (const FileRange& r : sent) {
        c.add(r);
    }
    return c;
}

}  // namespace

const char* kind_name(Kind k)
{
    switch (k) {
    case Kind::Full: return "full";
    case Kind::Range: return "range";
    case Kind::Probe: return "probe";
    case Kind::Head: return "head";
    case Kind::NotModified: return "notmod";
    case Kind::Cut: return "cut";
    case Kind::Error: break;
    }
    return "error";
}

const char* state_name(State s)
{
    switch (s) {
    case State::Counted: return "counted";
    case State::Dup: return "dup";
    case State::Partial: return "partial";
    case State::Ignored: break;
    }
    return "ignored";
}

Tally::Tally(Clock clock, Random random, std::string secret)
    : clock_(std::move(clock)), random_(std::move(random)), secret_(std::move(secret))
{
    std::random_device device;
    for (int i = 0; i < 4; ++i) {
        const unsigned word = device();
        memo_secret_.append(reinterpret_cast<const char*>(&word), sizeof word);
    }
}

std::int64_t Tally::day_of(std::int64_t t)
{
    // Division truncates towards zero: one day less for a negative time that is not a whole
    // number of days (no negation, which overflows near INT64_MIN).
    return t / kDay - (t % kDay < 0 ? 1 : 0);
}

std::string Tally::salt_for(Store& store, std::int64_t day, std::int64_t now)
{
    std::lock_guard<std::mutex> lock(salt_mutex_);
    if (day == salt_day_ && now - salt_checked_ < kSaltRecheck) {
        return keyed_salt_;
    }
    // A store that just failed is not asked again for a while (the threads would queue on
    // this mutex behind its timeouts); meanwhile today's salt, if this process has it, serves.
    if (now - salt_failed_ < kSaltRetry) {
        return day == salt_day_ ? keyed_salt_ : std::string();
    }
    const auto failed = [&]() {
        salt_failed_ = now;
        // The store may come back empty (restarted) and take another child's salt: read it
        // again as soon as the pause is over rather than trust this one for a minute.
        salt_checked_ = now - kSaltRecheck;
        return day == salt_day_ ? keyed_salt_ : std::string();
    };
    const std::string key = "as1:salt:" + std::to_string(day);
    std::string salt;
    if (!store.lock()) {
        return failed();
    }
    const StoreLock held{store};
    Store::Got got = store.get(key, salt);
    bool put = false;
    if (got == Store::Got::Absent || (got == Store::Got::Found && salt.size() != kSaltBytes)) {
        // A new day, or a cache that lost its entries (restarted): put today's salt back if
        // this child has it, else a new one. No compare-and-set: two servers may both put one;
        // reading back after the put makes each take whichever was put last.
        const std::string mine = day == salt_day_ ? salt_ : random_(kSaltBytes);
        if (!store.put(key, mine, (day + 2) * kDay)) {
            return failed();
        }
        got = store.get(key, salt);
        put = true;
    }
    if (got != Store::Got::Found || salt.size() != kSaltBytes) {
        return failed();
    }
    salt_day_ = day;
    salt_checked_ = put ? now - kSaltRecheck + kSaltAfterPut : now;
    if (salt != salt_ || keyed_salt_.empty()) {
        salt_ = salt;
        keyed_salt_ = keyed_salt(secret_, salt);
    }
    return keyed_salt_;
}

Verdict Tally::record_alone(const Listen& l)
{
    if (!counts(l)) {
        return {State::Ignored, false};
    }
    const Offset covered = coverage_of(l.sent).covered();
    if (covered == 0) {
        return {State::Partial, false};
    }
    // It may count a download twice, or miss one made of several requests: counting degrades,
    // serving never does.
    const bool whole = covered >= l.threshold;
    return {whole ? State::Counted : State::Partial, whole, true};
}

Verdict Tally::record(Store& store, const Listen& l)
{
    const std::int64_t now = clock_();
    const std::int64_t day = day_of(now);
    forget_past_days(day);
    const Coverage fresh = coverage_of(l.sent);
    if (!counts(l) || fresh.covered() == 0) {
        return record_alone(l);  // not degraded: nothing to count with the store
    }
    const std::uint64_t memo = memo_of(l, day);
    if (counted_before(memo)) {
        return {State::Dup, false};
    }
    const std::string salt = salt_for(store, day, now);
    if (salt.empty()) {
        return record_alone(l);
    }
    const std::string key = listener_key(salt, l.address, l.user_agent, l.file, day);
    if (!store.lock()) {
        return record_alone(l);
    }
    const StoreLock held{store};
    std::string value;
    Coverage seen;
    switch (store.get(key, value)) {
    case Store::Got::Failed:
        return record_alone(l);
    case Store::Got::Found:
        if (value == kCounted) {
            remember_counted(memo, day);
            return {State::Dup, false, false, true, listener_tag(salt, l.address, l.user_agent)};
        }
        if (auto decoded = Coverage::decode(value)) {
            seen = std::move(*decoded);
        }
        break;
    case Store::Got::Absent:
        break;
    }
    for (const FileRange& r : fresh.ranges()) {
        seen.add(r);
    }
    const bool download = seen.covered() >= l.threshold;
    const bool stored = store.put(key, download ? kCounted : seen.encode(), (day + 1) * kDay + kGrace);
    if (download && stored) {
        remember_counted(memo, day);
    }
    return {download ? State::Counted : State::Partial, download, !stored, stored,
            listener_tag(salt, l.address, l.user_agent)};
}

std::uint64_t Tally::memo_of(const Listen& l, std::int64_t day) const
{
    // Each field after its length, so that no two listeners differ only in where one ends.
    std::string memo = memo_secret_ + std::to_string(day);
    for (const std::string_view field : {l.address, l.user_agent, l.file}) {
        memo += ':';
        memo += std::to_string(field.size());
        memo += ':';
        memo += field;
    }
    return std::hash<std::string>{}(memo);
}

void Tally::forget_past_days(std::int64_t day)
{
    {
        std::shared_lock<std::shared_mutex> lock(memo_mutex_);
        if (day == counted_day_) {
            return;
        }
    }
    std::lock_guard<std::shared_mutex> lock(memo_mutex_);
    counted_.clear();
    counted_day_ = day;
}

bool Tally::counted_before(std::uint64_t memo)
{
    std::shared_lock<std::shared_mutex> lock(memo_mutex_);
    return counted_.count(memo) != 0;
}

void Tally::remember_counted(std::uint64_t memo, std::int64_t day)
{
    std::lock_guard<std::shared_mutex> lock(memo_mutex_);
    if (day != counted_day_) {
        return;  // a request that began before midnight and ends after: its day is gone
    }
    if (counted_.size() >= kMaxRemembered) {
        counted_.clear();
    }
    counted_.insert(memo);
}

std::size_t Tally::remembered()
{
    std::shared_lock<std::shared_mutex> lock(memo_mutex_);
    return counted_.size();
}

}  // namespace audio_stream::stats
