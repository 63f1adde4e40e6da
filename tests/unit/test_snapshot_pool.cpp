// SnapshotPool and fill_snapshot: private copies of bodies for HTTP/2, on real files.
#include "src/snapshot_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/memory_file.h"
#include "tests/unit/real_file.h"

namespace audio_stream {
namespace {

class SnapshotTest : public RealFileTest<100000> {
protected:
    static constexpr std::size_t kCapacity = 64 * 1024;
    static constexpr std::size_t kWarm = 1 << 30;  // a page budget no test here reaches

    void SetUp() override
    {
        if (!SnapshotPool::supported()) {
            GTEST_SKIP() << "no memory files on this system";
        }
        RealFileTest::SetUp();
    }

    // What the slot's memory file holds, read back through its descriptor (as mod_http2 does).
    static std::string read_back(const SnapshotPool::Slot& s)
    {
        std::string out(s.length, '\0');
        EXPECT_EQ(pread(s.fd, out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
        return out;
    }

    // Runs `one(t, i)` 500 times on each of 8 threads at once; expects it never to return false.
    template <typename F>
    static void on_eight_threads(F one)
    {
        std::vector<std::thread> threads;
        std::vector<int> wrong(8, 0);
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 500; ++i) {
                    wrong[t] += one(t, i) ? 0 : 1;
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        for (int t = 0; t < 8; ++t) {
            EXPECT_EQ(wrong[t], 0) << "thread " << t;
        }
    }
};

TEST_F(SnapshotTest, HoldsFileExtentsAndMemoryBlocksInOrder)
{
    SnapshotPool pool(2, kCapacity, kWarm);
    SnapshotPool::Slot* s = pool.acquire(30);
    ASSERT_NE(s, nullptr);
    const Extents body{MemoryBlock{"--head--"}, FileExtent{1234, 10}, MemoryBlock{"|"}, FileExtent{99990, 10}};
    ASSERT_EQ(fill_snapshot(*s, file_, body), APR_SUCCESS);
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
    EXPECT_EQ(fill_snapshot(*s, file_, {FileExtent{90000, 20000}}), APR_EOF);
    pool.release(s);
}

TEST_F(SnapshotTest, TruncatingTheFileAfterwardsLeavesTheSnapshotWhole)
{
    SnapshotPool pool(1, kCapacity, kWarm);
    SnapshotPool::Slot* s = pool.acquire(50000);
    ASSERT_NE(s, nullptr);
    ASSERT_EQ(fill_snapshot(*s, file_, {FileExtent{10000, 50000}}), APR_SUCCESS);
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
    EXPECT_EQ(fill_snapshot(*s, file_, {FileExtent{0, kCapacity}, MemoryBlock{"x"}}), APR_ENOSPC);
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

TEST_F(SnapshotTest, ABudgetBoundsThePagesOfAllSlotsInUseOrFree)
{
    constexpr std::size_t K = 1024;
    SnapshotPool pool(3, kCapacity, 100 * K);
    SnapshotPool::Slot* a = pool.acquire(64 * K);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(pool.acquire(64 * K), nullptr);  // 128 KiB of pages: over the budget, read in chunks
    SnapshotPool::Slot* c = pool.acquire(30 * K);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(pool.touched_bytes(), 94 * K);
    ASSERT_EQ(fill_snapshot(*c, file_, {FileExtent{0, 30 * K}}), APR_SUCCESS);
    pool.release(a);
    // A free slot whose pages already cover the body costs nothing.
    EXPECT_EQ(pool.acquire(40 * K), a);
    EXPECT_EQ(pool.touched_bytes(), 94 * K);
    pool.release(c);
    pool.release(a);
    EXPECT_EQ(pool.acquire(64 * K), a);
    // c would have to grow by 34 KiB and no other free slot has pages to give: refused, and
    // nothing changes.
    EXPECT_EQ(pool.acquire(64 * K), nullptr);
    EXPECT_EQ(pool.touched_bytes(), 94 * K);
    pool.release(a);
}

TEST_F(SnapshotTest, KeepFreeLeavesThatMuchOfTheBudgetToOthers)
{
    constexpr std::size_t K = 1024;
    SnapshotPool pool(4, kCapacity, 100 * K);
    SnapshotPool::Slot* a = pool.acquire(40 * K);
    ASSERT_NE(a, nullptr);
    // In use 40 KiB, asked 40 KiB, to keep 30 KiB: 110 KiB, over the budget.
    EXPECT_EQ(pool.acquire(40 * K, 30 * K), nullptr);
    EXPECT_EQ(pool.touched_bytes(), 40 * K);
    // Exactly the budget: taken.
    SnapshotPool::Slot* b = pool.acquire(30 * K, 30 * K);
    ASSERT_NE(b, nullptr);
    // Without keep_free the rest of the budget is anyone's.
    SnapshotPool::Slot* c = pool.acquire(30 * K);
    ASSERT_NE(c, nullptr);
    pool.release(a);
    pool.release(b);
    pool.release(c);
    // Free slots' pages are not in use: they do not count against keep_free.
    SnapshotPool::Slot* d = pool.acquire(60 * K, 40 * K);
    EXPECT_NE(d, nullptr);
    pool.release(d);
}

TEST_F(SnapshotTest, RoomIsMadeFromTheLeastRecentlyUsedFreeSlots)
{
    constexpr std::size_t K = 1024;
    SnapshotPool pool(3, kCapacity, 100 * K);
    SnapshotPool::Slot* x = pool.acquire(30 * K);
    SnapshotPool::Slot* y = pool.acquire(30 * K);
    SnapshotPool::Slot* z = pool.acquire(30 * K);
    ASSERT_TRUE(x && y && z);
    ASSERT_EQ(fill_snapshot(*x, file_, {FileExtent{0, 30 * K}}), APR_SUCCESS);
    pool.release(x);
    pool.release(y);
    pool.release(z);
    // No free slot covers 64 KiB: z (the most recent) grows by 34 KiB, x's pages make room.
    EXPECT_EQ(pool.acquire(64 * K), z);
    EXPECT_EQ(pool.touched_bytes(), 94 * K);
    EXPECT_EQ(std::string(x->data, 16), std::string(16, '\0'));  // its pages went back
    pool.release(z);
    EXPECT_EQ(pool.slots_made(), 3u);
}

TEST_F(SnapshotTest, ThreadsShareThePoolWithoutHandingOutASlotTwice)
{
    SnapshotPool pool(4, kCapacity, kWarm);
    on_eight_threads([&](int t, int) {
        SnapshotPool::Slot* s = pool.acquire(8);
        if (!s) {
            return true;
        }
        const std::string mine(8, static_cast<char>('a' + t));
        const bool right = fill_snapshot(*s, file_, {MemoryBlock{mine}}) == APR_SUCCESS && std::string(s->data, 8) == mine;
        pool.release(s);
        return right;
    });
    EXPECT_LE(pool.slots_made(), 4u);
    EXPECT_EQ(pool.slots_in_use(), 0u);
}

// ---- sharing ---------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// AudioStreamSnapshotDir: memory files made as unnamed files in a tmpfs directory.

// A directory of the test's own on /dev/shm (a tmpfs: no huge pages unless mounted with them).
class SnapshotDirTest : public SnapshotTest {
protected:
    void SetUp() override
    {
        SnapshotTest::SetUp();
        char name[] = "/dev/shm/as_snapshot_dir_XXXXXX";
        ASSERT_NE(mkdtemp(name), nullptr);
        dir_ = name;
    }
    void TearDown() override
    {
        rmdir(dir_.c_str());
        SnapshotTest::TearDown();
    }

    // Where the slot's descriptor points ("/memfd:..." or "<dir>/#inode (deleted)").
    static std::string link_of(const SnapshotPool::Slot& s)
    {
        char buf[512];
        const std::string fd = "/proc/self/fd/" + std::to_string(s.fd);
        const ssize_t n = readlink(fd.c_str(), buf, sizeof buf - 1);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }

    std::string dir_;
};

TEST_F(SnapshotDirTest, BodiesGoToUnnamedFilesInTheDirectoryThatNobodyElseSees)
{
    SnapshotPool pool(2, kCapacity, kWarm, dir_);
    // /dev/shm has 4 KiB pages unless the machine forces huge ones: counted to the byte.
    EXPECT_EQ(pool.dir_page_unit(), dir_page_size(dir_.c_str(), kCapacity));
    SnapshotPool::Slot* s = pool.acquire(30000);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->place, SnapshotPool::Place::Dir);
    EXPECT_EQ(link_of(*s).rfind(dir_ + "/", 0), 0u) << link_of(*s);
    ASSERT_EQ(fill_snapshot(*s, file_, {FileExtent{777, 30000}}), APR_SUCCESS);
    EXPECT_EQ(read_back(*s), content_.substr(777, 30000));
    EXPECT_EQ(pool.touched_bytes(), 30000u);
    EXPECT_EQ(rmdir(dir_.c_str()), 0) << "the directory should look empty";
    ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
    pool.release(s);
}

TEST_F(SnapshotDirTest, WithoutADirectoryBodiesGoToMemoryFiles)
{
    SnapshotPool pool(2, kCapacity, kWarm);
    SnapshotPool::Slot* s = pool.acquire(30000);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->place, SnapshotPool::Place::Memory);
    EXPECT_EQ(link_of(*s).rfind("/memfd:audio-stream-snapshot", 0), 0u) << link_of(*s);
    pool.release(s);
}

TEST_F(SnapshotDirTest, ADirectoryIsCheckedForTheCallersUserAndForBeingInMemory)
{
    EXPECT_EQ(SnapshotPool(1, kCapacity, kWarm, dir_).dir_error(), 0);
    EXPECT_EQ(SnapshotPool(1, kCapacity, kWarm, dir_ + "/missing").dir_error(), ENOENT);
    EXPECT_EQ(dir_page_size((dir_ + "/missing").c_str(), kCapacity), 0u);
    EXPECT_TRUE(in_memory_file_system(dir_.c_str()));
    EXPECT_FALSE(in_memory_file_system((dir_ + "/missing").c_str()));
    EXPECT_FALSE(in_memory_file_system("/proc/self"));      // a directory, not on a tmpfs
    EXPECT_FALSE(in_memory_file_system(path_.c_str()));     // the test's file on /tmp: not a directory
    const std::string file = dir_ + "/plain";
    const int fd = open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    close(fd);
    EXPECT_FALSE(in_memory_file_system(file.c_str()));      // on a tmpfs, not a directory
    EXPECT_EQ(unlink(file.c_str()), 0);
}

TEST_F(SnapshotDirTest, ADirectoryNoFileCanBeMadeInLeavesTheMemoryFiles)
{
    SnapshotPool pool(2, kCapacity, kWarm, dir_ + "/missing");
    SnapshotPool::Slot* s = pool.acquire(30000);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->place, SnapshotPool::Place::Memory);
    EXPECT_EQ(link_of(*s).rfind("/memfd:audio-stream-snapshot", 0), 0u) << link_of(*s);
    ASSERT_EQ(fill_snapshot(*s, file_, {FileExtent{0, 30000}}), APR_SUCCESS);
    EXPECT_EQ(read_back(*s), content_.substr(0, 30000));
    pool.release(s);
}

// Without a directory, bodies of half a huge page and more go to memory files whose pages the
// kernel collapses into huge ones (MADV_COLLAPSE), which it reads back two to three times
// faster; smaller ones to small pages, as before.
class SnapshotHugeMemoryTest : public SnapshotTest {
protected:
    static constexpr std::size_t kLarge = 4 << 20;  // AudioStreamSnapshotSize's default

