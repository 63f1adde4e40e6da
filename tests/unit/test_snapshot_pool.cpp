// SnapshotPool and fill_snapshot: private copies of bodies for HTTP/2, on real files.
#include "src/snapshot_pool.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace audio_stream {
namespace {

class SnapshotTest : public ::testing::Test {
protected:
    static constexpr std::size_t kSize = 100000;
    static constexpr std::size_t kCapacity = 64 * 1024;
    static constexpr std::size_t kWarm = 1 << 30;  // no slot gives its pages back

    void SetUp() override
    {
        if (!SnapshotPool::supported()) {
            GTEST_SKIP() << "no memory files on this system";
        }
        ASSERT_EQ(apr_initialize(), APR_SUCCESS);
        ASSERT_EQ(apr_pool_create(&pool_, nullptr), APR_SUCCESS);
        char name[] = "/tmp/as_snapshot_XXXXXX";
        const int fd = mkstemp(name);
        ASSERT_GE(fd, 0);
        path_ = name;
        for (std::size_t i = 0; i < kSize; ++i) {
            content_.push_back(static_cast<char>((i * 131 + 7) % 251));
        }
        ASSERT_EQ(write(fd, content_.data(), content_.size()), static_cast<ssize_t>(kSize));
        close(fd);
        ASSERT_EQ(apr_file_open(&file_, path_.c_str(), APR_READ | APR_BINARY, 0, pool_), APR_SUCCESS);
    }
    void TearDown() override
    {
        if (pool_) {
            apr_pool_destroy(pool_);
            unlink(path_.c_str());
        }
    }

    // What the slot's memory file holds, read back through its descriptor (as mod_http2 does).
    static std::string read_back(const SnapshotPool::Slot& s)
    {
        std::string out(s.length, '\0');
        EXPECT_EQ(pread(s.fd, out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
        return out;
    }

    apr_pool_t* pool_ = nullptr;
    apr_file_t* file_ = nullptr;
    std::string path_;
    std::string content_;
};

TEST_F(SnapshotTest, HoldsFileExtentsAndMemoryBlocksInOrder)
{
    SnapshotPool pool(2, kCapacity, kWarm);
    SnapshotPool::Slot* s = pool.acquire(30);
    ASSERT_NE(s, nullptr);
    const Extents body{MemoryBlock{"--head--"}, FileExtent{1234, 10}, MemoryBlock{"|"}, FileExtent{99990, 10}};
    ASSERT_EQ(fill_snapshot(*s, pool.capacity(), file_, body), APR_SUCCESS);
    EXPECT_EQ(s->length, 29u);
    EXPECT_EQ(read_back(*s), "--head--" + content_.substr(1234, 10) + "|" + content_.substr(99990, 10));
    pool.release(s);
}

TEST_F(SnapshotTest, AFileShorterThanThePlanIsEof)
{
    // The plan promised bytes 90000-109999 of a file that ends at 100000.
    SnapshotPool pool(1, kCapacity, kWarm);
    SnapshotPool::Slot* s = pool.acquire(20000);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(fill_snapshot(*s, pool.capacity(), file_, {FileExtent{90000, 20000}}), APR_EOF);
    pool.release(s);
}

TEST_F(SnapshotTest, TruncatingTheFileAfterwardsLeavesTheSnapshotWhole)
{
    SnapshotPool pool(1, kCapacity, kWarm);
    SnapshotPool::Slot* s = pool.acquire(50000);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(fill_snapshot(*s, pool.capacity(), file_, {FileExtent{10000, 50000}}), APR_SUCCESS);
    ASSERT_EQ(truncate(path_.c_str(), 100), 0);
    EXPECT_EQ(read_back(*s), content_.substr(10000, 50000));
    pool.release(s);
}

TEST_F(SnapshotTest, ABodyLargerThanASlotIsRefused)
{
    SnapshotPool pool(1, kCapacity, kWarm);
    EXPECT_EQ(pool.acquire(kCapacity + 1), nullptr);
    SnapshotPool::Slot* s = pool.acquire(kCapacity);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(fill_snapshot(*s, pool.capacity(), file_, {FileExtent{0, kCapacity}, MemoryBlock{"x"}}), APR_ENOSPC);
    pool.release(s);
}

TEST_F(SnapshotTest, SlotsAreBoundedAndReusedMostRecentFirst)
{
    SnapshotPool pool(2, kCapacity, kWarm);
    SnapshotPool::Slot* a = pool.acquire(1);
    SnapshotPool::Slot* b = pool.acquire(1);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    EXPECT_EQ(pool.acquire(1), nullptr);  // every slot in use: the caller reads in chunks
    EXPECT_EQ(pool.slots_in_use(), 2u);
    pool.release(a);
    pool.release(b);
    EXPECT_EQ(pool.acquire(1), b);  // its pages are the warmest
    EXPECT_EQ(pool.slots_made(), 2u);
    EXPECT_EQ(pool.slots_in_use(), 1u);
    pool.release(b);
}

TEST_F(SnapshotTest, PagesPastTheWarmBudgetGoBackToTheKernel)
{
    SnapshotPool pool(2, kCapacity, 100 * 1024);
    SnapshotPool::Slot* a = pool.acquire(kCapacity);
    SnapshotPool::Slot* b = pool.acquire(kCapacity);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(fill_snapshot(*a, pool.capacity(), file_, {FileExtent{0, kCapacity}}), APR_SUCCESS);
    ASSERT_EQ(fill_snapshot(*b, pool.capacity(), file_, {FileExtent{1, kCapacity}}), APR_SUCCESS);
    pool.release(a);  // 64 KiB warm: within the budget, kept
    EXPECT_EQ(pool.touched_bytes(), kCapacity);
    EXPECT_EQ(std::string(a->data, 16), content_.substr(0, 16));
    pool.release(b);  // 128 KiB would pass it: b's pages go
    EXPECT_EQ(pool.touched_bytes(), kCapacity);
    EXPECT_EQ(std::string(b->data, 16), std::string(16, '\0'));
    // A slot that gave its pages back still takes a snapshot.
    SnapshotPool::Slot* again = pool.acquire(10);
    ASSERT_EQ(again, b);
    ASSERT_EQ(fill_snapshot(*again, pool.capacity(), file_, {FileExtent{500, 10}}), APR_SUCCESS);
    EXPECT_EQ(read_back(*again), content_.substr(500, 10));
    pool.release(again);
}

TEST_F(SnapshotTest, ThreadsShareThePoolWithoutHandingOutASlotTwice)
{
    SnapshotPool pool(4, kCapacity, kWarm);
    std::vector<std::thread> threads;
    std::vector<int> wrong(8, 0);
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                SnapshotPool::Slot* s = pool.acquire(8);
                if (!s) {
                    continue;
                }
                const std::string mine(8, static_cast<char>('a' + t));
                if (fill_snapshot(*s, pool.capacity(), file_, {MemoryBlock{mine}}) != APR_SUCCESS ||
                    std::string(s->data, 8) != mine) {
                    ++wrong[t];
                }
                pool.release(s);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (int t = 0; t < 8; ++t) {
        EXPECT_EQ(wrong[t], 0) << "thread " << t;
    }
    EXPECT_LE(pool.slots_made(), 4u);
    EXPECT_EQ(pool.slots_in_use(), 0u);
}

}  // namespace
}  // namespace audio_stream
