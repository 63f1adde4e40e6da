// Tally: which requests count (IAB PTMG v2.3 §5.5), the reassembly of a listener's ranges in
// the shared store, once per listener, file and UTC day, the salt the servers share through the
// store, and what happens when the store fails or holds garbage. The store is a map; the clock
// and the salt's randomness are injected.
#include "src/stats/tally.h"

#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/stats/listener.h"
#include "tests/unit/printers.h"

namespace audio_stream::stats {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kDay1 = 20000;          // 2024-10-04 (UTC)
constexpr std::int64_t kT0 = kDay1 * kDay;     // its midnight
// 180 s of CBR audio at 16000 B/s after a 4096-byte header: a download is 4096 + 60 s.
constexpr Offset kHeader = 4096;
constexpr Offset kThreshold = kHeader + 60 * 16000;
constexpr Offset kSize = kHeader + 180 * 16000;

constexpr const char* kFile = "example.org/ep1.mp3";
constexpr const char* kAddress = "192.0.2.1";
constexpr const char* kAgent = "Podcasts/1.0 CFNetwork/1494.0.7 Darwin/23.4.0";

// mod_socache as a map: counts its calls, can be told to fail, remembers expiry times.
class MapStore : public Store {
public:
    struct Entry {
        std::string value;
        std::int64_t expires;
    };

    Got get(const std::string& key, std::string& value) override
    {
        ++gets;
        if (fail_get) {
            return Got::Failed;
        }
        const auto it = map.find(key);
        if (it == map.end()) {
            return Got::Absent;
        }
        value = it->second.value;
        return Got::Found;
    }

    bool put(const std::string& key, const std::string& value, std::int64_t expires_unix) override
    {
        ++puts;
        if (fail_put) {
            return false;
        }
        map[key] = {value, expires_unix};
        return true;
    }

    void reset_counts() { gets = puts = 0; }

    std::map<std::string, Entry> map;
    int gets = 0;
    int puts = 0;
    bool fail_get = false;
    bool fail_put = false;
};

// A clock the test moves, and salts "salt-00000000001", "salt-00000000002"... (16 bytes),
// counted, pauses before a read back that are counted, not waited, and a monotonic clock that
// stands still unless a test moves it.
struct World {
    std::int64_t now = kT0 + 12 * 3600;
    int salts_made = 0;
    std::atomic<int> pauses{0};
    std::atomic<std::int64_t> micros{0};

    Tally tally()
    {
        return Tally([this] { return now; },
                     [this](std::size_t n) {
                         std::string s = std::to_string(++salts_made);
                         s = "salt-" + std::string(11 - s.size(), '0') + s;
                         return s.substr(0, n);
                     },
                     {}, Tally::Timing{[this] { ++pauses; }, [this] { return micros.load(); }});
    }
};

Listen listen(std::vector<FileRange> sent, Kind kind = Kind::Full, Client client = Client::Ok,
              std::string_view address = kAddress, std::string_view agent = kAgent,
              std::string_view file = kFile, Offset threshold = kThreshold)
{
    return Listen{file, address, agent, client, kind, std::move(sent), threshold};
}

Listen whole() { return listen({{0, kSize}}); }

std::string salt_key(std::int64_t day) { return "as1:salt:" + std::to_string(day); }

// What the store holds for a listener's file on `day` (the key made with the store's salt).
std::string entry(const MapStore& store, std::int64_t day, std::string_view address = kAddress,
                  std::string_view agent = kAgent, std::string_view file = kFile)
{
    const auto salt = store.map.find(salt_key(day));
    if (salt == store.map.end()) {
        return "<no salt>";
    }
    const auto it = store.map.find(listener_key(salt->second.value, address, agent, file, day));
    return it == store.map.end() ? "<absent>" : it->second.value;
}

void expect_verdict(const Verdict& v, State state, bool download, bool degraded, bool used_store)
{
    EXPECT_EQ(state_name(v.state), std::string(state_name(state)));
    EXPECT_EQ(v.download, download);
    EXPECT_EQ(v.degraded, degraded);
    EXPECT_EQ(v.used_store, used_store);
}

// ---- which requests count ------------------------------------------------------------------

TEST(Tally, WholeFileIsCountedOnceThenDup)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    expect_verdict(t.record(store, whole()), State::Counted, true, false, true);
    EXPECT_EQ(entry(store, kDay1), "c");
    expect_verdict(t.record(store, whole()), State::Dup, false, false, false);
    expect_verdict(t.record(store, listen({{0, 100}}, Kind::Range)), State::Dup, false, false, false);
    EXPECT_EQ(entry(store, kDay1), "c");
}

TEST(Tally, FullRangeAndCutCount)
{
    for (const Kind kind : {Kind::Full, Kind::Range, Kind::Cut}) {
        World w;
        Tally t = w.tally();
        MapStore store;
        const Verdict v = t.record(store, listen({{0, kThreshold}}, kind));
        expect_verdict(v, State::Counted, true, false, true);
        EXPECT_EQ(entry(store, kDay1), "c") << kind_name(kind);
    }
}

TEST(Tally, OtherKindsAreIgnoredWithoutTouchingTheStore)
{
    for (const Kind kind : {Kind::Probe, Kind::Head, Kind::NotModified, Kind::Error}) {
        World w;
        Tally t = w.tally();
        MapStore store;
        expect_verdict(t.record(store, listen({{0, kSize}}, kind)), State::Ignored, false, false, false);
        EXPECT_EQ(store.gets + store.puts, 0) << kind_name(kind);
        EXPECT_TRUE(store.map.empty());
        EXPECT_EQ(w.salts_made, 0);
    }
}

TEST(Tally, BotsWatchesAndNoUserAgentAreIgnoredWithoutTouchingTheStore)
{
    for (const Client client : {Client::Bot, Client::WatchOs, Client::None}) {
        World w;
        Tally t = w.tally();
        MapStore store;
        expect_verdict(t.record(store, listen({{0, kSize}}, Kind::Full, client)), State::Ignored, false, false,
                       false);
        EXPECT_EQ(store.gets + store.puts, 0) << client_name(client);
    }
}

// A counting request that sent no file byte (an abort before the body, a cut's header only).
TEST(Tally, NoFileBytesIsPartialWithoutTouchingTheStore)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    expect_verdict(t.record(store, listen({})), State::Partial, false, false, false);
    expect_verdict(t.record(store, listen({{10, 10}, {20, 5}})), State::Partial, false, false, false);
    EXPECT_EQ(store.gets + store.puts, 0);
}

// ---- reassembly across requests --------------------------------------------------------------

