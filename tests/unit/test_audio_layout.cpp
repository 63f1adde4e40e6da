// AudioLayout: the bytes that make a download (IAB: the header bytes plus one minute of audio
// at the average bitrate; the whole file when it plays a minute or less, or nobody knows how
// long), the time a byte plays at, and the bounded per-child LayoutCache keyed by FileIdentity.
#include "src/audio_layout.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "src/file_identity.h"
#include "src/cache/layout_cache.h"

namespace audio_stream {
namespace {

constexpr Micros kSecond = 1'000'000;

// ---- download_threshold ----------------------------------------------------------------------

// 180 s of CBR audio at 16000 B/s after a 4096-byte header: the header and 60 s of it.
TEST(DownloadThreshold, IsTheHeaderAndOneMinuteOfAudio)
{
    const AudioLayout cbr{4096 + 180 * 16000, 4096, 4096 + 180 * 16000, 180 * kSecond};
    EXPECT_EQ(download_threshold(cbr), Offset{4096 + 960000});
}

TEST(DownloadThreshold, AMinuteOrLessIsTheWholeFile)
{
    EXPECT_EQ(download_threshold({1000000, 4096, 1000000, 60 * kSecond}), 1000000u);
    EXPECT_EQ(download_threshold({1000000, 4096, 1000000, 59 * kSecond}), 1000000u);
    EXPECT_EQ(download_threshold({1000000, 4096, 1000000, 1}), 1000000u);
    // Over a minute: the header and a minute's share of the audio (995904 bytes), rounded up
    // (so a microsecond over a minute is still every byte).
    EXPECT_EQ(download_threshold({1000000, 4096, 1000000, 120 * kSecond}), Offset{4096 + 497952});
    EXPECT_EQ(download_threshold({1000000, 4096, 1000000, 61 * kSecond}), Offset{4096 + 979578});
    EXPECT_EQ(download_threshold({1000000, 4096, 1000000, 60 * kSecond + 1}), 1000000u);
}

TEST(DownloadThreshold, UnknownDurationIsTheWholeFile)
{
    EXPECT_EQ(download_threshold({5000000, 4096, 5000000, 0}), 5000000u);
    EXPECT_EQ(download_threshold({5000000, 4096, 5000000, -1}), 5000000u);
    // No audio bytes (the headers fill the file, or the layout is inverted): the whole file.
    EXPECT_EQ(download_threshold({5000000, 5000000, 5000000, 600 * kSecond}), 5000000u);
    EXPECT_EQ(download_threshold({5000000, 6000, 5000, 600 * kSecond}), 5000000u);
    EXPECT_EQ(download_threshold({0, 0, 0, 0}), 0u);
}

// No header lowers the threshold below a minute at the format's floor bitrate (or all the audio).
TEST(DownloadThreshold, NeverBelowAMinuteAtTheFloorBitrate)
{
    // 10,000 audio bytes claimed to last 10 hours: a minute is 17 bytes at their average, but
    // 60 s at 8 kbit/s is 60,000 bytes, more than the audio: every byte.
    AudioLayout lie{10100, 100, 10100, 36000 * kSecond, 8000};
    EXPECT_EQ(download_threshold(lie), 10100u);
    // 1 MB of audio: 60,000 bytes of it.
    lie = AudioLayout{1000100, 100, 1000100, 36000 * kSecond, 8000};
    EXPECT_EQ(download_threshold(lie), Offset{100 + 60000});
    // A real file above the floor keeps its minute at the average: 180 s at 128 kbit/s.
    const AudioLayout real{4096 + 180 * 16000, 4096, 4096 + 180 * 16000, 180 * kSecond, 8000};
    EXPECT_EQ(download_threshold(real), Offset{4096 + 960000});
    // The floor, rounded up: 60 s at 1 bit/s is 7.5 bytes.
    EXPECT_EQ(download_threshold({1000, 0, 1000, 3600 * kSecond, 1}), 17u);
    EXPECT_EQ(download_threshold({100000, 0, 100000, 3600 * kSecond, 1}), 1667u);
    EXPECT_EQ(bytes_at_bitrate(1, 60 * kSecond), 8u);
    EXPECT_EQ(bytes_at_bitrate(~std::uint64_t{0}, 60 * kSecond), ~Offset{0});
    EXPECT_EQ(bytes_at_bitrate(8000, -1), 0u);
}

TEST(DownloadThreshold, RoundsTheMinuteUp)
{
    // 1000 audio bytes in 61 s: 983.6 bytes a minute, so 984, after the 1000 header bytes
    // (100 before the audio, 900 after it).
    EXPECT_EQ(download_threshold({2000, 100, 1100, 61 * kSecond}), Offset{1000 + 984});
    // An exact division stays exact: 6000 bytes in 120 s is 3000 a minute.
    EXPECT_EQ(download_threshold({6000, 0, 6000, 120 * kSecond}), 3000u);
}

// Bytes after the audio (an ID3v1 tag) are not audio: the bitrate is of the audio alone, and
// they are header bytes, like those before it.
TEST(DownloadThreshold, OnlyAudioBytesMakeTheBitrate)
{
    const AudioLayout trailer{4096 + 180 * 16000 + 128, 4096, 4096 + 180 * 16000, 180 * kSecond};
    EXPECT_EQ(download_threshold(trailer), Offset{4096 + 128 + 960000});
}

// An MP4 whose moov follows the audio: a player needs it before it plays anything.
TEST(DownloadThreshold, HeaderBytesAfterTheAudioCount)
{
    const AudioLayout moov_last{48 + 180 * 16000 + 30000, 48, 48 + 180 * 16000, 180 * kSecond};
    EXPECT_EQ(download_threshold(moov_last), Offset{48 + 30000 + 960000});
}

// An audio end past the file (a damaged header): never more than the file.
TEST(DownloadThreshold, NeverMoreThanTheFile)
{
    const AudioLayout damaged{4096 + 160000, 4096, 4096 + 180 * 16000, 180 * kSecond};
    EXPECT_EQ(download_threshold(damaged), damaged.size);
}

// 128-bit maths: a terabyte of ten hours, and a duration of the largest Micros.
TEST(DownloadThreshold, HugeFilesDoNotOverflow)
{
    const Offset tb = Offset{1} << 40;
    const AudioLayout big{tb, 0, tb, 36000 * kSecond};
    // ceil(2^40 * 60 / 36000)
    EXPECT_EQ(download_threshold(big), Offset{1832519380});
    const AudioLayout forever{tb, 10, tb, INT64_MAX};
    EXPECT_EQ(download_threshold(forever), Offset{10 + 8});  // ceil((2^40 - 10) * 6e7 / (2^63 - 1)) = 8
    const AudioLayout max_size{~Offset{0}, 0, ~Offset{0}, 120 * kSecond};
    EXPECT_EQ(download_threshold(max_size), ~Offset{0} / 2 + 1);
}

// ---- time_at -------------------------------------------------------------------------------

const AudioLayout kCbr{4096 + 180 * 16000, 4096, 4096 + 180 * 16000, 180 * kSecond};

TEST(TimeAt, IsTheOffsetIntoTheAudioAtTheAverageBitrate)
{
    EXPECT_EQ(time_at(kCbr, 4096), Micros{0});
    EXPECT_EQ(time_at(kCbr, 4096 + 16000), kSecond);
    EXPECT_EQ(time_at(kCbr, 4096 + 90 * 16000), 90 * kSecond);
    EXPECT_EQ(time_at(kCbr, 4096 + 1), Micros{62});  // 62.5 µs a byte, rounded down
}

TEST(TimeAt, ClampsToZeroAndTheDuration)
{
    EXPECT_EQ(time_at(kCbr, 0), Micros{0});
    EXPECT_EQ(time_at(kCbr, 4095), Micros{0});
    EXPECT_EQ(time_at(kCbr, kCbr.audio_end), 180 * kSecond);
    EXPECT_EQ(time_at(kCbr, kCbr.audio_end + 1), 180 * kSecond);
    EXPECT_EQ(time_at(kCbr, ~Offset{0}), 180 * kSecond);
}

TEST(TimeAt, UnknownDurationOrNoAudioIsNothing)
{
    EXPECT_FALSE(time_at({1000, 0, 1000, 0}, 500).has_value());
    EXPECT_FALSE(time_at({1000, 0, 1000, -5}, 500).has_value());
    EXPECT_FALSE(time_at({1000, 1000, 1000, kSecond}, 500).has_value());
    EXPECT_FALSE(time_at({1000, 600, 500, kSecond}, 500).has_value());
}

TEST(TimeAt, IsMonotonic)
{
    const AudioLayout odd{12345679, 1234, 12345000, 3601 * kSecond + 7};
    Micros last = -1;
    for (Offset o = 0; o <= odd.size; o += 9973) {
        const Micros t = *time_at(odd, o);
        EXPECT_GE(t, last);
        EXPECT_LE(t, odd.duration);
        last = t;
    }
}

TEST(TimeAt, HugeFilesDoNotOverflow)
{
    const Offset tb = Offset{1} << 40;
    const AudioLayout big{tb, 0, tb, 36000 * kSecond};
    EXPECT_EQ(time_at(big, tb / 2), 18000 * kSecond);
    const AudioLayout forever{tb, 0, tb, INT64_MAX};
    EXPECT_EQ(time_at(forever, tb), INT64_MAX);
    EXPECT_EQ(time_at(forever, tb / 2), INT64_MAX / 2);
}

// ---- FileIdentity and LayoutCache ----------------------------------------------------------

const FileIdentity kFile{1, 42, 6000, 1700000000000000};

TEST(FileIdentity, EveryFieldMattersToEqualityAndHash)
{
    const std::vector<FileIdentity> others{{2, 42, 6000, kFile.mtime},
                                           {1, 43, 6000, kFile.mtime},
                                           {1, 42, 6001, kFile.mtime},
                                           {1, 42, 6000, kFile.mtime + 1}};
    std::set<std::size_t> hashes{identity_hash(kFile)};
    for (const FileIdentity& o : others) {
        EXPECT_FALSE(o == kFile);
        hashes.insert(identity_hash(o));
    }
    EXPECT_EQ(hashes.size(), 5u);
    EXPECT_TRUE(kFile == (FileIdentity{1, 42, 6000, kFile.mtime}));
    EXPECT_EQ(identity_hash(kFile), identity_hash(FileIdentity{1, 42, 6000, kFile.mtime}));
}

TEST(FileIdentity, TheExtraNumberChangesTheHash)
{
    EXPECT_EQ(identity_hash(kFile), identity_hash(kFile, 0));
    EXPECT_NE(identity_hash(kFile, 0), identity_hash(kFile, 1));
    EXPECT_NE(identity_hash(kFile, 1), identity_hash(kFile, std::uint64_t{1} << 56));
    // FNV-1a of 48 zero bytes, as written: the function is stable across builds.
    EXPECT_EQ(identity_hash({0, 0, 0, 0}), static_cast<std::size_t>(0x902dca9c47fa0dc3ull));
}

bool same(const AudioLayout& a, const AudioLayout& b)
{
    return a.size == b.size && a.audio_start == b.audio_start && a.audio_end == b.audio_end &&
           a.duration == b.duration;
}

// LayoutCache keys layouts by the format that read the file too (formats/dispatch.h).
constexpr unsigned kMp3 = 1;

TEST(LayoutCache, FindsWhatWasInsertedForTheSameFile)
{
    LayoutCache cache;
    EXPECT_FALSE(cache.find(kFile, kMp3).has_value());
    cache.insert(kFile, kMp3, kCbr);
    const auto found = cache.find(kFile, kMp3);
    ASSERT_TRUE(found.has_value());
    EXPECT_TRUE(same(*found, kCbr));
    EXPECT_EQ(cache.entries(), 1u);
}

// A changed file (replaced, rewritten, grown) is never answered from an old entry.
TEST(LayoutCache, AnyChangeOfIdentityMisses)
{
    LayoutCache cache;
    cache.insert(kFile, kMp3, kCbr);
    for (const FileIdentity other : {FileIdentity{2, 42, 6000, kFile.mtime}, FileIdentity{1, 43, 6000, kFile.mtime},
                                     FileIdentity{1, 42, 6001, kFile.mtime},
                                     FileIdentity{1, 42, 6000, kFile.mtime + 1},
                                     FileIdentity{1, 42, 6000, kFile.mtime, kFile.ctime + 1}}) {
        EXPECT_FALSE(cache.find(other, kMp3).has_value());
    }
}

TEST(LayoutCache, AFileReadAsAnotherFormatMisses)
{
    LayoutCache cache;
    cache.insert(kFile, kMp3, kCbr);
    EXPECT_FALSE(cache.find(kFile, 0).has_value());
    EXPECT_FALSE(cache.find(kFile, kMp3 + 1).has_value());
}

TEST(LayoutCache, InsertingAgainReplaces)
{
    LayoutCache cache;
    cache.insert(kFile, kMp3, kCbr);
    const AudioLayout other{6000, 10, 6000, 5 * kSecond};
    cache.insert(kFile, kMp3, other);
    EXPECT_EQ(cache.entries(), 1u);
    EXPECT_TRUE(same(*cache.find(kFile, kMp3), other));
}

// Past kMaxEntries the least recently used goes: bounded, the newest and the used kept.
TEST(LayoutCache, IsBoundedLeastRecentlyUsedOut)
{
    LayoutCache cache;
    const std::size_t max = LayoutCache::kMaxEntries;
    for (std::uint64_t i = 0; i < max; ++i) {
        cache.insert({1, i, 6000, 0}, kMp3, {6000, i, 6000, 1});
    }
    EXPECT_EQ(cache.entries(), max);
    EXPECT_TRUE(cache.find({1, 0, 6000, 0}, kMp3).has_value());  // 0 used since it was made
    EXPECT_EQ(cache.find({1, max - 1, 6000, 0}, kMp3)->audio_start, max - 1);
    // One more: the oldest not used since (1) goes, the used one (0) stays.
    cache.insert({1, max, 6000, 0}, kMp3, {6000, 7, 6000, 1});
    EXPECT_EQ(cache.entries(), max);
    EXPECT_TRUE(cache.find({1, 0, 6000, 0}, kMp3).has_value());
    EXPECT_FALSE(cache.find({1, 1, 6000, 0}, kMp3).has_value());
    EXPECT_EQ(cache.find({1, max, 6000, 0}, kMp3)->audio_start, 7u);
    for (std::uint64_t i = 0; i < 3 * max; ++i) {
        cache.insert({2, i, 6000, 0}, kMp3, kCbr);
        ASSERT_LE(cache.entries(), max);
    }
}

TEST(LayoutCache, ThreadsShareItSafely)
{
    LayoutCache cache;
    std::atomic<int> found{0};
    std::vector<std::thread> threads;
    for (std::uint64_t t = 0; t < 4; ++t) {
        threads.emplace_back([&cache, &found, t] {
            for (std::uint64_t n = 0; n < 4000; ++n) {
                // Every other lookup is one of 16 hot files; the rest are new ones, which fill
                // the cache so that it evicts now and then.
                const std::uint64_t inode = n % 2 == 0 ? (n / 2) % 16 : 1000 + n;
                const FileIdentity id{t, inode, 6000, 0};
                if (const auto l = cache.find(id, kMp3)) {
                    EXPECT_EQ(l->audio_start, inode);
                    ++found;
                }
                else {
                    cache.insert(id, kMp3, {6000, inode, 6000, 1});
                }
                ASSERT_LE(cache.entries(), LayoutCache::kMaxEntries);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_GT(found.load(), 0);
}

}  // namespace
}  // namespace audio_stream