    void SetUp() override
    {
        SnapshotTest::SetUp();
        if (!IsSkipped() && SnapshotPool(1, kLarge, kWarm).collapse_unit() == 0) {
            GTEST_SKIP() << "this kernel cannot collapse a memory file's pages (MADV_COLLAPSE, Linux 6.1)";
        }
    }

    // ShmemPmdMapped of the mapping that starts at `data` (/proc/self/smaps): bytes of huge
    // pages mapped there.
    static std::size_t huge_mapped(const char* data)
    {
        std::FILE* f = std::fopen("/proc/self/smaps", "re");
        if (!f) {
            return 0;
        }
        char line[512];
        bool ours = false;
        std::size_t kib = 0;
        while (std::fgets(line, sizeof line, f)) {
            unsigned long start = 0;
            unsigned long end = 0;
            if (std::sscanf(line, "%lx-%lx ", &start, &end) == 2 && std::strchr(line, '-') < std::strchr(line, ' ')) {
                ours = start == reinterpret_cast<std::uintptr_t>(data);
            }
            else if (ours && std::sscanf(line, "ShmemPmdMapped: %zu kB", &kib) == 1) {
                break;
            }
        }
        std::fclose(f);
        return kib * 1024;
    }

    // `n` bytes of body: the test file again and again.
    Extents body_of(std::size_t n) const
    {
        Extents body;
        for (std::size_t at = 0; at < n; at += content_.size()) {
            body.push_back(FileExtent{0, std::min<Offset>(content_.size(), n - at)});
        }
        return body;
    }

