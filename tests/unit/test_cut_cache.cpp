// The cut cache: identity keys, LRU order, entry and byte bounds, thread safety.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/cache/cut_cache.h"

namespace audio_stream {
namespace {

std::shared_ptr<const Cut> make_cut(std::size_t header_bytes, Micros start)
{
    auto cut = std::make_shared<Cut>();
    cut->status = Cut::Status::Ok;
    cut->start = start;
    cut->rep.extents.push_back(MemoryBlock{std::string(header_bytes, 'h')});
    cut->rep.extents.push_back(FileExtent{1000, 5000});
    cut->rep.length = header_bytes + 5000;
    return cut;
}

const FileIdentity kFile{1, 42, 6000, 1700000000000000};

// The cut of kFile from t, read as MP3 (format 1).
CutKey at(Micros t) { return CutKey{1, Span{t}}; }

TEST(CutCache, FindsWhatWasInsertedForTheSameFileAndTime)
{
    CutCache cache(8, 1 << 20);
    auto cut = make_cut(100, 5);
    cache.insert(kFile, at(5), cut);
    EXPECT_EQ(cache.find(kFile, at(5)), cut);
    EXPECT_EQ(cache.find(kFile, at(6)), nullptr);
}

// A clip is not the cut from its start, nor another clip; nor is a file read as another format
// (one file served under two types) the same cut.
TEST(CutCache, TheSpanAndTheFormatAreOfTheKey)
{
    CutCache cache(8, 1 << 20);
    auto open = make_cut(10, 5);
    auto clip = make_cut(20, 5);
    cache.insert(kFile, CutKey{1, Span{5, 10}}, clip);
    cache.insert(kFile, CutKey{1, Span{5}}, open);
    EXPECT_EQ(cache.find(kFile, CutKey{1, Span{5, 10}}), clip);
    EXPECT_EQ(cache.find(kFile, CutKey{1, Span{5}}), open);
    EXPECT_EQ(cache.find(kFile, CutKey{1, Span{5, 11}}), nullptr);
    EXPECT_EQ(cache.find(kFile, CutKey{3, Span{5}}), nullptr);
}

TEST(CutCache, AnyChangeOfIdentityMisses)
{
    CutCache cache(8, 1 << 20);
    cache.insert(kFile, at(5), make_cut(10, 5));
    for (FileIdentity other : {FileIdentity{2, 42, 6000, kFile.mtime}, FileIdentity{1, 43, 6000, kFile.mtime},
                               FileIdentity{1, 42, 6001, kFile.mtime}, FileIdentity{1, 42, 6000, kFile.mtime + 1},
                               FileIdentity{1, 42, 6000, kFile.mtime, kFile.ctime + 1}}) {
        EXPECT_EQ(cache.find(other, at(5)), nullptr);
    }
}

TEST(CutCache, EvictsLeastRecentlyUsedBeyondMaxEntries)
{
    CutCache cache(2, 1 << 20);
    cache.insert(kFile, at(1), make_cut(10, 1));
    cache.insert(kFile, at(2), make_cut(10, 2));
    ASSERT_NE(cache.find(kFile, at(1)), nullptr);  // 1 is now the most recent
    cache.insert(kFile, at(3), make_cut(10, 3));
    EXPECT_NE(cache.find(kFile, at(1)), nullptr);
    EXPECT_EQ(cache.find(kFile, at(2)), nullptr);
    EXPECT_NE(cache.find(kFile, at(3)), nullptr);
    EXPECT_EQ(cache.entries(), 2u);
}

TEST(CutCache, StaysWithinTheByteBudget)
{
    const std::size_t one = cut_footprint(*make_cut(1000, 0));
    CutCache cache(100, 3 * one);
    for (Micros t = 0; t < 10; ++t) {
        cache.insert(kFile, at(t), make_cut(1000, t));
        EXPECT_LE(cache.bytes(), 3 * one);
    }
    EXPECT_EQ(cache.entries(), 3u);
    EXPECT_NE(cache.find(kFile, at(9)), nullptr);
    EXPECT_EQ(cache.find(kFile, at(6)), nullptr);
}

TEST(CutCache, RefusesACutLargerThanTheWholeBudget)
{
    CutCache cache(10, 500);
    cache.insert(kFile, at(1), make_cut(1000, 1));
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}

TEST(CutCache, ReinsertingTheSameKeyKeepsOneEntry)
{
    CutCache cache(10, 1 << 20);
    cache.insert(kFile, at(1), make_cut(10, 1));
    auto second = make_cut(10, 1);
    cache.insert(kFile, at(1), second);
    EXPECT_EQ(cache.entries(), 1u);
    EXPECT_EQ(cache.bytes(), cut_footprint(*second));
    EXPECT_EQ(cache.find(kFile, at(1)), second);
}

TEST(CutCache, FootprintCountsMemoryBlocksAndExtents)
{
    const auto small = make_cut(10, 0);
    const auto large = make_cut(1010, 0);
    // 10 bytes fit in the string's own buffer; 1010 cost their heap chunk (and its header).
    EXPECT_EQ(cut_footprint(*large) - cut_footprint(*small), 1024u);
    auto spare = std::make_shared<Cut>(*small);
    spare->rep.extents.reserve(100);
    EXPECT_EQ(cut_footprint(*spare) - cut_footprint(*small), (100 - small->rep.extents.capacity()) * sizeof(Extent));
}

TEST(CutCache, ThreadsShareItSafely)
{
    CutCache cache(16, 1 << 20);
    std::atomic<int> found{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&cache, &found, i] {
            for (int n = 0; n < 2000; ++n) {
                // Every other lookup is one of 8 hot cuts, which 15 other keys between two
                // visits cannot evict even when a thread runs alone (a loaded machine runs
                // them one after the other); the rest are 40 cold ones that keep evicting.
                const Micros t = n % 2 == 0 ? (n / 2) % 8 : 8 + (n * 7 + i) % 40;
                if (auto cut = cache.find(kFile, at(t))) {
                    EXPECT_EQ(cut->start, t);
                    ++found;
                }
                else {
                    cache.insert(kFile, at(t), make_cut(64, t));
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_LE(cache.entries(), 16u);
    EXPECT_GT(found.load(), 0);
}

}  // namespace
}  // namespace audio_stream