TEST(Tally, RangesAreReassembledUntilTheThreshold)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    expect_verdict(t.record(store, listen({{0, 500000}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(entry(store, kDay1), "0-500000");
    expect_verdict(t.record(store, listen({{300000, 900000}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(entry(store, kDay1), "0-900000");
    // One byte short of the threshold, even in two ranges.
    expect_verdict(t.record(store, listen({{2000000, 2000000 + kThreshold - 900001}}, Kind::Range)),
                   State::Partial, false, false, true);
    EXPECT_EQ(entry(store, kDay1), "0-900000,2000000-" + std::to_string(2000000 + kThreshold - 900001));
    // The last byte: exactly the threshold counts.
    expect_verdict(t.record(store, listen({{900000, 900001}}, Kind::Range)), State::Counted, true, false, true);
    EXPECT_EQ(entry(store, kDay1), "c");
    expect_verdict(t.record(store, listen({{0, kSize}}, Kind::Range)), State::Dup, false, false, false);
}

TEST(Tally, SeveralRangesInOneResponseCountTogether)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const Offset half = kThreshold / 2;
    expect_verdict(t.record(store, listen({{0, half}, {1000000, 1000000 + kThreshold - half}}, Kind::Range)),
                   State::Counted, true, false, true);
}

// The same bytes again and again never add up to a download.
TEST(Tally, RepeatedBytesAreNotCountedTwice)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    for (int i = 0; i < 20; ++i) {
        expect_verdict(t.record(store, listen({{0, 100000}}, Kind::Range)), State::Partial, false, false, true);
    }
    EXPECT_EQ(entry(store, kDay1), "0-100000");
}

// A listener that jumps to more than Coverage::kMaxRanges places loses its smallest ranges:
// the store's entry stays bounded, and a download may be missed but never invented.
TEST(Tally, ThirtyThreeAndMoreDisjointRangesAreBoundedAndUndercount)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const Offset threshold = 10000;
    Offset received = 0;
    for (Offset i = 0; i < 60; ++i) {
        const Verdict v = t.record(
            store, listen({{1000 * i, 1000 * i + 200}}, Kind::Range, Client::Ok, kAddress, kAgent, kFile, threshold));
        received += 200;
        // 60 * 200 = 12000 bytes received, but at most 32 * 200 = 6400 kept: never counted.
        expect_verdict(v, State::Partial, false, false, true);
        const auto kept = Coverage::decode(entry(store, kDay1));
        ASSERT_TRUE(kept.has_value()) << entry(store, kDay1);
        EXPECT_LE(kept->ranges().size(), Coverage::kMaxRanges);
        EXPECT_LE(kept->covered(), received);
    }
    EXPECT_GE(received, threshold);
    EXPECT_EQ(Coverage::decode(entry(store, kDay1))->covered(), 32u * 200u);
    // A response that really carries the threshold's bytes still counts.
    expect_verdict(t.record(store, listen({{0, threshold}}, Kind::Range, Client::Ok, kAddress, kAgent, kFile,
                                          threshold)),
                   State::Counted, true, false, true);
}

// ---- one listener, one file, one day ---------------------------------------------------------

TEST(Tally, EachListenerAndFileIsCountedSeparately)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    EXPECT_EQ(t.record(store, whole()).state, State::Counted);
    // Another address, another user agent, another file: each a download of its own.
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, "192.0.2.2")).state, State::Counted);
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, kAddress, "Overcast/3.0")).state,
              State::Counted);
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, kAddress, kAgent, "example.org/ep2.mp3"))
                  .state,
              State::Counted);
    // And each again is a dup.
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, "192.0.2.2")).state, State::Dup);
    EXPECT_EQ(t.record(store, whole()).state, State::Dup);
}

// Parts sent to different listeners, or of different files, never add up to one download.
TEST(Tally, PartialsOfDifferentListenersOrFilesDoNotAddUp)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const Offset half = kThreshold / 2 + 1;
    const std::vector<FileRange> rest{{half, kThreshold}};
    EXPECT_EQ(t.record(store, listen({{0, half}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(t.record(store, listen(rest, Kind::Range, Client::Ok, "192.0.2.2")).state, State::Partial);
    EXPECT_EQ(t.record(store, listen(rest, Kind::Range, Client::Ok, kAddress, "Other/1.0")).state, State::Partial);
    // The same path on another host is another file (the glue names a file by host and path).
    EXPECT_EQ(t.record(store, listen(rest, Kind::Range, Client::Ok, kAddress, kAgent, "other.org/ep1.mp3")).state,
              State::Partial);
    EXPECT_EQ(t.record(store, listen(rest, Kind::Range)).state, State::Counted);
}

// A phone whose IPv6 interface identifier changes between two ranges stays one listener.
TEST(Tally, TwoAddressesOfOneSlash64AreOneListener)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const std::string a = listener_address("2001:db8:5:6:1111:2222:3333:4444");
    const std::string b = listener_address("2001:db8:5:6:aaaa:bbbb:cccc:dddd");
    const Offset half = kThreshold / 2;
    EXPECT_EQ(t.record(store, listen({{0, half}}, Kind::Range, Client::Ok, a)).state, State::Partial);
    EXPECT_EQ(t.record(store, listen({{half, kThreshold}}, Kind::Range, Client::Ok, b)).state, State::Counted);
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, b)).state, State::Dup);
    // The next /64 is someone else.
    const std::string c = listener_address("2001:db8:5:7::1");
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, c)).state, State::Counted);
}

TEST(Tally, AnEightKilobyteUserAgentIsOneListener)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const std::string agent(8192, 'A');
    const std::string other = agent.substr(0, 8191) + "B";
    const Offset half = kThreshold / 2;
    EXPECT_EQ(t.record(store, listen({{0, half}}, Kind::Range, Client::Ok, kAddress, agent)).state, State::Partial);
    EXPECT_EQ(t.record(store, listen({{half, kThreshold}}, Kind::Range, Client::Ok, kAddress, other)).state,
              State::Partial);
    EXPECT_EQ(t.record(store, listen({{half, kThreshold}}, Kind::Range, Client::Ok, kAddress, agent)).state,
              State::Counted);
    // The key is a hash: the agent is not stored.
    for (const auto& [key, e] : store.map) {
        EXPECT_LT(key.size(), 100u);
        EXPECT_EQ(key.find("AAAA"), std::string::npos);
    }
}

// ---- the UTC day -------------------------------------------------------------------------------

TEST(TallyDay, DayOfIsTheFloorOfSecondsOverADay)
{
    EXPECT_EQ(Tally::day_of(0), 0);
    EXPECT_EQ(Tally::day_of(1), 0);
    EXPECT_EQ(Tally::day_of(86399), 0);
    EXPECT_EQ(Tally::day_of(86400), 1);
    EXPECT_EQ(Tally::day_of(kT0 + 86399), kDay1);
    EXPECT_EQ(Tally::day_of(kT0 + 86400), kDay1 + 1);
}