    std::string bytes_of(std::size_t n) const
    {
        std::string out;
        while (out.size() < n) {
            out += content_.substr(0, std::min(content_.size(), n - out.size()));
        }
        return out;
    }
};

TEST_F(SnapshotHugeMemoryTest, ALargeBodyGoesToHugePagesASmallOneToSmallPages)
{
    SnapshotPool pool(4, kLarge, kWarm);
    const std::size_t unit = pool.collapse_unit();
    ASSERT_GE(unit, std::size_t{2} << 20);
    const std::size_t large = unit / 2;
    SnapshotPool::Slot* s = pool.acquire(large);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->place, SnapshotPool::Place::HugeMemory);
    EXPECT_EQ(s->unit, unit);
    EXPECT_EQ(pool.touched_bytes(), unit);  // a byte written holds the whole huge page
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s->data) % unit, 0u);
    ASSERT_EQ(fill_snapshot(*s, file_, body_of(large)), APR_SUCCESS);
    EXPECT_EQ(read_back(*s), bytes_of(large));
    EXPECT_EQ(huge_mapped(s->data), unit);

    SnapshotPool::Slot* small = pool.acquire(large - 1);
    ASSERT_NE(small, nullptr);
    EXPECT_EQ(small->place, SnapshotPool::Place::Memory);
    EXPECT_EQ(pool.touched_bytes(), unit + large - 1);
    ASSERT_EQ(fill_snapshot(*small, file_, body_of(large - 1)), APR_SUCCESS);
    EXPECT_EQ(read_back(*small), bytes_of(large - 1));
    EXPECT_EQ(huge_mapped(small->data), 0u);
    pool.release(small);
    pool.release(s);
}

