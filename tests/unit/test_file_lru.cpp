// The one per-child cache shape (src/cache/file_lru.h): keys of file identity and more, both
// bounds, second-chance eviction, lookups that share the lock.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/cache/file_lru.h"

namespace audio_stream {
namespace {

using Lru = FileLru<int, std::string>;

const FileIdentity kFile{1, 42, 6000, 1700000000000000};

std::shared_ptr<const std::string> value(const char* text) { return std::make_shared<const std::string>(text); }

TEST(FileLru, FindsByIdentityAndKey)
{
    Lru lru(8, 1000);
    lru.insert(kFile, 1, value("one"), 10);
    EXPECT_EQ(*lru.find(kFile, 1), "one");
    EXPECT_EQ(lru.find(kFile, 2), nullptr);
    EXPECT_EQ(lru.find(FileIdentity{1, 42, 6000, kFile.mtime + 1}, 1), nullptr);
}

TEST(FileLru, TheOldestUnusedGoesFirstAndAUsedOneGetsASecondChance)
{
    Lru lru(3, 1000);
    lru.insert(kFile, 1, value("1"), 10);
    lru.insert(kFile, 2, value("2"), 10);
    lru.insert(kFile, 3, value("3"), 10);
    ASSERT_NE(lru.find(kFile, 1), nullptr);  // the oldest, used
    lru.insert(kFile, 4, value("4"), 10);
    EXPECT_NE(lru.find(kFile, 1), nullptr);
    EXPECT_EQ(lru.find(kFile, 2), nullptr);  // the oldest not used since
    // 1's chance is spent only when it is passed again unused: 3 goes next, then 1.
    lru.insert(kFile, 5, value("5"), 10);
    EXPECT_EQ(lru.find(kFile, 3), nullptr);
    EXPECT_NE(lru.find(kFile, 1), nullptr);
}

TEST(FileLru, WhenEveryEntryWasUsedTheOldestStillGoes)
{
    Lru lru(2, 1000);
    lru.insert(kFile, 1, value("1"), 10);
    lru.insert(kFile, 2, value("2"), 10);
    ASSERT_NE(lru.find(kFile, 1), nullptr);
    ASSERT_NE(lru.find(kFile, 2), nullptr);
    lru.insert(kFile, 3, value("3"), 10);
    EXPECT_EQ(lru.entries(), 2u);
    EXPECT_EQ(lru.find(kFile, 1), nullptr);
    EXPECT_NE(lru.find(kFile, 3), nullptr);
}

TEST(FileLru, KeepsWithinItsBytesAndRefusesWhatAloneExceedsThem)
{
    Lru lru(100, 30);
    for (int k = 0; k < 10; ++k) {
        lru.insert(kFile, k, value("x"), 10);
        EXPECT_LE(lru.bytes(), 30u);
    }
    EXPECT_EQ(lru.entries(), 3u);
    lru.insert(kFile, 99, value("too large"), 31);
    EXPECT_EQ(lru.find(kFile, 99), nullptr);
    EXPECT_EQ(lru.bytes(), 30u);
}

TEST(FileLru, InsertingAKeyAgainReplacesIt)
{
    Lru lru(8, 1000);
    lru.insert(kFile, 1, value("old"), 10);
    lru.insert(kFile, 1, value("new"), 20);
    EXPECT_EQ(lru.entries(), 1u);
    EXPECT_EQ(lru.bytes(), 20u);
    EXPECT_EQ(*lru.find(kFile, 1), "new");
}

TEST(FileLru, NoEntriesAllowedKeepsNothing)
{
    Lru lru(0, 1000);
    lru.insert(kFile, 1, value("1"), 10);
    EXPECT_EQ(lru.entries(), 0u);
}

TEST(FileLru, ThreadsShareIt)
{
    Lru lru(16, 1 << 20);
    std::atomic<int> found{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&lru, &found, i] {
            for (int n = 0; n < 4000; ++n) {
                const int k = n % 2 == 0 ? (n / 2) % 8 : 8 + (n * 7 + i) % 40;
                if (const auto v = lru.find(kFile, k)) {
                    EXPECT_EQ(*v, std::to_string(k));
                    ++found;
                }
                else {
                    lru.insert(kFile, k, std::make_shared<const std::string>(std::to_string(k)), 64);
                }
                ASSERT_LE(lru.entries(), 16u);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_GT(found.load(), 0);
}

}  // namespace
}  // namespace audio_stream
