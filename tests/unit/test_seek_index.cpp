// Seek indexes (seek_index.h): the cache builds an index once per file and kind, shares it
// between threads, rebuilds it when the file changes and stays within its budget; through it a
// FLAC cut at a new t reads only the metadata (flac.h).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/formats/formats.h"
#include "src/formats/flac/index.h"
#include "src/cache/index_files.h"
#include "src/cache/seek_index.h"
#include "tests/unit/flac_tools.h"

namespace audio_stream {
namespace {

using namespace flac_test;

struct Sized final : SeekIndex {
    explicit Sized(std::size_t n) : bytes(n) {}
    std::size_t footprint() const override { return bytes; }
    std::size_t bytes;
};

constexpr FileIdentity kFile{1, 2, 1000, 3};

std::shared_ptr<const SeekIndex> no_files(std::string_view) { return nullptr; }

std::shared_ptr<const SeekIndex> get(SeekIndexCache& cache, const FileIdentity& id, std::size_t bytes,
                                     int& builds, bool& built, IndexKind kind = IndexKind::Flac)
{
    return cache.get(id, kind, [&] {
        ++builds;
        return std::make_shared<const Sized>(bytes);
    }, no_files, built);
}

TEST(SeekIndexCache, BuildsOncePerFileAndKind)
{
    SeekIndexCache cache(1 << 20);
    int builds = 0;
    bool built = false;
    const auto a = get(cache, kFile, 100, builds, built);
    EXPECT_TRUE(built);
    const auto b = get(cache, kFile, 100, builds, built);
    EXPECT_FALSE(built);
    EXPECT_EQ(a, b);
    EXPECT_EQ(builds, 1);
    get(cache, kFile, 100, builds, built, IndexKind::Mp3);
    EXPECT_TRUE(built);
    EXPECT_EQ(builds, 2);
    EXPECT_EQ(cache.entries(), 2u);
    EXPECT_EQ(cache.bytes(), 200u);
}

TEST(SeekIndexCache, AChangedFileIsANewIndex)
{
    SeekIndexCache cache(1 << 20);
    int builds = 0;
    bool built = false;
    get(cache, kFile, 10, builds, built);
    FileIdentity touched = kFile;
    touched.mtime += 1;
    FileIdentity grown = kFile;
    grown.size += 1;
    FileIdentity replaced = kFile;
    replaced.inode += 1;
    for (const FileIdentity& id : {touched, grown, replaced}) {
        get(cache, id, 10, builds, built);
        EXPECT_TRUE(built);
    }
    EXPECT_EQ(builds, 4);
}

TEST(SeekIndexCache, StaysWithinItsBudgetLeastRecentlyUsedOut)
{
    SeekIndexCache cache(300);
    int builds = 0;
    bool built = false;
    FileIdentity ids[4] = {kFile, kFile, kFile, kFile};
    for (int i = 0; i < 4; ++i) {
        ids[i].inode = 10 + i;
    }
    get(cache, ids[0], 100, builds, built);
    get(cache, ids[1], 100, builds, built);
    get(cache, ids[2], 100, builds, built);
    get(cache, ids[0], 100, builds, built);  // used: ids[1] is now the oldest
    EXPECT_FALSE(built);
    get(cache, ids[3], 100, builds, built);
    EXPECT_LE(cache.bytes(), 300u);
    EXPECT_EQ(cache.entries(), 3u);
    get(cache, ids[0], 100, builds, built);
    EXPECT_FALSE(built);
    get(cache, ids[1], 100, builds, built);
    EXPECT_TRUE(built);
    // Larger than the whole budget: returned, not kept.
    FileIdentity huge = kFile;
    huge.inode = 99;
    EXPECT_NE(get(cache, huge, 301, builds, built), nullptr);
    get(cache, huge, 301, builds, built);
    EXPECT_TRUE(built);
    EXPECT_LE(cache.bytes(), 300u);
}

TEST(SeekIndexCache, ThreadsWantingOneIndexWaitForOneBuild)
{
    SeekIndexCache cache(1 << 20);
    std::atomic<int> builds{0};
    std::vector<std::thread> threads;
    std::vector<const SeekIndex*> seen(16, nullptr);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        threads.emplace_back([&, i] {
            bool built = false;
            seen[i] = cache.get(kFile, IndexKind::Flac, [&] {
                ++builds;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                return std::make_shared<const Sized>(10);
            }, no_files, built).get();
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(builds.load(), 1);
    for (const SeekIndex* p : seen) {
        EXPECT_EQ(p, seen[0]);
    }
}

TEST(SeekIndexCache, AFailedBuildLeavesTheKeyToTheNextCaller)
{
    SeekIndexCache cache(1 << 20);
    bool built = false;
    EXPECT_THROW(cache.get(kFile, IndexKind::Flac, []() -> std::shared_ptr<const SeekIndex> {
        throw std::runtime_error("no memory");
    }, no_files, built), std::runtime_error);
    int builds = 0;
    EXPECT_NE(get(cache, kFile, 10, builds, built), nullptr);
    EXPECT_TRUE(built);
    EXPECT_EQ(builds, 1);
}

// ---------------------------------------------------------------------------------------------
// FLAC through the index.

using test_tools::CountingSource;

FileIdentity identity_of(const std::string& file)
{
    return FileIdentity{7, 8, file.size(), 9};
}

TEST(FlacSeekIndex, ASecondCutAtAnotherTReadsOnlyTheMetadata)
{
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        SCOPED_TRACE(s.name);
        const std::string& file = source(s).bytes;
        SeekIndexCache cache(1 << 20);
        CountingSource first(file);
        IndexSource indexes(&cache, identity_of(file));
        const Cut a = cut_flac(first, 3000000, indexes);
        ASSERT_EQ(a.status, Cut::Status::Ok) << a.detail;
        EXPECT_TRUE(indexes.built());
        EXPECT_GE(first.bytes_read, file.size() * 9 / 10);  // the index walked the audio
        for (Micros t : {Micros{0}, Micros{11500000}, Micros{19000000}}) {
            CountingSource again(file);
            IndexSource cached(&cache, identity_of(file));
            const Cut b = cut_flac(again, t, cached);
            EXPECT_FALSE(cached.built());
            EXPECT_LE(again.bytes_read, Offset{8192}) << "t " << t;
            MemorySource fresh(file);
            const Cut c = cut_flac(fresh, t);
            EXPECT_EQ(b.rep.extents, c.rep.extents) << "t " << t;
            EXPECT_EQ(b.start, c.start);
            EXPECT_EQ(b.duration, c.duration);
        }
    }
}

TEST(FlacSeekIndex, AChangedFileIsIndexedAgain)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[0]).bytes;
    SeekIndexCache cache(1 << 20);
    CountingSource src(file);
    IndexSource indexes(&cache, identity_of(file));
    ASSERT_EQ(cut_flac(src, 1000000, indexes).status, Cut::Status::Ok);
    // Same length, another mtime: the glue's identity changes, so the index is made anew.
    FileIdentity touched = identity_of(file);
    touched.mtime += 1;
    CountingSource again(file);
    IndexSource rebuilt(&cache, touched);
    ASSERT_EQ(cut_flac(again, 2000000, rebuilt).status, Cut::Status::Ok);
    EXPECT_TRUE(rebuilt.built());
    EXPECT_GE(again.bytes_read, file.size() * 9 / 10);
    // A shorter file (a different size): indexed again and cut within what it now holds.
    const std::string shorter = file.substr(0, file.size() / 2);
    CountingSource cut_short(shorter);
    IndexSource other(&cache, identity_of(shorter));
    const Cut c = cut_flac(cut_short, 2000000, other);
    EXPECT_TRUE(other.built());
    ASSERT_EQ(c.status, Cut::Status::Ok) << c.detail;
    EXPECT_LE(c.rep.length, shorter.size());
    EXPECT_EQ(cache.entries(), 3u);
}

TEST(FlacSeekIndex, AnHourOfFramesIndexedInFortyBytesEach)
{
    ASSERT_TRUE(have_tools());
    // One hour of 44.1 kHz stereo silence in 4096-sample frames: 38,760 frames, ~0.6 MB.
    const std::string path = temp_dir() + "/hour.flac";
    const Output made = run("ffmpeg -v error -y -f lavfi -i anullsrc=r=44100:cl=stereo -t 3600 -c:a flac "
                            "-frame_size 4096 '" + path + "'");
    ASSERT_EQ(made.status, 0) << made.output;
    const std::string file = slurp(path);
    SeekIndexCache cache(std::size_t{64} << 20);
    MemorySource src(file);
    IndexSource indexes(&cache, identity_of(file));
    const Cut cut = cut_flac(src, 1800000000, indexes);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::size_t frames = (std::size_t{3600} * 44100 + 4095) / 4096;
    EXPECT_EQ(sizeof(flac::IndexedFrame), 40u);
    EXPECT_LE(cache.bytes(), sizeof(flac::FrameIndex) + frames * sizeof(flac::IndexedFrame));
    EXPECT_GE(cache.bytes(), frames * sizeof(flac::IndexedFrame));
    EXPECT_LE(cache.bytes(), std::size_t{1600} * 1024);  // the 1.5 MiB an hour README states
    // The cut starts at the frame holding t: up to one frame (92.9 ms) before it.
    EXPECT_GE(cut.duration, 1800000000);
    EXPECT_LT(cut.duration, 1800000000 + 92880);
}

// ---------------------------------------------------------------------------------------------
// On disk (index_files.h): what the children of one server share.

TEST(IndexFiles, SavedPayloadsComeBackForTheSameFileStateAndKindOnly)
{
    test_tools::TempDir dir("index_files");
    IndexFiles files(dir.path(), 1 << 20, 1 << 30);
    EXPECT_FALSE(files.load(kFile, 1));
    ASSERT_TRUE(files.save(kFile, 1, "payload one"));
    EXPECT_EQ(files.load(kFile, 1).value_or(""), "payload one");
    EXPECT_FALSE(files.load(kFile, 2));
    FileIdentity touched = kFile;
    touched.mtime += 1;
    EXPECT_FALSE(files.load(touched, 1));
    // The new state's index replaces the old one's file.
    ASSERT_TRUE(files.save(touched, 1, "payload two"));
    EXPECT_EQ(files.load(touched, 1).value_or(""), "payload two");
    EXPECT_FALSE(files.load(kFile, 1));
    std::size_t count = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        (void)e;
        ++count;
    }
    EXPECT_EQ(count, 1u);
    // Larger than the bound: neither written nor read.
    IndexFiles small(dir.path(), 4, 1 << 30);
    EXPECT_FALSE(small.save(kFile, 3, "too long"));
    EXPECT_FALSE(small.load(touched, 1));
}