// The budget takes a free slot's huge pages for another body; the slot, taken again for a large
// body, is collapsed again.
TEST_F(SnapshotHugeMemoryTest, PagesTheBudgetTookAreCollapsedAgain)
{
    const std::size_t unit = SnapshotPool(1, kLarge, kWarm).collapse_unit();
    SnapshotPool pool(2, kLarge, unit);
    SnapshotPool::Slot* s = pool.acquire(unit);
    ASSERT_NE(s, nullptr);
    char* const huge_data = s->data;
    pool.release(s);
    SnapshotPool::Slot* small = pool.acquire(100000);
    ASSERT_NE(small, nullptr);
    EXPECT_EQ(small->place, SnapshotPool::Place::Memory);
    EXPECT_EQ(pool.touched_bytes(), 100000u);  // the huge slot's pages went back
    EXPECT_EQ(huge_mapped(huge_data), 0u);
    pool.release(small);
    s = pool.acquire(unit);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->data, huge_data);
    EXPECT_EQ(pool.touched_bytes(), unit);
    ASSERT_EQ(fill_snapshot(*s, file_, body_of(unit)), APR_SUCCESS);
    EXPECT_EQ(read_back(*s), bytes_of(unit));
    EXPECT_EQ(huge_mapped(s->data), unit);
    pool.release(s);
}

// A small body that only a free huge-page slot can take holds a whole huge page: what it leaves
// of the budget to others (keep_free) is counted so.
TEST_F(SnapshotHugeMemoryTest, KeepFreeCountsTheHugePageASmallBodyWouldHold)
{
    const std::size_t unit = SnapshotPool(1, kLarge, kWarm).collapse_unit();
    SnapshotPool pool(1, kLarge, 2 * unit);
    SnapshotPool::Slot* s = pool.acquire(unit);
    ASSERT_NE(s, nullptr);
    pool.release(s);
    EXPECT_EQ(pool.acquire(100000, unit + unit / 2), nullptr);  // 2 MiB held, 3 MiB kept: over 4
    s = pool.acquire(100000, unit / 2);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->place, SnapshotPool::Place::HugeMemory);
    pool.release(s);
}

TEST_F(SnapshotHugeMemoryTest, WithADirectoryNothingIsCollapsed)
{
    char name[] = "/dev/shm/as_snapshot_dir_XXXXXX";
    ASSERT_NE(mkdtemp(name), nullptr);
    {
        SnapshotPool pool(1, kLarge, kWarm, name);
        EXPECT_EQ(pool.collapse_unit(), 0u);
        SnapshotPool::Slot* s = pool.acquire(kLarge);
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->place, SnapshotPool::Place::Dir);
        pool.release(s);
    }
    EXPECT_EQ(rmdir(name), 0);
}

SnapshotKey key_of(std::uint64_t offset, std::uint64_t length, std::int64_t ctime = 7)
{
    return SnapshotKey{FileIdentity{1, 2, 100000, 5, ctime}, offset, length};
}

class SharedSnapshotTest : public SnapshotTest {
protected:
    void SetUp() override
    {
        SnapshotTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        SnapshotPool::Slot* first = pool_.acquire(1);  // the pool checks reopening on its first slot
        ASSERT_NE(first, nullptr);
        pool_.release(first);
        if (!pool_.shareable()) {
            GTEST_SKIP() << "memory files cannot be reopened through /proc here";
        }
    }
    // A slot filled with bytes [offset, offset + length) of the file and published.
    void fill(SnapshotPool::Slot*& s, std::uint64_t offset, std::uint64_t length)
    {
        s = pool_.acquire(length);
        ASSERT_NE(s, nullptr);
        ASSERT_EQ(fill_snapshot(*s, file_, {FileExtent{offset, length}}), APR_SUCCESS);
        pool_.publish(s, key_of(offset, length));
    }
    // The readers of `n` requests for the published slot `s`: the one that filled it, then
    // n - 1 that share it.
    std::vector<int> take_readers(SnapshotPool::Slot* s, const SnapshotKey& key, std::size_t n)
    {
        std::vector<int> readers;
        for (std::size_t i = 0; i < n; ++i) {
            if (i > 0) {
                EXPECT_EQ(pool_.share(key), s);
            }
            readers.push_back(pool_.take_reader(s));
            EXPECT_GE(readers.back(), 0);
        }
        return readers;
    }
    // Each of those requests over, its reader given back.
    void give_back(SnapshotPool::Slot* s, const std::vector<int>& readers)
    {
        for (const int r : readers) {
            pool_.release(s, r);
        }
    }
    SnapshotPool pool_{3, kCapacity, kWarm};
};

