#include "tally.h"

#include <chrono>
#include <climits>
#include <cstdio>
#include <random>
#include <thread>

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
// "x" and a request's id: the request whose bytes completed the download is deciding whether it
// counts it (the splitter's first register, in the listener's entry).
constexpr char kDeciding = 'x';
// The splitter's second register, beside the entry: once set, no request can win it any more.
constexpr const char* kDecidedSuffix = ":d";
// A request writes its coverage once, and again (at most twice) when the read back shows that
// another server's write replaced it.
constexpr int kWrites = 3;

// Gives back a store lock taken with Store::lock() (which the caller checked) on every return.
struct StoreLock {
    Store& store;
    ~StoreLock() { store.unlock(); }
};

// Where a request got to with the listener's entry.
enum class Step {
    Failed,     // the store failed
    Taken,      // the download is counted, or being decided by the request that completed it
    Partial,    // the entry holds this request's bytes, short of a download
    Completed,  // this request's bytes take what the entry held to the threshold
    Won,        // ... and this request is the one that counts it
};

// The listener's entry: "c" or a deciding request's mark (Taken), else its coverage (garbage
// is an empty one).
Step read_entry(Store& store, const std::string& key, Coverage& seen)
{
    std::string value;
    switch (store.get(key, value)) {
    case Store::Got::Failed: return Step::Failed;
    case Store::Got::Absent: value.clear(); break;
    case Store::Got::Found: break;
    }
    if (value == kCounted || (!value.empty() && value.front() == kDeciding)) {
        return Step::Taken;
    }
    auto decoded = Coverage::decode(value);
    seen = decoded ? std::move(*decoded) : Coverage();
    return Step::Partial;
}

Coverage joined(Coverage a, const Coverage& b)
{
    for (const FileRange& r : b.ranges()) {
        a.add(r);
    }
    return a;
}

// Adds this request's bytes to the listener's entry without compare-and-set: read, add, write,
// read back. Another server's request that read before this write and writes after it replaces
// it; the read back sees our bytes missing and writes the union again. Two requests that both
// read before either writes (the common race) therefore end with one of them holding both
// halves. The read back waits the pause first, and a read older than half the pause (this
// thread stalled after it) is made again before writing: what remains is another request whose
// write and read back both fall between this one's read and its write, which needs this one to
// stall longer than the pause just before its write reaches the store (README, "Across
// servers"). Under an exclusive lock nothing can come between: no read back.
Step add_bytes(Store& store, const std::string& key, const Coverage& fresh, Offset threshold, std::int64_t expires,
               const Tally::Timing& timing)
{
    constexpr std::int64_t kStale = Tally::kReadBackPauseMs * 1000 / 2;
    Coverage seen;
    Coverage mine = fresh;
    const bool shared = !store.exclusive();
    std::int64_t read_at = timing.micros();
    Step step = read_entry(store, key, seen);
    int writes = 0;
    bool again = false;  // this read was made again: write whatever its age (a slow store)
    while (step == Step::Partial) {
        const Offset had = seen.covered();
        mine = joined(std::move(mine), seen);
        if (mine.covered() >= threshold) {
            return Step::Completed;
        }
        if (mine.covered() == had || writes == kWrites) {
            return Step::Partial;  // the entry holds our bytes (or we stop trying)
        }
        again = shared && !again && timing.micros() - read_at > kStale;
        if (!again) {
            if (!store.put(key, mine.encode(), expires)) {
                return Step::Failed;
            }
            ++writes;
            if (!shared) {
                return Step::Partial;
            }
            timing.pause();
        }
        read_at = timing.micros();
        step = read_entry(store, key, seen);
    }
    return step;
}