TEST(IndexFiles, TheDirectoryKeepsWithinItsBudgetLeastRecentlyUsedOut)
{
    test_tools::TempDir dir("index_files");
    // Each saved file: a 60-byte header and a 100-byte payload; room for three.
    IndexFiles files(dir.path(), 1 << 20, 3 * 160);
    FileIdentity ids[5] = {kFile, kFile, kFile, kFile, kFile};
    const std::string payload(100, 'p');
    for (int i = 0; i < 3; ++i) {
        ids[i].inode = 100 + i;
        ASSERT_TRUE(files.save(ids[i], 1, payload));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct mtimes
    }
    EXPECT_TRUE(files.load(ids[0], 1));  // used: ids[1] is now the oldest
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ids[3].inode = 103;
    ASSERT_TRUE(files.save(ids[3], 1, payload));
    EXPECT_TRUE(files.load(ids[0], 1));
    EXPECT_FALSE(files.load(ids[1], 1));
    EXPECT_TRUE(files.load(ids[2], 1));
    EXPECT_TRUE(files.load(ids[3], 1));
}

TEST(IndexFiles, ALockIsHeldByOneHolderAtATime)
{
    test_tools::TempDir dir("index_files");
    IndexFiles files(dir.path(), 1 << 20, 1 << 30);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            // flock locks belong to open file descriptions: each lock() opens its own, so
            // threads exclude one another as processes do.
            IndexFiles::Lock held = files.lock(kFile, 1);
            const int now = ++inside;
            most = std::max(most.load(), now);
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            --inside;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(most.load(), 1);
}