TEST_F(SharedSnapshotTest, APublishedSnapshotServesTheSameKeyWhileInUseAndOnceFree)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 500, 4000));
    EXPECT_EQ(pool_.share(key_of(500, 4000)), a);
    EXPECT_EQ(a->users, 2u);
    EXPECT_EQ(pool_.slots_in_use(), 1u);
    pool_.release(a);
    pool_.release(a);
    EXPECT_EQ(pool_.slots_in_use(), 0u);
    // Free, and still holding those bytes: found again without a copy.
    EXPECT_EQ(pool_.share(key_of(500, 4000)), a);
    EXPECT_EQ(read_back(*a), content_.substr(500, 4000));
    EXPECT_EQ(pool_.slots_in_use(), 1u);
    pool_.release(a);
}

TEST_F(SharedSnapshotTest, AnyOtherKeyIsNotShared)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 500, 4000));
    EXPECT_EQ(pool_.share(key_of(500, 3999)), nullptr);
    EXPECT_EQ(pool_.share(key_of(501, 4000)), nullptr);
    EXPECT_EQ(pool_.share(key_of(500, 4000, 8)), nullptr);  // the file changed since (ctime)
    SnapshotKey other_file = key_of(500, 4000);
    other_file.file.inode = 3;
    EXPECT_EQ(pool_.share(other_file), nullptr);
    other_file = key_of(500, 4000);
    other_file.file.mtime = 6;
    EXPECT_EQ(pool_.share(other_file), nullptr);
    pool_.release(a);
}

TEST_F(SharedSnapshotTest, AnUnpublishedSlotIsNeverShared)
{
    SnapshotPool::Slot* a = pool_.acquire(4000);
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(fill_snapshot(*a, file_, {FileExtent{500, 4000}}), APR_SUCCESS);
    EXPECT_EQ(pool_.share(key_of(500, 4000)), nullptr);
    pool_.release(a);
    EXPECT_EQ(pool_.share(key_of(500, 4000)), nullptr);
}

TEST_F(SharedSnapshotTest, TakingAFreeSlotForAnotherBodyForgetsWhatItHeld)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 500, 4000));
    pool_.release(a);
    // A new slot comes before a shared snapshot is given up (the pool holds three).
    SnapshotPool::Slot* b = pool_.acquire(4000);
    EXPECT_NE(b, a);
    EXPECT_EQ(pool_.share(key_of(500, 4000)), a);
    pool_.release(a);
    SnapshotPool::Slot* c = pool_.acquire(4000);
    EXPECT_NE(c, a);
    // Nothing else left: a's slot, about to be overwritten, and its bytes forgotten.
    EXPECT_EQ(pool_.acquire(4000), a);
    EXPECT_EQ(pool_.share(key_of(500, 4000)), nullptr);
    pool_.release(a);
    pool_.release(b);
    pool_.release(c);
}

TEST_F(SharedSnapshotTest, ASharedSlotIsNotHandedOutWhileAnyUserHoldsIt)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 500, 4000));
    ASSERT_EQ(pool_.share(key_of(500, 4000)), a);
    pool_.release(a);  // one user left
    SnapshotPool::Slot* b = pool_.acquire(4000);
    SnapshotPool::Slot* c = pool_.acquire(4000);
    EXPECT_NE(b, a);
    EXPECT_NE(c, a);
    EXPECT_EQ(pool_.acquire(4000), nullptr);
    EXPECT_EQ(read_back(*a), content_.substr(500, 4000));
    pool_.release(b);
    pool_.release(c);
    pool_.release(a);
}

TEST_F(SharedSnapshotTest, ASecondPublishOfTheSameBytesKeepsTheFirst)
{
    SnapshotPool::Slot *a = nullptr, *b = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 500, 4000));
    ASSERT_NO_FATAL_FAILURE(fill(b, 500, 4000));
    ASSERT_NE(a, b);
    EXPECT_EQ(pool_.share(key_of(500, 4000)), a);
    pool_.release(a);
    pool_.release(b);
    pool_.release(a);
    EXPECT_EQ(pool_.share(key_of(500, 4000)), a);
    pool_.release(a);
}

TEST_F(SharedSnapshotTest, DroppedPagesForgetWhatTheyHeld)
{
    constexpr std::size_t K = 1024;
    SnapshotPool pool(2, kCapacity, 60 * K);
    SnapshotPool::Slot* x = pool.acquire(40 * K);
    SnapshotPool::Slot* y = pool.acquire(10 * K);
    ASSERT_TRUE(x && y);
    ASSERT_EQ(fill_snapshot(*x, file_, {FileExtent{0, 40 * K}}), APR_SUCCESS);
    pool.publish(x, key_of(0, 40 * K));
    pool.release(x);
    pool.release(y);
    // y (the most recent) grows to 50 KiB; x's pages go back to make room, and its bytes with them.
    EXPECT_EQ(pool.acquire(50 * K), y);
    EXPECT_EQ(pool.share(key_of(0, 40 * K)), nullptr);
    pool.release(y);
}