TEST(TallyDay, DayOfBefore1970RoundsDown)
{
    EXPECT_EQ(Tally::day_of(-1), -1);
    EXPECT_EQ(Tally::day_of(-86399), -1);
    EXPECT_EQ(Tally::day_of(-86400), -1);
    EXPECT_EQ(Tally::day_of(-86401), -2);
    EXPECT_EQ(Tally::day_of(-172800), -2);
    EXPECT_EQ(Tally::day_of(-172801), -3);
}

TEST(TallyDay, DayOfTheExtremesDoesNotOverflow)
{
    EXPECT_EQ(Tally::day_of(INT64_MAX), INT64_MAX / 86400);
    EXPECT_EQ(Tally::day_of(INT64_MIN), INT64_MIN / 86400 - 1);  // INT64_MIN is not a multiple of 86400
    EXPECT_EQ(Tally::day_of(INT64_MIN + 1), INT64_MIN / 86400 - 1);
}

// A listener's first part at 23:59:59 and the rest at 00:00:00: two days, neither with a
// download, because neither day's coverage reaches the threshold.
TEST(TallyDay, APartialStraddlingMidnightIsADownloadOnNeitherDay)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const Offset half = kThreshold / 2 + 1000;
    w.now = kT0 + 86399;
    expect_verdict(t.record(store, listen({{0, half}}, Kind::Range)), State::Partial, false, false, true);
    w.now = kT0 + 86400;
    expect_verdict(t.record(store, listen({{half, kThreshold}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(entry(store, kDay1), "0-" + std::to_string(half));
    EXPECT_EQ(entry(store, kDay1 + 1), std::to_string(half) + "-" + std::to_string(kThreshold));
    // Each day has its own salt.
    ASSERT_TRUE(store.map.count(salt_key(kDay1)) && store.map.count(salt_key(kDay1 + 1)));
    EXPECT_NE(store.map[salt_key(kDay1)].value, store.map[salt_key(kDay1 + 1)].value);
    EXPECT_EQ(w.salts_made, 2);
}

// ... unless a day's own coverage suffices: then that day counts it.
TEST(TallyDay, EachDayCountsWhatItsOwnCoverageReaches)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    w.now = kT0 + 86399;
    EXPECT_EQ(t.record(store, listen({{0, kThreshold}}, Kind::Range)).state, State::Counted);
    w.now = kT0 + 86400;
    EXPECT_EQ(t.record(store, listen({{kThreshold, 2 * kThreshold}}, Kind::Range)).state, State::Counted);
    EXPECT_EQ(entry(store, kDay1), "c");
    EXPECT_EQ(entry(store, kDay1 + 1), "c");
}

TEST(TallyDay, ADownloadOnDayOneAndTheSameOnDayTwoCountTwice)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    w.now = kT0 + 10;
    EXPECT_EQ(t.record(store, whole()).state, State::Counted);
    w.now = kT0 + 86399;
    EXPECT_EQ(t.record(store, whole()).state, State::Dup);
    w.now = kT0 + 86400;
    EXPECT_EQ(t.record(store, whole()).state, State::Counted);
    w.now = kT0 + 2 * 86400 - 1;
    EXPECT_EQ(t.record(store, whole()).state, State::Dup);
}

// Entries expire an hour after their day ends; the salt a day after that.
TEST(TallyDay, EntriesExpireAfterTheirDay)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    w.now = kT0 + 5;
    t.record(store, listen({{0, 100}}, Kind::Range));
    ASSERT_EQ(store.map.size(), 2u);
    for (const auto& [key, e] : store.map) {
        if (key == salt_key(kDay1)) {
            EXPECT_EQ(e.expires, (kDay1 + 2) * kDay);
        }
        else {
            EXPECT_EQ(e.expires, (kDay1 + 1) * kDay + 3600) << key;
        }
    }
}

TEST(TallyDay, ABefore1970ClockCountsOnNegativeDays)
{
    World w;
    w.now = -1;
    Tally t = w.tally();
    MapStore store;
    EXPECT_EQ(t.record(store, whole()).state, State::Counted);
    EXPECT_EQ(entry(store, -1), "c");
    EXPECT_EQ(store.map.count("as1:salt:-1"), 1u);
    w.now = 0;
    EXPECT_EQ(t.record(store, whole()).state, State::Counted);
    EXPECT_EQ(entry(store, 0), "c");
}

// ---- the salt ----------------------------------------------------------------------------------

TEST(TallySalt, IsSixteenRandomBytesKeptInTheStore)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    t.record(store, whole());
    ASSERT_EQ(store.map.count(salt_key(kDay1)), 1u);
    EXPECT_EQ(store.map[salt_key(kDay1)].value, "salt-00000000001");
    EXPECT_EQ(w.salts_made, 1);
    // The listener's key is made with it.
    EXPECT_EQ(store.map.count(listener_key("salt-00000000001", kAddress, kAgent, kFile, kDay1)), 1u);
}