TEST(IndexFiles, AFileThatIsNotOneOfOursIsNotLoaded)
{
    test_tools::TempDir dir("index_files");
    IndexFiles files(dir.path(), 1 << 20, 1 << 30);
    ASSERT_TRUE(files.save(kFile, 1, "payload"));
    std::string name;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        name = e.path().string();
    }
    std::string bytes = slurp(name);
    bytes[0] ^= 1;  // the magic
    spit(name, bytes);
    EXPECT_FALSE(files.load(kFile, 1));
    bytes[0] ^= 1;
    spit(name, bytes.substr(0, bytes.size() - 1));  // shorter than its header says
    EXPECT_FALSE(files.load(kFile, 1));
}

TEST(FlacSeekIndex, APayloadRoundTripsAndDamageIsRefused)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;
    MemorySource src(file);
    Offset audio = audio_start_of(file);
    flac::StreamInfo info;
    info.channels = 2;
    info.bits = 16;
    info.rate = 44100;
    const flac::FrameIndex index = flac::index_frames(src, info, audio);
    ASSERT_TRUE(index.error.empty()) << index.error;
    ASSERT_GT(index.frames.size(), 100u);
    const std::string payload = index.payload();
    const auto back = flac::FrameIndex::parse(payload, file.size());
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(back->payload(), payload);
    EXPECT_EQ(back->frames.size(), index.frames.size());
    EXPECT_EQ(back->last_end, index.last_end);
    // Short, long, for a shorter file, frames out of order: refused.
    EXPECT_EQ(flac::FrameIndex::parse(payload.substr(0, payload.size() - 1), file.size()), nullptr);
    EXPECT_EQ(flac::FrameIndex::parse(payload + "x", file.size()), nullptr);
    EXPECT_EQ(flac::FrameIndex::parse(payload, file.size() / 2), nullptr);
    flac::FrameIndex swapped = index;
    std::swap(swapped.frames[10], swapped.frames[11]);
    EXPECT_EQ(flac::FrameIndex::parse(swapped.payload(), file.size()), nullptr);
    flac::FrameIndex long_header = index;
    long_header.frames[5].length = 17;
    EXPECT_EQ(flac::FrameIndex::parse(long_header.payload(), file.size()), nullptr);
    flac::FrameIndex overlapping = index;
    overlapping.frames[7].offset = overlapping.frames[8].offset - 3;
    EXPECT_EQ(flac::FrameIndex::parse(overlapping.payload(), file.size()), nullptr);
}

TEST(FlacSeekIndex, ACacheWithFilesLoadsWhatAnotherProcessBuilt)
{
    ASSERT_TRUE(have_tools());
    test_tools::TempDir dir("index_files");
    const std::string& file = source(kSources[0]).bytes;
    const FileIdentity id = identity_of(file);
    {
        SeekIndexCache one(1 << 20, IndexFiles(dir.path(), 1 << 20, 1 << 30));
        MemorySource src(file);
        IndexSource indexes(&one, id);
        ASSERT_EQ(cut_flac(src, 5000000, indexes).status, Cut::Status::Ok);
        EXPECT_TRUE(indexes.built());
    }
    // Another child: an empty cache, the same directory.
    SeekIndexCache other(1 << 20, IndexFiles(dir.path(), 1 << 20, 1 << 30));
    CountingSource src(file);
    IndexSource indexes(&other, id);
    const Cut cut = cut_flac(src, 9000000, indexes);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    EXPECT_FALSE(indexes.built());
    EXPECT_LE(src.bytes_read, Offset{8192});
    MemorySource fresh(file);
    EXPECT_EQ(cut.rep.extents, cut_flac(fresh, 9000000).rep.extents);
}

}  // namespace
}  // namespace audio_stream