TEST_F(SharedSnapshotTest, EachReaderHasAnOffsetOfItsOwn)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 4000));
    ASSERT_EQ(pool_.share(key_of(0, 4000)), a);
    const int one = pool_.take_reader(a);
    const int two = pool_.take_reader(a);
    ASSERT_GE(one, 0);
    ASSERT_GE(two, 0);
    EXPECT_NE(one, two);
    char x[100], y[100];
    ASSERT_EQ(lseek(one, 1000, SEEK_SET), 1000);
    ASSERT_EQ(lseek(two, 2000, SEEK_SET), 2000);
    ASSERT_EQ(read(one, x, sizeof x), 100);
    ASSERT_EQ(read(two, y, sizeof y), 100);
    EXPECT_EQ(std::string(x, 100), content_.substr(1000, 100));
    EXPECT_EQ(std::string(y, 100), content_.substr(2000, 100));
    pool_.release(a, one);
    pool_.release(a, two);
}

TEST_F(SharedSnapshotTest, AReaderGivenBackServesTheNextReaderOfTheSlot)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 4000));
    const int first = pool_.take_reader(a);
    ASSERT_GE(first, 0);
    pool_.release(a, first);
    EXPECT_EQ(pool_.idle_readers(), 1u);
    EXPECT_GE(fcntl(first, F_GETFD), 0) << "kept open for the next reader";
    ASSERT_EQ(pool_.share(key_of(0, 4000)), a);
    EXPECT_EQ(pool_.take_reader(a), first);
    EXPECT_EQ(pool_.idle_readers(), 0u);
    char x[10];
    ASSERT_EQ(pread(first, x, sizeof x, 3000), 10);
    EXPECT_EQ(std::string(x, 10), content_.substr(3000, 10));
    pool_.release(a, first);
    // share() hands out the idle reader with the slot, under one lock; none left: -1.
    int reader = -2, none = -2;
    ASSERT_EQ(pool_.share(key_of(0, 4000), &reader), a);
    ASSERT_EQ(pool_.share(key_of(0, 4000), &none), a);
    EXPECT_EQ(reader, first);
    EXPECT_EQ(none, -1);
    pool_.release(a, reader);
    pool_.release(a);
}

TEST_F(SharedSnapshotTest, IdleReadersAreBoundedTheRestAreClosed)
{
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 4000));
    constexpr std::size_t n = SnapshotPool::kMaxIdleReaders + 3;
    const std::vector<int> readers = take_readers(a, key_of(0, 4000), n);
    give_back(a, readers);
    EXPECT_EQ(pool_.idle_readers(), SnapshotPool::kMaxIdleReaders);
    EXPECT_EQ(pool_.slots_in_use(), 0u);
    for (std::size_t i = SnapshotPool::kMaxIdleReaders; i < n; ++i) {
        EXPECT_EQ(fcntl(readers[i], F_GETFD), -1) << "reader " << i << " closed";
    }
}

TEST_F(SharedSnapshotTest, AtTheBoundAReaderGivenBackDisplacesAnotherSlotsIdleOne)
{
    // Slot a's requests filled the bound with idle readers; b is asked now. Its readers given
    // back are kept in place of a's: else every later reader of b would be opened anew.
    constexpr std::size_t bound = SnapshotPool::kMaxIdleReaders;
    SnapshotPool::Slot *a = nullptr, *b = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 4000));
    ASSERT_NO_FATAL_FAILURE(fill(b, 5000, 4000));
    const std::vector<int> of_a = take_readers(a, key_of(0, 4000), bound);
    give_back(a, of_a);
    ASSERT_EQ(pool_.idle_readers(), bound);
    const std::vector<int> of_b = take_readers(b, key_of(5000, 4000), 3);
    give_back(b, of_b);
    EXPECT_EQ(pool_.idle_readers(), bound);
    EXPECT_EQ(b->readers.size(), 3u);
    EXPECT_EQ(a->readers.size(), bound - 3);
    EXPECT_EQ(std::count_if(of_a.begin(), of_a.end(), [](int r) { return fcntl(r, F_GETFD) == -1; }), 3)
        << "three of a's idle readers closed";
    for (const int r : of_b) {
        EXPECT_GE(fcntl(r, F_GETFD), 0) << "b's readers kept open";
    }
    // b's next request gets one of them, reading b's bytes.
    int next = -1;
    ASSERT_EQ(pool_.share(key_of(5000, 4000), &next), b);
    EXPECT_NE(std::find(of_b.begin(), of_b.end(), next), of_b.end());
    char x[10];
    ASSERT_EQ(pread(next, x, sizeof x, 100), 10);
    EXPECT_EQ(std::string(x, 10), content_.substr(5100, 10));
    pool_.release(b, next);
    EXPECT_EQ(pool_.slots_in_use(), 0u);
}