// Moir and Anderson's splitter over two keys, the entry (X) and its decided key (Y): write
// our id to X; if Y is set, lose; set Y; win if X still holds our id. At most one request ever
// wins: of two winners, the later one's write of X came after the earlier one's read of X,
// hence after Y was set, and it would have read Y set. A request alone wins. Two requests that
// run it in step: the later writer of X wins. Nobody wins (a miss, never a double count) when
// one's write of X falls between another's setting of Y and its read of X.
Step decide(Store& store, const std::string& key, const std::string& id, std::int64_t expires)
{
    const std::string mark = kDeciding + id;
    const std::string decided = key + kDecidedSuffix;
    std::string value;
    if (!store.put(key, mark, expires)) {
        return Step::Failed;
    }
    switch (store.get(decided, value)) {
    case Store::Got::Failed: return Step::Failed;
    case Store::Got::Found: return Step::Taken;
    case Store::Got::Absent: break;
    }
    if (!store.put(decided, kCounted, expires)) {
        return Step::Failed;
    }
    switch (store.get(key, value)) {
    case Store::Got::Failed: return Step::Failed;
    case Store::Got::Found: break;
    case Store::Got::Absent: return Step::Taken;
    }
    if (value != mark) {
        return Step::Taken;
    }
    // Later requests of other servers then know at their first read (a miss stays "x...").
    (void)store.put(key, kCounted, expires);
    return Step::Won;
}

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

Tally::Tally(Clock clock, Random random, std::string secret, Timing timing)
    : clock_(std::move(clock)), random_(std::move(random)), timing_(std::move(timing)), secret_(std::move(secret))
{
    if (!timing_.pause) {
        timing_.pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(kReadBackPauseMs)); };
    }
    if (!timing_.micros) {
        timing_.micros = [] {
            const auto since = std::chrono::steady_clock::now().time_since_epoch();
            return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(since).count());
        };
    }
    std::random_device device;
    for (int i = 0; i < 4; ++i) {
        const unsigned word = device();
        memo_secret_.append(reinterpret_cast<const char*>(&word), sizeof word);
    }
    // Its own 64 random bits (not the memo's secret, which stays in this process).
    const unsigned long long id = (static_cast<unsigned long long>(device()) << 32) | device();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", id);
    process_id_ = hex;
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
    const Coverage fresh = coverage_of(l.sent);
    if (!counts(l) || fresh.covered() == 0) {
        forget_past_days(day);
        return record_alone(l);  // not degraded: nothing to count with the store
    }
    const std::uint64_t memo = memo_of(l, day);
    if (counted_before(memo, day)) {
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
    // The whole exchange under the lock: with shmcb (a global mutex) nothing interleaves.
    const StoreLock held{store};
    const std::int64_t expires = (day + 1) * kDay + kGrace;
    Step step = add_bytes(store, key, fresh, l.threshold, expires, timing_);
    if (step == Step::Completed) {
        // Under an exclusive lock this request is the only one: it counts, and the entry takes
        // one write as before; else the splitter decides among the requests that completed.
        step = !store.exclusive() ? decide(store, key, claim_id(), expires)
               : store.put(key, kCounted, expires) ? Step::Won : Step::Failed;
    }
    if (step == Step::Failed) {
        return record_alone(l);
    }
    if (step == Step::Taken || step == Step::Won) {
        remember_counted(memo, day);
    }
    const State state = step == Step::Won ? State::Counted : step == Step::Taken ? State::Dup : State::Partial;
    return {state, step == Step::Won, false, true, listener_tag(salt, l.address, l.user_agent)};
}

std::string Tally::claim_id()
{
    // 64 bits random to the process, then a count: unique among every server's requests.
    return process_id_ + '.' + std::to_string(++claims_);
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

bool Tally::counted_before(std::uint64_t memo, std::int64_t day)
{
    {
        // One shared lock for a duplicate, the most common request once a player has its file.
        std::shared_lock<std::shared_mutex> lock(memo_mutex_);
        if (day == counted_day_) {
            return counted_.count(memo) != 0;
        }
    }
    forget_past_days(day);
    return false;
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