// Two servers (two Tally objects, each with its own clock view of the salt) share one store:
// the first makes the salt, the second reads it, and both see one listener alike.
TEST(TallySalt, TwoServersShareTheSaltThroughTheStore)
{
    World w;
    Tally a = w.tally();
    Tally b = w.tally();
    MapStore store;
    const Offset half = kThreshold / 2;
    EXPECT_EQ(a.record(store, listen({{0, half}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(b.record(store, listen({{half, kThreshold}}, Kind::Range)).state, State::Counted);
    EXPECT_EQ(a.record(store, whole()).state, State::Dup);
    EXPECT_EQ(b.record(store, whole()).state, State::Dup);
    EXPECT_EQ(w.salts_made, 1) << "the second server made no salt of its own";
}

// A salt this server read is trusted for a minute, then read again.
TEST(TallySalt, IsReadAgainEveryMinute)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    t.record(store, listen({{0, 10}}, Kind::Range));  // salt: get, put, get; key: get, put, get
    EXPECT_EQ(store.gets, 4);
    EXPECT_EQ(store.puts, 2);
    store.reset_counts();
    // The child that put the salt reads it again two seconds later (another may have put one).
    w.now += 1;
    t.record(store, listen({{5, 10}}, Kind::Range));  // key only (nothing new to write)
    EXPECT_EQ(store.gets, 1);
    store.reset_counts();
    w.now += 1;
    t.record(store, listen({{5, 10}}, Kind::Range));  // salt read again (found), then the key
    EXPECT_EQ(store.gets, 2);
    store.reset_counts();
    // A salt read from the store is trusted for a minute.
    w.now += 59;
    t.record(store, listen({{10, 20}}, Kind::Range));  // key only: get, put, get
    EXPECT_EQ(store.gets, 2);
    EXPECT_EQ(store.puts, 1);
    store.reset_counts();
    w.now += 1;
    t.record(store, listen({{20, 30}}, Kind::Range));  // salt read again (found), then the key
    EXPECT_EQ(store.gets, 3);
    EXPECT_EQ(store.puts, 1);
    EXPECT_EQ(entry(store, kDay1), "0-30");
    EXPECT_EQ(w.salts_made, 1);
}

// A cache that lost its entries (restarted, or cleared): the server puts its salt back at
// the next check, not a new one, so that listeners keep their keys for the day.
TEST(TallySalt, IsPutBackAfterTheStoreWasCleared)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    EXPECT_EQ(t.record(store, listen({{0, 100}}, Kind::Range)).state, State::Partial);
    const std::string salt = store.map[salt_key(kDay1)].value;
    store.map.clear();
    w.now += 60;
    EXPECT_EQ(t.record(store, listen({{100, 200}}, Kind::Range)).state, State::Partial);
    ASSERT_EQ(store.map.count(salt_key(kDay1)), 1u);
    EXPECT_EQ(store.map[salt_key(kDay1)].value, salt);
    EXPECT_EQ(w.salts_made, 1);
    // The coverage went with the cache: only what came since is known.
    EXPECT_EQ(entry(store, kDay1), "100-200");
}

// After a restart of the cache, whichever server puts first sets the salt, and the other takes
// it at its next check: they agree again.
TEST(TallySalt, ServersAgreeAgainAfterTheStoreWasCleared)
{
    World w;
    Tally a = w.tally();
    MapStore store;
    a.record(store, listen({{0, 100}}, Kind::Range));
    store.map.clear();
    w.now += 30;
    Tally b = w.tally();  // a server that starts now: no salt of its own
    const Offset half = kThreshold / 2;
    EXPECT_EQ(b.record(store, listen({{0, half}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(w.salts_made, 2);
    const std::string salt_b = store.map[salt_key(kDay1)].value;
    w.now += 30;  // a's minute is up: it reads b's salt rather than putting its own back
    EXPECT_EQ(a.record(store, listen({{half, kThreshold}}, Kind::Range)).state, State::Counted);
    EXPECT_EQ(store.map[salt_key(kDay1)].value, salt_b);
}

// Two children that put a salt into a restarted store at the same moment: each reads the store
// again two seconds later and takes what it kept.
TEST(TallySalt, AChildThatPutTheSaltReadsItAgainSoon)
{
    World w;
    Tally a = w.tally();
    MapStore store;
    a.record(store, listen({{0, 100}}, Kind::Range));
    const std::string own = store.map[salt_key(kDay1)].value;
    store.map.clear();
    w.now += 61;
    a.record(store, listen({{0, 10}}, Kind::Range));  // puts its own back
    EXPECT_EQ(store.map[salt_key(kDay1)].value, own);
    const std::string other(16, 'o');
    store.map[salt_key(kDay1)].value = other;  // the other child's put, a moment later
    w.now += 1;
    a.record(store, listen({{10, 20}}, Kind::Range));
    w.now += 2;
    const Offset half = kThreshold / 2;
    Tally b = w.tally();  // takes `other` from the store
    EXPECT_EQ(b.record(store, listen({{0, half}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(a.record(store, listen({{half, kThreshold}}, Kind::Range)).state, State::Counted);
}

// A child that met a dead store reads the salt again once it is back, rather than trusting its
// own for the rest of the minute.
TEST(TallySalt, AfterAFailedReadTheSaltIsReadAgain)
{
    World w;
    Tally a = w.tally();
    Tally b = w.tally();
    MapStore store;
    a.record(store, listen({{0, 100}}, Kind::Range));
    store.fail_get = true;
    w.now += 1;
    a.record(store, listen({{0, 100}}, Kind::Range));
    store.fail_get = false;
    store.map.clear();  // the store restarts empty, and b puts a new salt first
    const Offset half = kThreshold / 2;
    w.now += 3;
    EXPECT_EQ(b.record(store, listen({{0, half}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(a.record(store, listen({{half, kThreshold}}, Kind::Range)).state, State::Counted);
}

TEST(TallySalt, AGarbageSaltIsReplaced)
{
    for (const std::string& garbage : {std::string(), std::string("short"), std::string(17, 'x'),
                                       std::string(1024, '\xff')}) {
        World w;
        Tally t = w.tally();
        MapStore store;
        store.map[salt_key(kDay1)] = {garbage, 0};
        EXPECT_EQ(t.record(store, whole()).state, State::Counted);
        EXPECT_EQ(store.map[salt_key(kDay1)].value, "salt-00000000001") << garbage.size();
        EXPECT_EQ(entry(store, kDay1), "c");
    }
}

// Any sixteen bytes are a salt: one a server put, whatever they are.
TEST(TallySalt, SixteenBinaryBytesAreASalt)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const std::string salt("\0\x01\x02\xff\0\0\0\0\0\0\0\0\0\0\0\x7f", 16);
    store.map[salt_key(kDay1)] = {salt, 0};
    EXPECT_EQ(t.record(store, whole()).state, State::Counted);
    EXPECT_EQ(w.salts_made, 0);
    EXPECT_EQ(store.map.count(listener_key(salt, kAddress, kAgent, kFile, kDay1)), 1u);
}

// ---- a store that fails or holds garbage -----------------------------------------------------

// The store does not answer: each request decides alone (a whole download counts, possibly
// twice; a download made of several requests is missed). Serving never depends on it.
TEST(TallyStore, AFailingStoreDegradesToTheRequestAlone)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    store.fail_get = true;
    expect_verdict(t.record(store, whole()), State::Counted, true, true, false);
    expect_verdict(t.record(store, whole()), State::Counted, true, true, false);
    expect_verdict(t.record(store, listen({{0, kThreshold - 1}}, Kind::Range)), State::Partial, false, true, false);
    expect_verdict(t.record(store, listen({{kThreshold - 1, kThreshold}}, Kind::Range)), State::Partial, false, true,
                   false);
    // What does not count is not degraded: it needs no store.
    expect_verdict(t.record(store, listen({{0, kSize}}, Kind::Head)), State::Ignored, false, false, false);
    expect_verdict(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Bot)), State::Ignored, false, false,
                   false);
    // Once it answers again, counting goes on with it, after the salt's retry pause (2 s): in
    // it the store is not asked for the salt at all.
    store.fail_get = false;
    store.reset_counts();
    expect_verdict(t.record(store, whole()), State::Counted, true, true, false);
    EXPECT_EQ(store.gets, 0);
    w.now += 2;
    expect_verdict(t.record(store, whole()), State::Counted, true, false, true);
    expect_verdict(t.record(store, whole()), State::Dup, false, false, false);
}

// The salt was read, then the store fails on the listener's entry.
TEST(TallyStore, AFailingGetOfTheEntryDegrades)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    EXPECT_EQ(t.record(store, listen({{0, 10}}, Kind::Range)).state, State::Partial);
    store.fail_get = true;  // the salt is cached: only the entry's get fails
    store.reset_counts();
    expect_verdict(t.record(store, whole()), State::Counted, true, true, false);
    EXPECT_EQ(store.gets, 1);
    EXPECT_EQ(store.puts, 0);
}

// A put that fails: the salt cannot be shared, so the request decides alone; the entry cannot
// be kept, so the verdict is the request's with what the store had, marked degraded.
TEST(TallyStore, AFailingPutDegrades)
{
    {
        World w;
        Tally t = w.tally();
        MapStore store;
        store.fail_put = true;
        expect_verdict(t.record(store, whole()), State::Counted, true, true, false);
        expect_verdict(t.record(store, listen({{0, 10}}, Kind::Range)), State::Partial, false, true, false);
        EXPECT_TRUE(store.map.empty());
    }
    {
        World w;
        Tally t = w.tally();
        MapStore store;
        EXPECT_EQ(t.record(store, listen({{0, 10}}, Kind::Range)).state, State::Partial);
        store.fail_put = true;
        expect_verdict(t.record(store, listen({{10, 20}}, Kind::Range)), State::Partial, false, true, false);
        expect_verdict(t.record(store, listen({{0, kThreshold}}, Kind::Range)), State::Counted, true, true, false);
        EXPECT_EQ(entry(store, kDay1), "0-10");
    }
}

// A store whose put succeeds but keeps nothing (a full shmcb): the salt cannot be read back.
class ForgetfulStore : public MapStore {
public:
    bool put(const std::string& key, const std::string& value, std::int64_t expires) override
    {
        MapStore::put(key, value, expires);
        map.clear();
        return true;
    }
};

TEST(TallyStore, AStoreThatKeepsNothingDegrades)
{
    World w;
    Tally t = w.tally();
    ForgetfulStore store;
    expect_verdict(t.record(store, whole()), State::Counted, true, true, false);
    expect_verdict(t.record(store, listen({{0, 10}}, Kind::Range)), State::Partial, false, true, false);
}

// Garbage where a coverage should be (a damaged or hostile entry): treated as absent, never a
// crash, never a dup, and replaced by what this request sent.
TEST(TallyStore, GarbageEntriesAreTreatedAsAbsent)
{
    for (const std::string& garbage :
         {std::string("garbage"), std::string("c "), std::string("C"), std::string("cc"), std::string("0-10,5-20"),
          std::string("10-0"), std::string("0-10,"), std::string(2000, '9'), std::string("\0c", 2),
          std::string("99999999999999999999-999999999999999999999"), std::string(1024, '\0')}) {
        World w;
        Tally t = w.tally();
        MapStore store;
        t.record(store, listen({{0, 1}}, Kind::Range));  // makes the salt and the key
        const std::string salt = store.map[salt_key(kDay1)].value;
        const std::string key = listener_key(salt, kAddress, kAgent, kFile, kDay1);
        store.map[key].value = garbage;
        expect_verdict(t.record(store, listen({{100, 200}}, Kind::Range)), State::Partial, false, false, true);
        EXPECT_EQ(store.map[key].value, "100-200") << garbage.substr(0, 40);
        store.map[key].value = garbage;
        expect_verdict(t.record(store, whole()), State::Counted, true, false, true);
    }
}

TEST(TallyStore, AnEmptyEntryIsAnEmptyCoverage)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    t.record(store, listen({{0, 1}}, Kind::Range));
    const std::string key = listener_key(store.map[salt_key(kDay1)].value, kAddress, kAgent, kFile, kDay1);
    store.map[key].value = "";
    EXPECT_EQ(t.record(store, listen({{5, 6}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(store.map[key].value, "5-6");
}

// A dup costs one read and no write: the cache is not rewritten by every repeat of a file.
TEST(TallyStore, ADupNeedsNoStoreOnceThisProcessKnowsTheDownload)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    ASSERT_EQ(t.record(store, whole()).state, State::Counted);
    store.reset_counts();
    expect_verdict(t.record(store, whole()), State::Dup, false, false, false);
    EXPECT_EQ(store.gets, 0);
    EXPECT_EQ(store.puts, 0);
    // Counted by another server: one read tells, then this one remembers it.
    Tally other = w.tally();
    store.reset_counts();
    expect_verdict(other.record(store, whole()), State::Dup, false, false, true);
    EXPECT_EQ(store.gets, 2);  // today's salt, then the entry
    EXPECT_EQ(store.puts, 0);
    store.reset_counts();
    expect_verdict(other.record(store, whole()), State::Dup, false, false, false);
    EXPECT_EQ(store.gets, 0);
    // A partial: a read, a write, the pause and the read back (tally.cpp, add_bytes).
    store.reset_counts();
    EXPECT_EQ(t.record(store, listen({{0, 10}}, Kind::Range, Client::Ok, "192.0.2.9")).state, State::Partial);
    EXPECT_EQ(store.gets, 2);
    EXPECT_EQ(store.puts, 1);
    EXPECT_EQ(w.pauses, 1);
    // Bytes the entry has already: the read alone.
    store.reset_counts();
    EXPECT_EQ(t.record(store, listen({{2, 8}}, Kind::Range, Client::Ok, "192.0.2.9")).state, State::Partial);
    EXPECT_EQ(store.gets, 1);
    EXPECT_EQ(store.puts, 0);
    // The download: its read, then the splitter's two writes and two reads, then "c".
    store.reset_counts();
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, "192.0.2.9")).state, State::Counted);
    EXPECT_EQ(store.gets, 3);
    EXPECT_EQ(store.puts, 3);
}

// A duplicate is known by the listener itself: when the salt is due to be read again, the dup
// still asks nothing of the store.
TEST(TallyStore, ADupNeedsNoSaltWhenItsRecheckIsDue)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    ASSERT_EQ(t.record(store, whole()).state, State::Counted);
    w.now += 61;
    store.reset_counts();
    expect_verdict(t.record(store, whole()), State::Dup, false, false, false);
    EXPECT_EQ(store.gets, 0);
    EXPECT_EQ(store.puts, 0);
    // A listener not counted yet reads the salt again, then its entry (and reads it back).
    expect_verdict(t.record(store, listen({{0, 10}}, Kind::Range, Client::Ok, "192.0.2.9")), State::Partial,
                   false, false, true);
    EXPECT_EQ(store.gets, 3);
}

// A store whose lock keeps every other writer out (shmcb under its global mutex): nothing can
// come between a read and a write, so a partial is one read and one write with no pause, and
// the download one read and "c", as before the fleet's read back and splitter.
TEST(TallyStore, AnExclusiveStoreNeedsNoReadBackNorSplitter)
{
    struct ExclusiveStore final : MapStore {
        bool exclusive() const override { return true; }
    } store;
    World w;
    Tally t = w.tally();
    t.record(store, listen({{0, 1}}, Kind::Range, Client::Ok, "192.0.2.9"));  // the salt
    store.reset_counts();
    expect_verdict(t.record(store, listen({{0, 10}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(store.gets, 1);
    EXPECT_EQ(store.puts, 1);
    store.reset_counts();
    expect_verdict(t.record(store, whole()), State::Counted, true, false, true);
    EXPECT_EQ(store.gets, 1);
    EXPECT_EQ(store.puts, 1);
    EXPECT_EQ(entry(store, kDay1), "c");
    EXPECT_EQ(w.pauses, 0);
    const std::string key = listener_key(store.map.at(salt_key(kDay1)).value, kAddress, kAgent, kFile, kDay1);
    EXPECT_EQ(store.map.count(key + ":d"), 0u);
}

// A request that stalled after its read (its thread not run for over half the pause) reads
// the entry again before it writes: another server's request may have written and read back
// meanwhile, and a write from the old read would replace its bytes unseen.
TEST(TallyStore, AReadOlderThanHalfThePauseIsMadeAgainBeforeTheWrite)
{
    struct StallingStore final : MapStore {
        World* world = nullptr;
        int stalls = 0;
        bool slow = false;
        Got get(const std::string& key, std::string& value) override
        {
            const Got got = MapStore::get(key, value);
            if (stalls > 0) {
                --stalls;
                world->micros += Tally::kReadBackPauseMs * 1000;
                map[key] = {"500-600", 0};  // another server's half, written meanwhile
            }
            world->micros += slow ? Tally::kReadBackPauseMs * 1000 : 0;
            return got;
        }
    } store;
    World w;
    store.world = &w;
    Tally t = w.tally();
    t.record(store, listen({{0, 1}}, Kind::Range, Client::Ok, "192.0.2.9"));  // the salt
    const std::string key = listener_key(store.map.at(salt_key(kDay1)).value, kAddress, kAgent, kFile, kDay1);
    store.reset_counts();
    store.stalls = 1;
    expect_verdict(t.record(store, listen({{0, 10}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(store.map.at(key).value, "0-10,500-600");
    EXPECT_EQ(store.gets, 3);  // the read, the read again, the read back
    EXPECT_EQ(store.puts, 1);
    // A store slower than half the pause: read once more, then written all the same.
    store.slow = true;
    store.reset_counts();
    expect_verdict(t.record(store, listen({{20, 30}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(store.map.at(key).value, "0-10,20-30,500-600");
    EXPECT_EQ(store.gets, 3);
    EXPECT_EQ(store.puts, 1);
}

// The `i`-th of many listeners (one address, many User-Agents).
std::string numbered_agent(int i)
{
    return "Agent/" + std::to_string(i);
}

Listen numbered_listener(const std::string& agent)
{
    return listen({{0, kSize}}, Kind::Full, Client::Ok, kAddress, agent);
}

// Listeners [from, to) of numbered_agent, each counted.
void count_listeners(Tally& t, MapStore& store, int from, int to)
{
    for (int i = from; i < to; ++i) {
        ASSERT_EQ(t.record(store, numbered_listener(numbered_agent(i))).state, State::Counted) << i;
    }
}

// Listener `i` of numbered_agent again: a dup, which the store tells (one read) when `asked`, else
// this process.
void expect_dup_of(Tally& t, MapStore& store, int i, bool asked)
{
    store.reset_counts();
    expect_verdict(t.record(store, numbered_listener(numbered_agent(i))), State::Dup, false, false, asked);
    EXPECT_EQ(store.gets, asked ? 1 : 0) << i;
}

// The process remembers kMaxRemembered counted listeners, then starts over: the listeners
// counted first are asked of the store again (which still says counted), the last are not.
TEST(TallyStore, TheMemoOfCountedListenersIsBounded)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const int n = static_cast<int>(Tally::kMaxRemembered) + 100;
    count_listeners(t, store, 0, n);
    EXPECT_EQ(t.remembered(), 100u);
    expect_dup_of(t, store, 0, true);
    expect_dup_of(t, store, n - 1, false);
}

// At midnight UTC the memo is emptied by whatever request comes next, one that counts nothing
// too: no listener of yesterday stays in this process's memory past the day.
TEST(TallyStore, TheMemoIsEmptiedAtMidnightByTheClock)
{
    World w;
    w.now = kT0 + kDay - 2;
    Tally t = w.tally();
    MapStore store;
    ASSERT_EQ(t.record(store, whole()).state, State::Counted);
    ASSERT_EQ(t.record(store, listen({{0, 1}}, Kind::Probe)).state, State::Ignored);
    EXPECT_EQ(t.remembered(), 1u);
    w.now = kT0 + kDay;
    EXPECT_EQ(t.record(store, listen({{0, 1}}, Kind::Probe)).state, State::Ignored);
    EXPECT_EQ(t.remembered(), 0u);
}

// The logs' listener: the tag of the store's salt with the address and agent, on every verdict
// that had the salt at hand; none for a dup this process remembered, nor a request alone.
TEST(TallyStore, VerdictsCarryTheListenersTag)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    const Verdict partial = t.record(store, listen({{0, 10}}, Kind::Range));
    const std::string salt = store.map.at(salt_key(kDay1)).value;
    EXPECT_EQ(partial.listener, listener_tag(salt, kAddress, kAgent));
    EXPECT_EQ(t.record(store, whole()).listener, partial.listener);
    EXPECT_EQ(t.record(store, whole()).listener, "");                 // remembered: no salt read
    EXPECT_EQ(w.tally().record(store, whole()).listener, partial.listener);  // the store said counted
    EXPECT_EQ(Tally::record_alone(whole()).listener, "");
}

// With a secret the store's keys are made with SHA-1(secret, salt): the store's salt alone
// finds no entry, and servers that share the secret count together.
TEST(TallyStore, ASecretKeysTheStore)
{
    World w;
    Tally t([&w] { return w.now; }, [](std::size_t n) { return std::string(n, 's'); }, "fleet secret");
    MapStore store;
    ASSERT_EQ(t.record(store, listen({{0, 10}}, Kind::Range)).state, State::Partial);
    const std::string salt = store.map.at(salt_key(kDay1)).value;
    EXPECT_EQ(entry(store, kDay1), "<absent>");
    EXPECT_TRUE(store.map.count(listener_key(keyed_salt("fleet secret", salt), kAddress, kAgent, kFile, kDay1)));
    Tally peer([&w] { return w.now; }, [](std::size_t n) { return std::string(n, 'p'); }, "fleet secret");
    EXPECT_EQ(peer.record(store, listen({{10, kSize - 10}}, Kind::Range)).state, State::Counted);
    Tally stranger([&w] { return w.now; }, [](std::size_t n) { return std::string(n, 'x'); }, "other");
    EXPECT_EQ(stranger.record(store, whole()).state, State::Counted);  // its keys are other keys
}

// Yesterday's listeners leave the memo on a new day: it then holds today's only, so day 1's
// listeners do not push out day 2's first ones.
TEST(TallyStore, TheMemoStartsOverOnANewDay)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    count_listeners(t, store, 0, 500);
    w.now += kDay;
    count_listeners(t, store, 1000, 1100);
    EXPECT_EQ(t.remembered(), 100u);
    expect_dup_of(t, store, 1000, false);
}

// The cache restarted and another server put a new salt: the listener's entry is under a key
// this process no longer makes, but the process knows the download, so it is not counted twice.
TEST(TallyStore, ADupOutlivesANewSaltInTheStore)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    ASSERT_EQ(t.record(store, whole()).state, State::Counted);
    store.map.clear();
    Tally other = w.tally();
    ASSERT_EQ(other.record(store, listen({{0, 10}}, Kind::Range, Client::Ok, "192.0.2.9")).state, State::Partial);
    w.now += 61;
    store.reset_counts();
    expect_verdict(t.record(store, whole()), State::Dup, false, false, false);
    EXPECT_EQ(store.gets, 0);
}

// Two listeners whose address and user agent run together alike are two listeners.
TEST(TallyStore, ListenersDoNotRunTogether)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    ASSERT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, "192.0.2.1", "1 Player")).state,
              State::Counted);
    EXPECT_EQ(t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, "192.0.2.11", " Player")).state,
              State::Counted);
}

// The salt read, then the store fails when the minute's re-check comes: today's salt goes on
// serving, so counting with the entries the store still answers is not interrupted.
TEST(TallyStore, TodaysSaltOutlivesAFailedRecheck)
{
    World w;
    Tally t = w.tally();
    MapStore store;
    EXPECT_EQ(t.record(store, listen({{0, 10}}, Kind::Range)).state, State::Partial);
    const std::string first = entry(store, Tally::day_of(w.now));
    w.now += 61;
    store.fail_get = true;
    expect_verdict(t.record(store, listen({{10, 20}}, Kind::Range)), State::Partial, false, true, false);
    store.fail_get = false;
    // Within the retry pause: the salt this process has, and the entry it wrote before.
    expect_verdict(t.record(store, listen({{20, 30}}, Kind::Range)), State::Partial, false, false, true);
    EXPECT_EQ(entry(store, Tally::day_of(w.now)), "0-10,20-30");
    EXPECT_EQ(first, "0-10");
}

TEST(TallyStore, EachReadModifyWriteIsUnderTheStoreLock)
{
    World w;
    Tally t = w.tally();
    struct LockingStore final : MapStore {
        int depth = 0;
        int locks = 0;
        bool refuse = false;
        bool lock() override
        {
            if (refuse) {
                return false;
            }
            EXPECT_EQ(depth, 0);
            ++depth;
            ++locks;
            return true;
        }
        void unlock() override { --depth; }
        Got get(const std::string& key, std::string& value) override
        {
            EXPECT_EQ(depth, 1);
            return MapStore::get(key, value);
        }
        bool put(const std::string& key, const std::string& value, std::int64_t expires) override
        {
            EXPECT_EQ(depth, 1);
            return MapStore::put(key, value, expires);
        }
    } store;
    EXPECT_EQ(t.record(store, listen({{0, 10}}, Kind::Range)).state, State::Partial);
    EXPECT_EQ(store.locks, 2);  // the salt, then the entry
    EXPECT_EQ(store.depth, 0);
    // A lock that cannot be taken: the request alone decides.
    store.refuse = true;
    expect_verdict(t.record(store, listen({{0, 10}}, Kind::Range, Client::Ok, "192.0.2.77")), State::Partial,
                   false, true, false);
}

// ---- two servers at once (no compare-and-set) ------------------------------------------------

// Two servers' Tallies on one store, each request on its own thread, their gets and puts taken
// in the order a schedule says ("ab" is one operation of a, then one of b); once the schedule
// is used up, or one request is done, the other runs on. Each operation is atomic, as one key's
// get or put is in memcached and Redis.
class Interleaved {
public:
    class Side final : public Store {
    public:
        Side(Interleaved& race, int who) : race_(race), who_(who) {}
        Got get(const std::string& key, std::string& value) override
        {
            return race_.in_turn(who_, [&] { return race_.map.get(key, value); });
        }
        bool put(const std::string& key, const std::string& value, std::int64_t expires) override
        {
            return race_.in_turn(who_, [&] { return race_.map.put(key, value, expires); });
        }

    private:
        Interleaved& race_;
        int who_;
    };

    // Runs a's and b's request at once in `schedule`'s order; their verdicts.
    std::vector<Verdict> run(const std::string& schedule, Tally& a, const Listen& la, Tally& b, const Listen& lb)
    {
        schedule_ = schedule;
        next_ = 0;
        done_[0] = done_[1] = false;
        std::vector<Verdict> verdicts(2, Verdict{State::Ignored, false});
        Side sa(*this, 0);
        Side sb(*this, 1);
        std::thread ta([&] { verdicts[0] = a.record(sa, la); finish(0); });
        std::thread tb([&] { verdicts[1] = b.record(sb, lb); finish(1); });
        ta.join();
        tb.join();
        return verdicts;
    }

    MapStore map;

private:
    template <typename Op>
    auto in_turn(int who, Op op) -> decltype(op())
    {
        std::unique_lock<std::mutex> lock(mutex_);
        turn_.wait(lock, [&] {
            return next_ >= schedule_.size() || schedule_[next_] - 'a' == who || done_[1 - who];
        });
        ++next_;
        auto result = op();
        turn_.notify_all();
        return result;
    }

    void finish(int who)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        done_[who] = true;
        turn_.notify_all();
    }

    std::mutex mutex_;
    std::condition_variable turn_;
    std::string schedule_;
    std::size_t next_ = 0;
    bool done_[2] = {false, false};
};

// Two servers that have today's salt (read before the race, so that the schedules are the
// listener's entry alone).
struct Fleet {
    World w;
    Tally a = w.tally();
    Tally b = w.tally();
    Interleaved race;

    Fleet()
    {
        a.record(race.map, listen({{0, 1}}, Kind::Range, Client::Ok, "198.51.100.1"));
        b.record(race.map, listen({{0, 1}}, Kind::Range, Client::Ok, "198.51.100.2"));
    }

    int downloads(const std::string& schedule, const Listen& la, const Listen& lb)
    {
        const std::vector<Verdict> v = race.run(schedule, a, la, b, lb);
        return v[0].download + v[1].download;
    }
};

Listen first_half() { return listen({{0, kThreshold / 2}}, Kind::Range); }
Listen second_half() { return listen({{kThreshold / 2, kThreshold}}, Kind::Range); }

// The race the fleet test measures: the halves of one download finish at once on two servers,
// both read the entry before either writes it. The read back shows one of them its bytes
// replaced; it writes both halves and counts.
TEST(TallyRace, HalvesThatBothReadBeforeEitherWritesCountOnce)
{
    for (const char* schedule : {"abababababababababab", "baababababababababab", "aabbaabbaabbaabbaabb"}) {
        Fleet f;
        EXPECT_EQ(f.downloads(schedule, first_half(), second_half()), 1) << schedule;
        EXPECT_EQ(entry(f.race.map, kDay1), "c") << schedule;
    }
}

// Two whole files at once (each one a download alone): the splitter lets one count, where a
// read-modify-write counted both.
TEST(TallyRace, TwoWholeFilesAtOnceCountOnce)
{
    for (const char* schedule : {"abababababababababab", "aabbaabbaabbaabbaabb", "abbaabbaabbaabbaabba"}) {
        Fleet f;
        EXPECT_EQ(f.downloads(schedule, whole(), whole()), 1) << schedule;
    }
}

// Every order of the two requests' operations (the first 14 of them; the rest as they come):
// never two downloads. Misses remain where one request stalls (the pause before the read back
// is not modelled here: each order is one schedule of 2^14): the halves when one request's
// write and read back both fall between the other's read and its write; the whole files when
// one's id is written between the other's setting of the decided key and its read of the entry.
TEST(TallyRace, NoInterleavingCountsTwice)
{
    const int length = 14;
    for (const bool halves : {true, false}) {
        int missed = 0;
        for (int bits = 0; bits < (1 << length); ++bits) {
            std::string schedule;
            for (int i = 0; i < length; ++i) {
                schedule += (bits >> i) & 1 ? 'b' : 'a';
            }
            Fleet f;
            const int n = halves ? f.downloads(schedule, first_half(), second_half()) : f.downloads(schedule, whole(), whole());
            ASSERT_LE(n, 1) << schedule;
            missed += n == 0;
        }
        std::printf("%s: %d of %d schedules missed\n", halves ? "halves" : "whole files", missed, 1 << length);
    }
}

// The miss that remains for the halves: b reads, writes and reads back its half all while a
// is between its read and its write; a's write replaces b's half, and both saw their own.
// Nothing is lost for good: the listener's next request of b's half makes the download.
TEST(TallyRace, AHalfReplacedAfterItsReadBackIsMissedUntilTheNextRequest)
{
    Fleet f;
    EXPECT_EQ(f.downloads("abbbaa", first_half(), second_half()), 0);
    EXPECT_EQ(entry(f.race.map, kDay1), "0-" + std::to_string(kThreshold / 2));
    expect_verdict(f.b.record(f.race.map, second_half()), State::Counted, true, false, true);
}

// The splitter's miss: b writes its id between a's setting of the decided key and a's read of
// the entry; a then sees b's id, b sees the key set, and neither counts. The entry keeps b's
// mark: the download is not counted today (a miss, never a double count).
TEST(TallyRace, AnIdWrittenBetweenTheOthersDoorAndCheckIsAMiss)
{
    Fleet f;
    // a: read; b: read; a: write id, read decided, set decided; b: write id; a: read entry.
    EXPECT_EQ(f.downloads("abaaaba", whole(), whole()), 0);
    EXPECT_EQ(f.a.record(f.race.map, whole()).state, State::Dup);
}

// ---- record_alone ------------------------------------------------------------------------------

TEST(TallyAlone, DecidesFromTheRequestAlone)
{
    expect_verdict(Tally::record_alone(whole()), State::Counted, true, true, false);
    expect_verdict(Tally::record_alone(listen({{0, kThreshold}}, Kind::Cut)), State::Counted, true, true, false);
    expect_verdict(Tally::record_alone(listen({{0, kThreshold - 1}}, Kind::Range)), State::Partial, false, true,
                   false);
    // Overlapping ranges of one response count once.
    expect_verdict(Tally::record_alone(listen({{0, kThreshold - 1}, {0, kThreshold - 1}}, Kind::Range)),
                   State::Partial, false, true, false);
    expect_verdict(Tally::record_alone(listen({})), State::Partial, false, false, false);
    expect_verdict(Tally::record_alone(listen({{0, kSize}}, Kind::Probe)), State::Ignored, false, false, false);
    expect_verdict(Tally::record_alone(listen({{0, kSize}}, Kind::Full, Client::WatchOs)), State::Ignored, false,
                   false, false);
}

// ---- names, threads ----------------------------------------------------------------------------

TEST(TallyNames, AreTheLogValues)
{
    EXPECT_STREQ(kind_name(Kind::Full), "full");
    EXPECT_STREQ(kind_name(Kind::Range), "range");
    EXPECT_STREQ(kind_name(Kind::Probe), "probe");
    EXPECT_STREQ(kind_name(Kind::Head), "head");
    EXPECT_STREQ(kind_name(Kind::NotModified), "notmod");
    EXPECT_STREQ(kind_name(Kind::Cut), "cut");
    EXPECT_STREQ(kind_name(Kind::Error), "error");
    EXPECT_STREQ(state_name(State::Counted), "counted");
    EXPECT_STREQ(state_name(State::Dup), "dup");
    EXPECT_STREQ(state_name(State::Partial), "partial");
    EXPECT_STREQ(state_name(State::Ignored), "ignored");
}

// A store safe across threads (the glue serializes one that is not), one Tally shared by
// threads that ask for the salt at once: every listener is counted once, with one salt.
class LockedStore : public Store {
public:
    Got get(const std::string& key, std::string& value) override
    {
        std::lock_guard<std::mutex> lock(mutex);
        return inner.get(key, value);
    }
    bool put(const std::string& key, const std::string& value, std::int64_t expires) override
    {
        std::lock_guard<std::mutex> lock(mutex);
        return inner.put(key, value, expires);
    }
    std::mutex mutex;
    MapStore inner;
};

TEST(TallyThreads, OneTallySharedByThreadsMakesOneSaltAndCountsEachListenerOnce)
{
    std::atomic<std::int64_t> now{kT0 + 100};
    std::atomic<int> salts{0};
    Tally t([&now] { return now.load(); },
            [&salts](std::size_t n) {
                ++salts;
                return std::string(n, 's');
            });
    LockedStore store;
    const std::vector<std::string> addresses = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
    std::vector<int> counted(addresses.size(), 0);
    std::vector<int> dups(addresses.size(), 0);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        threads.emplace_back([&, i] {
            for (int n = 0; n < 300; ++n) {
                now += 1;  // the salt is read again every minute
                const State s = t.record(store, listen({{0, kSize}}, Kind::Full, Client::Ok, addresses[i])).state;
                counted[i] += s == State::Counted;
                dups[i] += s == State::Dup;
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        EXPECT_EQ(counted[i], 1) << addresses[i];
        EXPECT_EQ(dups[i], 299) << addresses[i];
    }
    EXPECT_EQ(salts.load(), 1);
}

}  // namespace
}  // namespace audio_stream::stats