TEST_F(SharedSnapshotTest, AFreeSlotGivesUpAnIdleReaderBeforeOneInUse)
{
    constexpr std::size_t bound = SnapshotPool::kMaxIdleReaders;
    SnapshotPool::Slot *a = nullptr, *b = nullptr, *c = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 4000));  // made first: a search in making order finds it first
    ASSERT_NO_FATAL_FAILURE(fill(b, 5000, 4000));
    ASSERT_NO_FATAL_FAILURE(fill(c, 10000, 4000));
    // a: in use by two requests, holding 2 idle readers; b: free, holding the other 62.
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(pool_.share(key_of(0, 4000)), a);
    }
    const std::vector<int> of_a = {pool_.take_reader(a), pool_.take_reader(a)};
    give_back(a, of_a);
    ASSERT_EQ(a->users, 2u);
    give_back(b, take_readers(b, key_of(5000, 4000), bound - 2));
    ASSERT_EQ(b->users, 0u);
    ASSERT_EQ(pool_.idle_readers(), bound);
    // c's reader given back: b, the free one, gives up one; a keeps both of its own.
    pool_.release(c, pool_.take_reader(c));
    EXPECT_EQ(c->readers.size(), 1u);
    EXPECT_EQ(b->readers.size(), bound - 3);
    EXPECT_EQ(a->readers.size(), 2u);
    EXPECT_EQ(pool_.idle_readers(), bound);
    pool_.release(a);
    pool_.release(a);
    EXPECT_EQ(pool_.slots_in_use(), 0u);
}

TEST_F(SharedSnapshotTest, NewBytesGoToASlotHoldingNoSharedSnapshotFirst)
{
    SnapshotPool::Slot *a = nullptr, *b = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 4000));
    ASSERT_NO_FATAL_FAILURE(fill(b, 5000, 4000));
    SnapshotPool::Slot* plain = pool_.acquire(4000);
    ASSERT_NE(plain, nullptr);
    pool_.release(plain);
    pool_.release(a);
    pool_.release(b);  // the most recent, but keyed: `plain` goes first
    EXPECT_EQ(pool_.acquire(4000), plain);
    // Then the least recently released shared one: a, while b (released after it) stays found.
    EXPECT_EQ(pool_.acquire(4000), a);
    EXPECT_EQ(pool_.share(key_of(0, 4000)), nullptr);
    EXPECT_EQ(pool_.share(key_of(5000, 4000)), b);
    pool_.release(b);
    pool_.release(a);
    pool_.release(plain);
}

TEST_F(SharedSnapshotTest, ASmallFreeSlotGrowsRatherThanAnotherBodyTakingASharedOne)
{
    // The pool's three slots: a (published, 40000 bytes), a small free one and one in use. A
    // second 40000-byte body grows the small slot; a stays found.
    SnapshotPool::Slot* a = nullptr;
    ASSERT_NO_FATAL_FAILURE(fill(a, 0, 40000));
    SnapshotPool::Slot* small = pool_.acquire(10);
    SnapshotPool::Slot* busy = pool_.acquire(10);
    ASSERT_TRUE(small && busy);
    pool_.release(small);
    pool_.release(a);
    EXPECT_EQ(pool_.acquire(40000), small);
    EXPECT_EQ(pool_.share(key_of(0, 40000)), a);
    pool_.release(a);
    pool_.release(small);
    pool_.release(busy);
}

TEST_F(SharedSnapshotTest, ABodyRefusedForTheBudgetDropsNoSharedSnapshot)
{
    constexpr std::size_t K = 1024;
    SnapshotPool pool(3, kCapacity, 64 * K);
    SnapshotPool::Slot* big = pool.acquire(30 * K);
    SnapshotPool::Slot* kept = pool.acquire(20 * K);
    SnapshotPool::Slot* other = pool.acquire(10 * K);
    ASSERT_TRUE(big && kept && other);
    ASSERT_EQ(fill_snapshot(*kept, file_, {FileExtent{0, 20 * K}}), APR_SUCCESS);
    pool.publish(kept, key_of(0, 20 * K));
    pool.release(kept);
    pool.release(other);
    // A 50 KiB body would grow `other` by 40 KiB: 100 KiB, and 80 even without kept's pages.
    EXPECT_EQ(pool.acquire(50 * K), nullptr);
    EXPECT_EQ(pool.touched_bytes(), 60 * K);
    EXPECT_EQ(pool.share(key_of(0, 20 * K)), kept);
    EXPECT_EQ(read_back(*kept), content_.substr(0, 20 * K));
    pool.release(kept);
    pool.release(big);
}

TEST(TimestampsAreLocal, MemoryFilesYesProcNo)
{
#if defined(__linux__)
    const int mem = memfd_create("t", MFD_CLOEXEC);
    const int proc = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(mem, 0);
    ASSERT_GE(proc, 0);
    EXPECT_TRUE(timestamps_are_local(mem));  // tmpfs
    EXPECT_FALSE(timestamps_are_local(proc));
    EXPECT_FALSE(timestamps_are_local(-1));
    close(mem);
    close(proc);
#else
    EXPECT_FALSE(timestamps_are_local(0));
#endif
}

TEST_F(SharedSnapshotTest, ThreadsSharingAndTakingSlotsNeverSeeOtherBytes)
{
    // A budget of two bodies for four slots: pages are dropped (and keys forgotten) while other
    // threads share.
    SnapshotPool pool(4, kCapacity, 4500);
    on_eight_threads([&](int t, int i) {
        const std::uint64_t offset = 1000 * static_cast<std::uint64_t>((t + i) % 3);
        const SnapshotKey key = key_of(offset, 2000);
        SnapshotPool::Slot* s = pool.share(key);
        if (!s) {
            s = pool.acquire(2000);
            if (!s) {
                return true;
            }
            if (fill_snapshot(*s, file_, {FileExtent{offset, 2000}}) != APR_SUCCESS) {
                pool.release(s);
                return false;
            }
            pool.publish(s, key);
        }
        // Read as mod_http2 does, seek then read, through a reader of the pool's: one handed to
        // two threads at once would mix their offsets.
        const int reader = pool.take_reader(s);
        std::string got(2000, '\0');
        const bool read = reader >= 0 && lseek(reader, 0, SEEK_SET) == 0 &&
                          ::read(reader, got.data(), got.size()) == static_cast<ssize_t>(got.size());
        const bool right = read && got == content_.substr(offset, 2000);
        pool.release(s, reader);
        return right;
    });
    EXPECT_EQ(pool.slots_in_use(), 0u);
    EXPECT_LE(pool.touched_bytes(), 4500u);
    EXPECT_LE(pool.idle_readers(), SnapshotPool::kMaxIdleReaders);
}

}  // namespace
// ---------------------------------------------------------------------------------------------
// snapshot_chain: the windows of a body larger than one snapshot.

namespace {

constexpr Offset kM = Offset{1} << 20;
constexpr Offset kFirst = 256 * 1024;

std::vector<FileExtent> windows(std::initializer_list<std::pair<Offset, Offset>> list)
{
    std::vector<FileExtent> out;
    for (const auto& [offset, length] : list) {
        out.push_back(FileExtent{offset, length});
    }
    return out;
}

}  // namespace

TEST(SnapshotChain, AMediaPieceIsAShortFirstWindowThenFullOnes)
{
    // The default 8 MiB piece at AudioStreamSnapshotSize's default, 4 MiB, mid-file.
    const SnapshotChain c = snapshot_chain(FileExtent{10 * kM + 7, 8 * kM}, 4 * kM);
    EXPECT_EQ(c.windows, windows({{10 * kM + 7, kFirst}, {10 * kM + 7 + kFirst, 4 * kM},
                                  {14 * kM + 7 + kFirst, 4 * kM - kFirst}}));
    EXPECT_EQ(c.rest, (FileExtent{18 * kM + 7, 0}));
}

TEST(SnapshotChain, StopsAtSixteenMiBAndLeavesTheRestToChunks)
{
    const SnapshotChain c = snapshot_chain(FileExtent{0, 24 * kM}, 4 * kM);
    EXPECT_EQ(c.windows, windows({{0, kFirst}, {kFirst, 4 * kM}, {kFirst + 4 * kM, 4 * kM},
                                  {kFirst + 8 * kM, 4 * kM}, {kFirst + 12 * kM, 4 * kM - kFirst}}));
    EXPECT_EQ(c.rest, (FileExtent{16 * kM, 8 * kM}));
}

TEST(SnapshotChain, SmallWindowsStopAtEightOfThem)
{
    const Offset w = 64 * 1024;
    const SnapshotChain c = snapshot_chain(FileExtent{100, 10 * kM}, w);
    ASSERT_EQ(c.windows.size(), kMaxChainWindows);
    for (std::size_t i = 0; i < c.windows.size(); ++i) {
        EXPECT_EQ(c.windows[i], (FileExtent{100 + i * w, w})) << i;
    }
    EXPECT_EQ(c.rest, (FileExtent{100 + 8 * w, 10 * kM - 8 * w}));
}

TEST(SnapshotChain, TheLargestWindowIsCutAtTheCap)
{
    const SnapshotChain c = snapshot_chain(FileExtent{0, 40 * kM}, 16 * kM);
    EXPECT_EQ(c.windows, windows({{0, kFirst}, {kFirst, 16 * kM - kFirst}}));
    EXPECT_EQ(c.rest, (FileExtent{16 * kM, 24 * kM}));
}

TEST(SnapshotChain, WindowsUnderTheFirstWindowSizeAndShortBodies)
{
    const SnapshotChain c = snapshot_chain(FileExtent{5, 1000}, 512);
    EXPECT_EQ(c.windows, windows({{5, 512}, {517, 488}}));
    EXPECT_EQ(c.rest, (FileExtent{1005, 0}));
    const SnapshotChain one = snapshot_chain(FileExtent{5, 1000}, 4 * kM);
    EXPECT_EQ(one.windows, windows({{5, 1000}}));
    EXPECT_EQ(one.rest.length, 0u);
}

TEST(SnapshotChain, NoWindowSizeMeansNoChain)
{
    const SnapshotChain c = snapshot_chain(FileExtent{3, 9 * kM}, 0);
    EXPECT_TRUE(c.windows.empty());
    EXPECT_EQ(c.rest, (FileExtent{3, 9 * kM}));
}

}  // namespace audio_stream
