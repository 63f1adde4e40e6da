// The formats' layouts (layout_mp3, layout_flac, layout_ogg, layout_wav, layout_mp4) and
// layout_for_type:
// where the audio of a file lies and how long it plays, which download counting turns into a
// threshold and into seconds. The generated files of the cutters' tests (mp3_tools.h,
// flac_tools.h, ogg_tools.h, wav_tools.h) are judged against an independent reading of their
// headers and against ffprobe; hand-made files pin the exact numbers, the threshold of a long
// file, and what a damaged file falls back to (the whole file, duration unknown).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "src/audio_layout.h"
#include "src/byte_source.h"
#include "src/formats/dispatch.h"
#include "src/formats/formats.h"
#include "src/formats/ogg/chain.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/flac_tools.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/ogg_tools.h"
#include "tests/unit/wav_tools.h"

namespace audio_stream {

// Found by ADL for EXPECT_EQ, hence in audio_stream.
inline bool operator==(const AudioLayout& a, const AudioLayout& b)
{
    return a.size == b.size && a.audio_start == b.audio_start && a.audio_end == b.audio_end &&
           a.duration == b.duration;
}

inline void PrintTo(const AudioLayout& l, std::ostream* os)
{
    *os << "AudioLayout{size " << l.size << ", audio " << l.audio_start << ".." << l.audio_end << ", "
        << l.duration << " us}";
}

namespace {

constexpr Micros kSecond = 1'000'000;

// What every layout keeps to, whatever the bytes: the audio inside the file, a duration that
// is not negative, a threshold inside the file and not inside the headers.
void expect_layout_invariants(const AudioLayout& l, Offset size)
{
    EXPECT_EQ(l.size, size);
    EXPECT_LE(l.audio_start, l.audio_end);
    EXPECT_LE(l.audio_end, size);
    EXPECT_GE(l.duration, 0);
    const Offset threshold = download_threshold(l);
    EXPECT_LE(threshold, size);
    EXPECT_GE(threshold, l.audio_start);
}

// The layout of a type no parser knows, or of a file that does not parse.
AudioLayout unknown(Offset size) { return AudioLayout{size, 0, size, 0}; }

template <typename Layout>
AudioLayout layout_of(Layout layout, const std::string& bytes)
{
    MemorySource src(bytes);
    return layout(src);
}

AudioLayout layout_of_type(std::string_view type, const std::string& bytes)
{
    MemorySource src(bytes);
    return layout_for_type(type, src);
}

// Prefixes and random mutations of a file: never a crash, always the invariants.
template <typename Layout>
void expect_robust(Layout layout, const std::string& file, unsigned seed)
{
    for (std::size_t n = 0; n <= file.size(); n += 1 + n / 16) {
        const std::string prefix = file.substr(0, n);
        expect_layout_invariants(layout_of(layout, prefix), prefix.size());
    }
    std::mt19937 rng(seed);
    for (int i = 0; i < 300; ++i) {
        std::string m = file;
        for (int f = 0; f < 1 + static_cast<int>(rng() % 4); ++f) {
            m[rng() % std::min<std::size_t>(m.size(), 4096)] = static_cast<char>(rng());
        }
        expect_layout_invariants(layout_of(layout, m), m.size());
    }
}

// ---- MP3 ---------------------------------------------------------------------------------------

using mp3_test::be32s;
using mp3_test::id3_size;
using mp3_test::id3_tag;
using mp3_test::repeat_frames;

class Mp3Layout : public mp3_test::Mp3Files {};

// The generated files: audio after the ID3v2 tag to the end (ffmpeg writes no ID3v1), and the
// duration players show: with a Xing/Info frame, its frame count less the LAME delay and
// padding, exactly the 20 s encoded; without one, the first frame's bitrate over the audio,
// within a frame of what ffmpeg decodes.
TEST_F(Mp3Layout, GeneratedFilesHaveTheirAudioAndDuration)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : mp3_test::kSources) {
        const std::string& bytes = fixture(s.name).bytes;
        const AudioLayout l = layout_of(layout_mp3, bytes);
        expect_layout_invariants(l, bytes.size());
        EXPECT_EQ(l.audio_start, id3_size(bytes)) << s.name;
        EXPECT_EQ(l.audio_end, bytes.size()) << s.name;
        const auto head = parse_mp3_header(mp3_test::be32(bytes, id3_size(bytes)));
        ASSERT_TRUE(head.has_value()) << s.name;
        const double frame = static_cast<double>(head->samples) / head->sample_rate;
        const auto& f = fixture(s.name);
        const double decoded = static_cast<double>(f.samples.size()) / s.channels / f.rate;
        EXPECT_NEAR(l.duration / 1e6, decoded, frame) << s.name;
        if (std::string(s.tag) != "") {
            EXPECT_EQ(l.duration, 20 * kSecond) << s.name;
        }
        // 20 s: a download is the whole file.
        EXPECT_EQ(download_threshold(l), bytes.size()) << s.name;
        EXPECT_EQ(layout_of_type("audio/mpeg", bytes), l) << s.name;
    }
}

// MPEG-1 Layer III, 128 kbit/s, 48 kHz, mono, no padding: 384-byte frames of 24 ms.
constexpr std::uint32_t kFrame48k = 0xFFFB94C4;

std::string cbr_frames(int n)
{
    const auto h = parse_mp3_header(kFrame48k);
    EXPECT_TRUE(h.has_value());
    EXPECT_EQ(h->size, 384u);
    EXPECT_EQ(h->samples, 1152u);
    return repeat_frames(kFrame48k, 384, n);
}

// An ID3v1 tag: "TAG" and 125 bytes.
std::string id3v1() { return "TAG" + std::string(125, 'v'); }

// An APEv2 tag without a header: `items` bytes of items and the 32-byte footer.
std::string ape_tag(std::size_t items)
{
    auto le32 = [](std::uint32_t v) { return wav_test::le32s(v); };
    return std::string(items, 'a') + "APETAGEX" + le32(2000) + le32(static_cast<std::uint32_t>(items + 32)) +
           le32(1) + le32(0) + std::string(8, '\0');
}

TEST(Mp3LayoutHandMade, CbrDurationIsTheAudioBytesAtTheBitrate)
{
    const std::string tag = id3_tag({{"TIT2", std::string("\0title", 6)}});
    const std::string file = tag + cbr_frames(5000);  // 120 s
    const AudioLayout l = layout_of(layout_mp3, file);
    EXPECT_EQ(l, (AudioLayout{file.size(), tag.size(), file.size(), 120 * kSecond}));
    // A download: the tag and a minute of frames.
    EXPECT_EQ(download_threshold(l), tag.size() + 2500 * 384);
    EXPECT_EQ(time_at(l, tag.size() + 384), Micros{24000});
}

// Trailing ID3v1 and APEv2 tags are not audio.
TEST(Mp3LayoutHandMade, TrailingTagsAreNotAudio)
{
    const std::string frames = cbr_frames(2500);  // 60 s
    const std::string v1 = frames + id3v1();
    EXPECT_EQ(layout_of(layout_mp3, v1), (AudioLayout{v1.size(), 0, frames.size(), 60 * kSecond}));
    const std::string ape = frames + ape_tag(20) + id3v1();
    EXPECT_EQ(layout_of(layout_mp3, ape), (AudioLayout{ape.size(), 0, frames.size(), 60 * kSecond}));
    // Exactly a minute: the whole file, tags included.
    EXPECT_EQ(download_threshold(layout_of(layout_mp3, ape)), ape.size());
    const std::string longer = cbr_frames(7500) + id3v1();  // 180 s
    EXPECT_EQ(download_threshold(layout_of(layout_mp3, longer)), Offset{2500 * 384 + 128});
}

TEST(Mp3LayoutHandMade, WhatDoesNotParseIsTheWholeFileOfUnknownDuration)
{
    const std::string tag = id3_tag({{"TIT2", std::string("\0x", 2)}});
    std::string noise(20000, '\0');
    std::mt19937 rng(4);
    for (char& c : noise) {
        c = static_cast<char>(rng() & 0x7F);  // no 0xFF: no frame sync
    }
    EXPECT_EQ(layout_of(layout_mp3, ""), unknown(0));
    EXPECT_EQ(layout_of(layout_mp3, noise), unknown(noise.size()));
    // A bad ID3v2 header, or one past the end of the file.
    const std::string bad = tag.substr(0, 3) + '\xFF' + tag.substr(4) + cbr_frames(10);
    EXPECT_EQ(layout_of(layout_mp3, bad), unknown(bad.size()));
    const std::string past = tag.substr(0, 6) + mp3_test::syncsafe(100000) + tag.substr(10) + cbr_frames(10);
    EXPECT_EQ(layout_of(layout_mp3, past), unknown(past.size()));
    // A tag and no frame: the audio after the tag, duration unknown, a download is every byte.
    const AudioLayout only_tag = layout_of(layout_mp3, tag + noise);
    EXPECT_EQ(only_tag.audio_start, tag.size());
    EXPECT_EQ(only_tag.duration, 0);
    EXPECT_EQ(download_threshold(only_tag), tag.size() + noise.size());
}

// A Xing frame (MPEG-1, 48 kHz, mono, 128 kbit/s: 384 bytes) counting `frames` frames.
std::string xing_frame(std::uint32_t frames)
{
    std::string f = be32s(kFrame48k) + std::string(17, '\0') + "Xing" + be32s(1) + be32s(frames);
    return f + std::string(384 - f.size(), '\0');
}

// A Xing frame count the bytes cannot hold even in 32 kbit/s frames (96 bytes at 48 kHz) is a
// lie: the duration is the bytes at the first frame's bitrate, as without a Xing frame.
TEST(Mp3LayoutHandMade, AXingCountTheBytesCannotHoldIsALie)
{
    const std::string tag = id3_tag({{"TIT2", std::string("\0title", 6)}});
    const std::string file = tag + xing_frame(0xFFFFFFF0u) + cbr_frames(5000);
    const AudioLayout l = layout_of(layout_mp3, file);
    EXPECT_EQ(l.duration, 120 * kSecond);
    EXPECT_EQ(download_threshold(l), tag.size() + 5001 * 384 / 2);  // the Xing frame is audio bytes
    // A true count: 5000 frames of 24 ms, less what the Xing frame itself is (no LAME tag).
    EXPECT_EQ(layout_of(layout_mp3, tag + xing_frame(5000) + cbr_frames(5000)).duration, 120 * kSecond);
}

// A count the bytes could hold at 32 kbit/s (four times the frames): believed, but held to the
// floor, 60 s of the smallest frames (625 of 96 bytes): the threshold of a real 32 kbit/s file.
TEST(Mp3LayoutHandMade, AXingCountTheBytesCouldHoldIsHeldToTheFloor)
{
    const std::string file = xing_frame(20004) + cbr_frames(5000);
    const AudioLayout l = layout_of(layout_mp3, file);
    EXPECT_EQ(l.floor_bitrate, 32000u);
    EXPECT_EQ(l.duration, Micros{20004} * 24000);
    EXPECT_EQ(download_threshold(l), Offset{625 * 96 * 4});
}

TEST(Mp3LayoutHandMade, TheFloorIsTheSmallestFramesBitrate)
{
    // 44.1 kHz MPEG-1: unpadded 32 kbit/s frames of 104 bytes, 31,850 bit/s.
    const std::string f44 = repeat_frames(0xFFFB90C4, 417, 10);
    EXPECT_EQ(layout_of(layout_mp3, f44).floor_bitrate, 31850u);
    // 24 kHz MPEG-2: 8 kbit/s frames of 24 bytes.
    const auto h24 = parse_mp3_header(0xFFF394C4);
    ASSERT_TRUE(h24.has_value());
    const std::string f24 = repeat_frames(0xFFF394C4, h24->size, 10);
    EXPECT_EQ(layout_of(layout_mp3, f24).floor_bitrate, 8000u);
}

TEST(Mp3LayoutHandMade, DamagedFilesKeepTheInvariants)
{
    expect_robust(layout_mp3, id3_tag({{"TIT2", std::string("\0x", 2)}}) + cbr_frames(40) + id3v1(), 8);
}

// ---- FLAC --------------------------------------------------------------------------------------

class FlacLayout : public flac_test::FlacFiles {};

// Audio after the metadata blocks, STREAMINFO's total samples at its rate.
TEST_F(FlacLayout, GeneratedFilesHaveTheirAudioAndDuration)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : flac_test::kSources) {
        const std::string& bytes = fixture(s.name).bytes;
        const AudioLayout l = layout_of(layout_flac, bytes);
        expect_layout_invariants(l, bytes.size());
        EXPECT_EQ(l.audio_start, flac_test::audio_start_of(bytes)) << s.name;
        EXPECT_EQ(l.audio_end, bytes.size()) << s.name;
        const std::uint64_t samples = flac_test::total_samples(flac_test::metadata(bytes).at(0).body);
        EXPECT_EQ(samples, 20u * s.rate) << s.name;
        EXPECT_EQ(l.duration, static_cast<Micros>(samples * 1000000 / s.rate)) << s.name;
        EXPECT_NEAR(l.duration / 1e6, fixture(s.name).probed, 1e-3) << s.name;
        EXPECT_EQ(layout_of_type("audio/flac", bytes), l) << s.name;
    }
}

// "fLaC", STREAMINFO (rate, channels 1, 16 bits, total samples), other blocks, then `audio`.
std::string flac_file(std::uint32_t rate, std::uint64_t samples, const std::vector<std::string>& more_blocks,
                      const std::string& audio)
{
    std::string info(34, '\0');
    info[0] = 0x10;  // min and max block 4096
    info[2] = 0x10;
    info[10] = static_cast<char>(rate >> 12);
    info[11] = static_cast<char>(rate >> 4);
    info[12] = static_cast<char>((rate & 0x0F) << 4);  // 1 channel (0), bits - 1 = 15: its top bit 0
    info[13] = static_cast<char>(0xF0 | (samples >> 32 & 0x0F));
    for (int i = 0; i < 4; ++i) {
        info[14 + i] = static_cast<char>(samples >> (24 - 8 * i));
    }
    auto block = [](unsigned type, bool last, const std::string& body) {
        const auto n = static_cast<std::uint32_t>(body.size());
        return std::string{static_cast<char>(type | (last ? 0x80 : 0)), static_cast<char>(n >> 16),
                           static_cast<char>(n >> 8), static_cast<char>(n)} +
               body;
    };
    std::string out = "fLaC" + block(0, more_blocks.empty(), info);
    for (std::size_t i = 0; i < more_blocks.size(); ++i) {
        out += block(1, i + 1 == more_blocks.size(), more_blocks[i]);  // PADDING
    }
    return out + audio;
}

// 180 s at 16000 B/s after exactly 4096 bytes of metadata: a download is 4096 + 960000 bytes.
TEST(FlacLayoutHandMade, ALongFilesThresholdIsTheMetadataAndAMinute)
{
    const std::string file = flac_file(8000, 180 * 8000, {std::string(4096 - 42 - 4, '\0')},
                                       std::string(180 * 16000, '\x55'));
    const AudioLayout l = layout_of(layout_flac, file);
    EXPECT_EQ(l, (AudioLayout{file.size(), 4096, file.size(), 180 * kSecond}));
    EXPECT_EQ(download_threshold(l), Offset{4096 + 960000});
}

TEST(FlacLayoutHandMade, AnId3TagBeforeTheStreamIsHeader)
{
    const std::string tag = id3_tag({{"TIT2", std::string("\0x", 2)}});
    const std::string file = tag + flac_file(44100, 44100 * 3, {}, std::string(1000, '\x55'));
    EXPECT_EQ(layout_of(layout_flac, file), (AudioLayout{file.size(), tag.size() + 42, file.size(), 3 * kSecond}));
}

// STREAMINFO's total 0 means unknown: the whole file is a download.
TEST(FlacLayoutHandMade, UnknownTotalSamplesIsUnknownDuration)
{
    const std::string file = flac_file(44100, 0, {}, std::string(1000, '\x55'));
    const AudioLayout l = layout_of(layout_flac, file);
    EXPECT_EQ(l, (AudioLayout{file.size(), 42, file.size(), 0}));
    EXPECT_EQ(download_threshold(l), file.size());
}

TEST(FlacLayoutHandMade, WhatDoesNotParseIsTheWholeFileOfUnknownDuration)
{
    const std::string good = flac_file(44100, 44100, {std::string(10, '\0')}, std::string(100, '\x55'));
    EXPECT_EQ(layout_of(layout_flac, ""), unknown(0));
    EXPECT_EQ(layout_of(layout_flac, "fLaX" + good.substr(4)), unknown(good.size()));
    const std::string truncated = good.substr(0, 50);  // inside the PADDING block
    EXPECT_EQ(layout_of(layout_flac, truncated), unknown(truncated.size()));
    const std::string zero_rate = flac_file(0, 44100, {}, std::string(100, '\x55'));
    EXPECT_EQ(layout_of(layout_flac, zero_rate), unknown(zero_rate.size()));
}

// STREAMINFO's total samples past what the audio bytes can hold in frames of at most 65535
// samples, each at least 9 bytes (mono): a lie, the duration unknown, a download the whole file.
TEST(FlacLayoutHandMade, TotalSamplesTheBytesCannotHoldAreUnknown)
{
    const std::string audio(400000, '\x55');  // 44,444 frames of 9 bytes at most
    const std::string lie = flac_file(44100, 0xFFFFFFFFFull, {}, audio);
    EXPECT_EQ(layout_of(layout_flac, lie), (AudioLayout{lie.size(), 42, lie.size(), 0}));
    EXPECT_EQ(download_threshold(layout_of(layout_flac, lie)), lie.size());
    const std::string most = flac_file(44100, 44444ull * 65535, {}, audio);
    EXPECT_GT(layout_of(layout_flac, most).duration, 0);
    const std::string past = flac_file(44100, 44445ull * 65535, {}, audio);
    EXPECT_EQ(layout_of(layout_flac, past).duration, 0);
}

// A lie the bytes could hold (an hour in 400 KB) is held to the floor: a bit a sample at the
// stream's rate (44.1 kHz: 330,750 bytes a minute), at least 8 kHz (a rate of 1 Hz: 60,000).
TEST(FlacLayoutHandMade, TotalSamplesTheBytesCouldHoldAreHeldToTheFloor)
{
    const std::string audio(400000, '\x55');
    const AudioLayout hour = layout_of(layout_flac, flac_file(44100, 44100ull * 3600, {}, audio));
    EXPECT_EQ(hour.duration, 3600 * kSecond);
    EXPECT_EQ(hour.floor_bitrate, 44100u);
    EXPECT_EQ(download_threshold(hour), Offset{42 + 330750});
    const AudioLayout slow = layout_of(layout_flac, flac_file(1, 600, {}, audio));
    EXPECT_EQ(slow.duration, 600 * kSecond);
    EXPECT_EQ(download_threshold(slow), Offset{42 + 60000});
}

TEST(FlacLayoutHandMade, DamagedFilesKeepTheInvariants)
{
    expect_robust(layout_flac, flac_file(44100, 44100 * 90, {std::string(30, '\0')}, std::string(3000, '\x55')), 9);
}

// ---- Ogg ---------------------------------------------------------------------------------------

class OggLayout : public ogg_test::OggFiles {};

// An independent reading: audio from the first page with a granule position (the header
// pages have 0), the duration from the last page's, less the Opus pre-skip.
struct OggTruth {
    Offset audio_start = 0;
    Micros duration = 0;
};

OggTruth ogg_truth(const std::string& bytes, ogg_test::Codec codec, unsigned rate)
{
    std::string error;
    const auto pages = ogg_test::parse_pages(bytes, error);
    EXPECT_EQ(error, "");
    OggTruth t;
    Offset at = 0;
    bool found = false;
    for (const auto& p : pages) {
        if (!found && p.granule != 0) {
            t.audio_start = at;
            found = true;
        }
        at += 27 + p.lacing.size() + p.body.size();
    }
    const std::int64_t pre_skip = codec == ogg_test::Codec::Opus ? ogg_test::pre_skip(bytes) : 0;
    t.duration = static_cast<Micros>((pages.back().granule - pre_skip) * 1000000 / rate);
    return t;
}

TEST_F(OggLayout, GeneratedFilesHaveTheirAudioAndDuration)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : ogg_test::kSources) {
        const std::string& bytes = fixture(s.name).bytes;
        const AudioLayout l = layout_of(layout_ogg, bytes);
        expect_layout_invariants(l, bytes.size());
        const OggTruth truth = ogg_truth(bytes, s.codec, s.rate);
        EXPECT_EQ(l.audio_start, truth.audio_start) << s.name;
        EXPECT_EQ(l.audio_end, bytes.size()) << s.name;
        EXPECT_EQ(l.duration, truth.duration) << s.name;
        EXPECT_NEAR(l.duration / 1e6, 20.0, 0.05) << s.name;
        EXPECT_EQ(layout_of_type(s.codec == ogg_test::Codec::Opus ? "audio/ogg; codecs=opus" : "audio/ogg", bytes),
                  l)
            << s.name;
    }
}

// An Opus file with its last page's granule position moved to `samples` after the pre-skip
// (CRC made afresh).
std::string with_last_granule(const std::string& original, std::int64_t samples)
{
    std::string error;
    auto pages = ogg_test::parse_pages(original, error);
    EXPECT_EQ(error, "");
    pages.back().granule = ogg_test::pre_skip(original) + samples;
    return ogg_test::serialise(pages);
}

// The same file with its last page's granule position moved to 180 s: a long file, whose
// threshold is its headers and a third of its audio bytes.
TEST_F(OggLayout, ALongFilesThresholdIsTheHeadersAndAMinute)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("OpusencOpus").bytes;
    const std::string file = with_last_granule(original, 180 * 48000);
    ASSERT_EQ(file.size(), original.size());
    const AudioLayout l = layout_of(layout_ogg, file);
    EXPECT_EQ(l.duration, 180 * kSecond);
    const Offset audio = file.size() - l.audio_start;
    EXPECT_EQ(download_threshold(l), l.audio_start + (audio + 2) / 3);
}

// A last granule position that the audio bytes cannot hold (a packet of at least two bytes, a
// byte and its lacing value, plays at most 120 ms): a lie, the duration unknown.
TEST_F(OggLayout, ALastGranuleTheBytesCannotHoldIsUnknown)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("OpusencOpus").bytes;
    const Offset audio = original.size() - layout_of(layout_ogg, original).audio_start;
    const std::string lie = with_last_granule(original, static_cast<std::int64_t>(audio / 2 + 1) * 5760);
    EXPECT_EQ(layout_of(layout_ogg, lie).duration, 0);
    EXPECT_EQ(download_threshold(layout_of(layout_ogg, lie)), lie.size());
    const std::string most = with_last_granule(original, static_cast<std::int64_t>(audio / 2) * 5760);
    EXPECT_EQ(layout_of(layout_ogg, most).duration, Micros{120000} * static_cast<Micros>(audio / 2));
}

// Two hours claimed for 20 s of audio: believed (the bytes could hold it), held to the floor
// of 4 kbit/s, 30,000 bytes a minute.
TEST_F(OggLayout, ALastGranuleTheBytesCouldHoldIsHeldToTheFloor)
{
    ASSERT_EQ(errors(), "");
    const std::string file = with_last_granule(fixture("OpusencOpus").bytes, std::int64_t{2 * 3600} * 48000);
    const AudioLayout l = layout_of(layout_ogg, file);
    EXPECT_EQ(l.duration, 2 * 3600 * kSecond);
    EXPECT_EQ(l.floor_bitrate, 4000u);
    EXPECT_EQ(download_threshold(l), l.audio_start + 30000);
}

// Only the last kMaxPage bytes are searched: a file cut inside its last page has the duration
// of the last whole page.
TEST_F(OggLayout, ATruncatedFileHasTheDurationOfItsLastWholePage)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("FfmpegVorbis").bytes;
    std::string error;
    const auto pages = ogg_test::parse_pages(original, error);
    ASSERT_EQ(error, "");
    ASSERT_GT(pages.size(), 4u);
    const auto& last = pages.back();
    const std::string file = original.substr(0, original.size() - last.body.size() / 2);
    const AudioLayout l = layout_of(layout_ogg, file);
    EXPECT_EQ(l.duration, static_cast<Micros>(pages[pages.size() - 2].granule * 1000000 / 44100));
}

// A file of many small pages (one 20 ms packet a page, as live streams write them): the last
// page is found however many pages the tail holds.
TEST_F(OggLayout, ManySmallPagesStillGiveTheLastGranule)
{
    ASSERT_EQ(errors(), "");
    const std::string path = ogg_test::make_file(
        "SmallPages", "ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=120:sample_rate=48000 "
                      "-c:a libopus -b:a 16k -page_duration 20000 '{out}'");
    const std::string bytes = test_tools::slurp(path);
    ASSERT_FALSE(bytes.empty());
    const OggTruth truth = ogg_truth(bytes, ogg_test::Codec::Opus, 48000);
    const AudioLayout l = layout_of(layout_ogg, bytes);
    EXPECT_EQ(l.audio_start, truth.audio_start);
    EXPECT_EQ(l.duration, truth.duration);
    EXPECT_NEAR(l.duration / 1e6, 120.0, 0.05);
}

TEST(OggLayoutHandMade, WhatDoesNotParseIsTheWholeFileOfUnknownDuration)
{
    EXPECT_EQ(layout_of(layout_ogg, ""), unknown(0));
    const std::string not_ogg = "OggX" + std::string(1000, 'x');
    EXPECT_EQ(layout_of(layout_ogg, not_ogg), unknown(not_ogg.size()));
    // An Ogg stream of a codec no cutter knows (a Speex-like first packet).
    ogg_test::TestPage p;
    p.type = 2;
    p.serial = 7;
    p.body = "Speex   " + std::string(72, '\0');
    p.lacing = {80};
    const std::string speex = ogg_test::serialise({p});
    EXPECT_EQ(layout_of(layout_ogg, speex), unknown(speex.size()));
}

// Chained files (RFC 3533 §4: links one after another, as stream recorders write them): the
// duration is the sum of the links', each read by the same layout on its own.
class OggChainLayout : public OggLayout {
protected:
    static std::string link(const std::string& name, const std::string& make)
    {
        return test_tools::slurp(ogg_test::make_file(name, "ffmpeg -v error -y -f lavfi " + make + " '{out}'"));
    }
    static Micros alone(const std::string& bytes) { return layout_of(layout_ogg, bytes).duration; }
    // The links' durations summed, before the layout checks them against the bytes.
    static Micros chained(const std::string& bytes)
    {
        MemorySource src(bytes);
        ogg::Pages pages(src);
        return ogg::chain_duration(pages, ogg::read_stream(pages)).value_or(0);
    }
    static std::vector<ogg_test::TestPage> pages_of(const std::string& bytes)
    {
        std::string error;
        auto pages = ogg_test::parse_pages(bytes, error);
        EXPECT_EQ(error, "");
        return pages;
    }
};

TEST_F(OggChainLayout, TheDurationIsTheSumOfTheLinks)
{
    ASSERT_EQ(errors(), "");
    // A minute of Vorbis at 44.1 kHz (about 1 MB of noise: the first link walked over
    // its pages), then 5 s of Opus and 3 s of Vorbis at 22.05 kHz.
    const std::string vorbis = link("LinkVorbis", "-i anoisesrc=duration=60:sample_rate=44100 -c:a libvorbis -b:a 160k");
    const std::string opus = link("LinkOpus", "-i sine=frequency=880:duration=5 -c:a libopus");
    const std::string low = link("LinkLow", "-i sine=duration=3:sample_rate=22050 -c:a libvorbis");
    ASSERT_GT(vorbis.size(), 8 * ogg::kMaxPage);  // pages of 4 KiB and more
    const Micros sum = alone(vorbis) + alone(opus) + alone(low);
    EXPECT_NEAR(sum / 1e6, 68.0, 0.05);
    const std::string chain = vorbis + opus + low;
    const AudioLayout l = layout_of(layout_ogg, chain);
    expect_layout_invariants(l, chain.size());
    EXPECT_EQ(l.duration, sum);
    EXPECT_EQ(l.audio_start, layout_of(layout_ogg, vorbis).audio_start);
    // Opus first, then the long Vorbis link, which ends the file.
    EXPECT_EQ(layout_of(layout_ogg, opus + vorbis).duration, alone(opus) + alone(vorbis));
}

TEST_F(OggChainLayout, LinksOfOneSerialNumberAreSeenByTheirBeginningPages)
{
    ASSERT_EQ(errors(), "");
    // `cat a.ogg a.ogg a.ogg`: every link of the same serial number, its first page flagged.
    const std::string one = link("LinkTwice", "-i sine=duration=2 -c:a libopus");
    EXPECT_EQ(alone(one + one + one), 3 * alone(one));
}

TEST_F(OggChainLayout, PastTheLinksFollowedTheDurationIsUnknown)
{
    ASSERT_EQ(errors(), "");
    const std::string one = link("LinkShort", "-i sine=duration=0.5 -c:a libopus");
    std::string chain;
    for (std::size_t i = 0; i < ogg::kMaxLinks; ++i) {
        chain += one;
    }
    EXPECT_EQ(alone(chain), static_cast<Micros>(ogg::kMaxLinks) * alone(one));
    chain += one;
    const AudioLayout l = layout_of(layout_ogg, chain);
    EXPECT_EQ(l.duration, 0);  // unknown: the whole file is the threshold
    EXPECT_EQ(download_threshold(l), chain.size());
}

TEST_F(OggChainLayout, AChainOfMorePagesThanAWalkPassesHasAnUnknownDuration)
{
    ASSERT_EQ(errors(), "");
    // Empty pages (no granule position) before the first link's audio pages, then a second
    // link: a walk over kMaxCutPages pages in all sums the links; one page more stops it
    // (OverBudget), and the duration is unknown.
    const std::string one = link("LinkShort", "-i sine=duration=0.5 -c:a libopus");
    const auto pages = pages_of(one);
    const std::size_t audio = pages.size() - 2;  // pages a walk passes in each link
    const ogg_test::TestPage empty = ogg_test::empty_like(pages[2]);
    const auto padded = [&](std::size_t n) {
        auto more = pages;
        more.insert(more.begin() + 2, n, empty);
        for (std::size_t i = 0; i < more.size(); ++i) {
            more[i].sequence = static_cast<std::uint32_t>(i);
        }
        return ogg_test::serialise(more) + one;
    };
    EXPECT_EQ(alone(padded(ogg::kMaxCutPages - 2 * audio)), 2 * alone(one));
    EXPECT_EQ(alone(padded(ogg::kMaxCutPages - 2 * audio + 1)), 0);
}

TEST_F(OggChainLayout, DurationsThatWouldOverflowSaturate)
{
    // Each link's last granule position 2^62 (the largest read): its duration saturates, and so
    // does their sum (it overflowed: found by the fuzzer). No bytes hold that: the layout's
    // duration is unknown.
    ASSERT_EQ(errors(), "");
    const std::string one = link("LinkOpus", "-i sine=frequency=880:duration=5 -c:a libopus");
    auto pages = pages_of(one);
    ASSERT_GT(pages.size(), 4u);  // the first audio page's granule position is not the last's
    pages.back().granule = std::int64_t{1} << 62;
    const std::string huge = ogg_test::serialise(pages);
    EXPECT_EQ(chained(huge), std::numeric_limits<Micros>::max());
    EXPECT_EQ(chained(huge + huge), std::numeric_limits<Micros>::max());
    EXPECT_EQ(chained(one + huge + one), std::numeric_limits<Micros>::max());
    EXPECT_EQ(alone(huge), 0);
    EXPECT_EQ(alone(one + huge + one), 0);
}

TEST_F(OggChainLayout, ALinkThatCannotBeReadMakesTheDurationUnknown)
{
    ASSERT_EQ(errors(), "");
    const std::string opus = link("LinkOpus", "-i sine=frequency=880:duration=5 -c:a libopus");
    // The second link's headers cut short: its first page, then its last pages.
    const std::string broken = opus + opus.substr(0, 100) + opus.substr(opus.size() - 2000);
    EXPECT_EQ(alone(broken), 0);
}

TEST_F(OggLayout, DamagedFilesKeepTheInvariants)
{
    ASSERT_EQ(errors(), "");
    const std::string& bytes = fixture("OpusencOpus").bytes;
    // The headers and a few pages: the prefixes and mutations that matter.
    expect_robust(layout_ogg, bytes.substr(0, std::min<std::size_t>(bytes.size(), 12000)), 10);
}

// ---- WAVE --------------------------------------------------------------------------------------

using wav_test::chunk;
using wav_test::fmt_body;
using wav_test::le32s;
using wav_test::ramp;
using wav_test::riff;

class WavLayout : public wav_test::WavFiles {};

// The data chunk's offset and length, by walking the chunks (independently of the parser).
std::pair<Offset, Offset> data_chunk(const std::string& bytes)
{
    for (std::size_t pos = 12; pos + 8 <= bytes.size();) {
        const std::uint32_t len = wav_test::le32(bytes, pos + 4);
        if (bytes.compare(pos, 4, "data") == 0) {
            return {pos + 8, std::min<Offset>(len, bytes.size() - pos - 8)};
        }
        pos += 8 + len + (len & 1);
    }
    return {0, 0};
}

TEST_F(WavLayout, GeneratedFilesHaveTheirAudioAndDuration)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : wav_test::kSources) {
        const auto& f = fixture(s.name);
        const AudioLayout l = layout_of(layout_wav, f.bytes);
        expect_layout_invariants(l, f.bytes.size());
        const auto [offset, length] = data_chunk(f.bytes);
        EXPECT_EQ(l.audio_start, offset) << s.name;
        EXPECT_EQ(l.audio_end, offset + length) << s.name;
        const Offset block = f.channels * (f.bits / 8);
        EXPECT_EQ(l.duration, static_cast<Micros>(length / block * 1000000 / f.rate)) << s.name;
        EXPECT_NEAR(l.duration / 1e6, f.duration, 1.0 / f.rate + 1e-6) << s.name;
        EXPECT_EQ(layout_of_type("audio/x-wav", f.bytes), l) << s.name;
    }
}

// 180 s of 8 kHz 16-bit mono (16000 B/s) after a 4096-byte header (a JUNK chunk pads it):
// a download is 4096 + 960000 bytes.
TEST(WavLayoutHandMade, ALongFilesThresholdIsTheHeaderAndAMinute)
{
    const std::string file = riff(chunk("JUNK", std::string(4096 - 52, '\0')) + chunk("fmt ", fmt_body(1, 1, 8000, 2, 16)) +
                                  chunk("data", std::string(180 * 16000, '\x11')));
    const AudioLayout l = layout_of(layout_wav, file);
    EXPECT_EQ(l, (AudioLayout{file.size(), 4096, file.size(), 180 * kSecond}));
    EXPECT_EQ(download_threshold(l), Offset{4096 + 960000});
    EXPECT_EQ(time_at(l, 4096 + 16000 * 90), 90 * kSecond);
}

// Chunks after the data (LIST, id3) are not audio.
TEST(WavLayoutHandMade, ChunksAfterTheDataAreNotAudio)
{
    const std::string head = riff(chunk("fmt ", fmt_body(1, 2, 1000, 4, 16)));
    const std::string file = riff(chunk("fmt ", fmt_body(1, 2, 1000, 4, 16)) + chunk("data", ramp(4000)) +
                                  chunk("LIST", "INFOtrailing"));
    const Offset start = head.size() + 8;
    EXPECT_EQ(layout_of(layout_wav, file), (AudioLayout{file.size(), start, start + 4000, kSecond}));
}

// A streamed WAVE (data size 0xFFFFFFFF, or larger than the file): clipped to the file; a
// trailing partial frame does not play.
TEST(WavLayoutHandMade, AStreamedDataSizeIsClippedToTheFile)
{
    const std::string file = riff(chunk("fmt ", fmt_body(1, 2, 1000, 4, 16))) + "data" + le32s(0xFFFFFFFFu) +
                             ramp(4 * 1500 + 3);
    const AudioLayout l = layout_of(layout_wav, file);
    EXPECT_EQ(l.audio_end, file.size());
    EXPECT_EQ(l.audio_start, file.size() - (4 * 1500 + 3));
    EXPECT_EQ(l.duration, 1500000);
}

TEST(WavLayoutHandMade, WhatDoesNotParseIsTheWholeFileOfUnknownDuration)
{
    const std::string pcm = fmt_body(1, 2, 1000, 4, 16);
    for (const std::string& bad :
         {std::string(), std::string("RIFF"), "RIFX" + le32s(4) + "WAVE", riff(chunk("fmt ", pcm)),
          riff(chunk("data", ramp(16)) + chunk("fmt ", pcm)),
          riff(chunk("fmt ", fmt_body(0x55, 2, 1000, 4, 16)) + chunk("data", ramp(16))),
          riff(chunk("fmt ", fmt_body(1, 2, 0, 4, 16)) + chunk("data", ramp(16))),
          riff(chunk("fmt ", fmt_body(1, 2, 1000, 0, 16)) + chunk("data", ramp(16)))}) {
        EXPECT_EQ(layout_of(layout_wav, bad), unknown(bad.size())) << bad.size();
    }
    // An empty data chunk: no audio, so the whole file.
    const std::string empty = riff(chunk("fmt ", pcm) + chunk("data", ""));
    const AudioLayout l = layout_of(layout_wav, empty);
    EXPECT_EQ(l.duration, 0);
    EXPECT_EQ(download_threshold(l), empty.size());
}

// fmt's byte rate is not read: the duration is the sample frames at the sample rate.
TEST(WavLayoutHandMade, ALyingByteRateIsNotRead)
{
    std::string fmt = fmt_body(1, 1, 8000, 2, 16);
    fmt.replace(8, 4, le32s(1));  // one byte a second: 2,880,000 s by the byte rate
    const std::string file = riff(chunk("fmt ", fmt) + chunk("data", std::string(180 * 16000, '\x11')));
    const AudioLayout l = layout_of(layout_wav, file);
    EXPECT_EQ(l.duration, 180 * kSecond);
    EXPECT_EQ(download_threshold(l), Offset{44 + 960000});
}

// A sample rate of 1 Hz: the file plays for days, but the floor is its sample frames at 8 kHz
// (16-bit mono: 128 kbit/s), so the threshold is a real 8 kHz file's.
TEST(WavLayoutHandMade, ALyingSampleRateIsHeldToTheFloor)
{
    const std::string file = riff(chunk("fmt ", fmt_body(1, 1, 1, 2, 16)) + chunk("data", std::string(180 * 16000, '\x11')));
    const AudioLayout l = layout_of(layout_wav, file);
    EXPECT_EQ(l.duration, Micros{180 * 8000} * kSecond);
    EXPECT_EQ(l.floor_bitrate, 128000u);
    EXPECT_EQ(download_threshold(l), Offset{44 + 960000});
}

TEST(WavLayoutHandMade, DamagedFilesKeepTheInvariants)
{
    expect_robust(layout_wav,
                  riff(chunk("LIST", "INFOabc") + chunk("fmt ", fmt_body(1, 2, 1000, 4, 16)) + chunk("data", ramp(400))),
                  11);
}

// ---- layout_for_type ---------------------------------------------------------------------------

TEST(LayoutForType, ChoosesTheParserByMediaType)
{
    const std::string wav = riff(chunk("fmt ", fmt_body(1, 1, 1000, 2, 16)) + chunk("data", ramp(2000)));
    const AudioLayout expected = layout_of(layout_wav, wav);
    ASSERT_EQ(expected.duration, kSecond);
    for (const char* type : {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/x-pn-wav",
                             "Audio/WAV", "audio/wav; codecs=1"}) {
        EXPECT_EQ(layout_of_type(type, wav), expected) << type;
    }
    const std::string mp3 = cbr_frames(100);
    for (const char* type : {"audio/mpeg", "audio/mp3", "audio/x-mpeg", "AUDIO/MPEG"}) {
        EXPECT_EQ(layout_of_type(type, mp3), (AudioLayout{mp3.size(), 0, mp3.size(), 2400000})) << type;
    }
    const std::string flac = flac_file(1000, 3000, {}, std::string(50, '\x55'));
    for (const char* type : {"audio/flac", "audio/x-flac"}) {
        EXPECT_EQ(layout_of_type(type, flac), (AudioLayout{flac.size(), 42, flac.size(), 3 * kSecond})) << type;
    }
    // The wrong parser for the bytes: the whole file, duration unknown.
    EXPECT_EQ(layout_of_type("audio/ogg", wav), unknown(wav.size()));
    EXPECT_EQ(layout_of_type("audio/flac", mp3), unknown(mp3.size()));
}

TEST(LayoutForType, AnUnknownTypeIsTheWholeFileOfUnknownDuration)
{
    const std::string wav = riff(chunk("fmt ", fmt_body(1, 1, 1000, 2, 16)) + chunk("data", ramp(2000)));
    for (const char* type : {"", "audio/aac", "text/plain", "application/octet-stream", "audio"}) {
        EXPECT_EQ(layout_of_type(type, wav), unknown(wav.size())) << type;
    }
    EXPECT_EQ(layout_of_type("audio/aac", ""), unknown(0));
}

// ---- MP4: hand-made boxes ------------------------------------------------------------------

std::string be_bytes(std::uint64_t v, int n)
{
    std::string out(static_cast<std::size_t>(n), '\0');
    for (int i = n - 1; i >= 0; --i, v >>= 8) {
        out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    }
    return out;
}

std::string box(const char* type, const std::string& payload)
{
    return be_bytes(8 + payload.size(), 4) + type + payload;
}

std::string large_box(const char* type, const std::string& payload)
{
    return be_bytes(1, 4) + type + be_bytes(16 + payload.size(), 8) + payload;
}

// mvhd version 0 or 1 with a timescale and a duration (the rest zero).
std::string mvhd(int version, std::uint32_t timescale, std::uint64_t duration)
{
    std::string p = std::string(1, static_cast<char>(version)) + std::string(3, '\0');
    p += std::string(version == 1 ? 16 : 8, '\0');  // creation, modification
    p += be_bytes(timescale, 4) + be_bytes(duration, version == 1 ? 8 : 4);
    p += std::string(80, '\0');
    return box("mvhd", p);
}

// An stts of (count, delta) runs.
std::string stts(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& runs)
{
    std::string p = be_bytes(0, 4) + be_bytes(runs.size(), 4);
    for (const auto& [count, delta] : runs) {
        p += be_bytes(count, 4) + be_bytes(delta, 4);
    }
    return box("stts", p);
}

// An audio trak (hdlr 'soun') whose mdhd says `timescale` and `declared` ticks and whose
// samples, by `stts_box`, play what they play: the layout reads the latter.
std::string audio_trak(std::uint32_t timescale, const std::string& stts_box, std::uint64_t declared = 0,
                       const char* handler = "soun")
{
    const std::string mdhd = box("mdhd", be_bytes(0, 4) + be_bytes(0, 8) + be_bytes(timescale, 4) +
                                             be_bytes(declared, 4) + be_bytes(0, 4));
    const std::string hdlr = box("hdlr", be_bytes(0, 8) + handler + std::string(13, '\0'));
    const std::string stbl = box("stbl", box("stsd", be_bytes(0, 8)) + stts_box);
    return box("trak", box("tkhd", std::string(84, '\0')) +
                           box("mdia", mdhd + hdlr + box("minf", box("smhd", be_bytes(0, 8)) + stbl)));
}

// A trak of `ticks` AAC-like samples of 1024 ticks (and a shorter last one).
std::string audio_trak(std::uint32_t timescale, std::uint64_t ticks)
{
    std::vector<std::pair<std::uint32_t, std::uint32_t>> runs{{static_cast<std::uint32_t>(ticks / 1024), 1024}};
    if (ticks % 1024 != 0) {
        runs.emplace_back(1, static_cast<std::uint32_t>(ticks % 1024));
    }
    return audio_trak(timescale, stts(runs), ticks);
}

// A moov whose mvhd and audio track agree: `duration` ticks of `timescale`.
std::string moov_of(int version, std::uint32_t timescale, std::uint64_t duration, const std::string& more = "")
{
    return box("moov", more + mvhd(version, timescale, duration) + audio_trak(timescale, duration));
}

const std::string kFtyp = box("ftyp", "M4A " + be_bytes(0, 4) + "M4A isom");

TEST(Mp4Layout, MoovAfterTheAudioAsFfmpegWritesIt)
{
    const std::string audio(120000, '\x21');
    const std::string moov = box("moov", mvhd(0, 44100, 44100ull * 120) + audio_trak(44100, 44100ull * 120) +
                                             box("trak", std::string(500, '\0')));
    const std::string file = kFtyp + box("free", "") + box("mdat", audio) + moov;
    const Offset start = kFtyp.size() + 8 + 8;
    EXPECT_EQ(layout_of(layout_mp4, file), (AudioLayout{file.size(), start, start + audio.size(), 120 * kSecond}));
    // 1000 bytes of audio a second: the moov at the end is header too.
    EXPECT_EQ(download_threshold(layout_of(layout_mp4, file)), Offset{file.size() - audio.size() + 60000});
}

TEST(Mp4Layout, FaststartMoovFirstVersion1Header)
{
    const std::string audio(90000, '\x42');
    const std::string file = kFtyp + moov_of(1, 1000, 90000, box("udta", "x")) + box("mdat", audio);
    EXPECT_EQ(layout_of(layout_mp4, file),
              (AudioLayout{file.size(), file.size() - audio.size(), file.size(), 90 * kSecond}));
}

TEST(Mp4Layout, LargeSizesAndToTheEndBoxes)
{
    const std::string audio(70000, '\x07');
    const std::string large = kFtyp + moov_of(0, 600, 600 * 70) + large_box("mdat", audio);
    EXPECT_EQ(layout_of(layout_mp4, large),
              (AudioLayout{large.size(), large.size() - audio.size(), large.size(), 70 * kSecond}));
    // Size 0: the box runs to the end of the file.
    const std::string open = kFtyp + moov_of(0, 600, 600 * 70) + be_bytes(0, 4) + "mdat" + audio;
    EXPECT_EQ(layout_of(layout_mp4, open),
              (AudioLayout{open.size(), open.size() - audio.size(), open.size(), 70 * kSecond}));
}

TEST(Mp4Layout, TheLargestMdatIsTheAudio)
{
    const std::string file =
        kFtyp + box("mdat", std::string(100, 'a')) + moov_of(0, 10, 100) + box("mdat", std::string(5000, 'b'));
    const Offset start = file.size() - 5000;
    EXPECT_EQ(layout_of(layout_mp4, file), (AudioLayout{file.size(), start, file.size(), 10 * kSecond}));
}

// Only the first moov's children are walked: 1000 moov boxes of 1000 empty boxes each were a
// million reads (one per header) on every first request for the file.
TEST(Mp4Layout, OnlyTheFirstMoovIsWalked)
{
    std::string empties;
    for (int i = 0; i < 1000; ++i) {
        empties += box("free", "");
    }
    const std::string moov = moov_of(0, 1000, 60000, empties);
    std::string file = kFtyp;
    for (int i = 0; i < 1000; ++i) {
        file += moov;
    }
    file += box("mdat", std::string(1000, '\x01'));
    test_tools::CountingSource src(file);
    const AudioLayout l = layout_mp4(src);
    EXPECT_EQ(l.duration, 60 * kSecond);
    EXPECT_EQ(l.audio_start, file.size() - 1000);
    EXPECT_LT(src.bytes_read, Offset{2048 * 32}) << "more than 2048 box headers read";
}

TEST(Mp4Layout, WhatCannotBeTrustedIsTheWholeFileOfUnknownDuration)
{
    const std::string audio(1000, '\x01');
    const std::string moov = moov_of(0, 1000, 60000);
    const std::string good = kFtyp + moov + box("mdat", audio);
    for (const std::string& bad : {
             std::string(),                                                  // empty
             kFtyp + box("mdat", audio),                                     // no moov
             kFtyp + box("moov", box("trak", "")) + box("mdat", audio),      // no mvhd
             kFtyp + box("moov", mvhd(0, 1000, 60000)) + box("mdat", audio),       // no track
             kFtyp + box("moov", mvhd(0, 1000, 60000) + audio_trak(0, 60000)) + box("mdat", audio),  // timescale 0
             kFtyp + box("moov", mvhd(0, 1000, 60000) + audio_trak(1000, stts({}), 60000)) + box("mdat", audio),
             kFtyp + box("moov", mvhd(0, 1000, 60000) + audio_trak(1000, stts({{60, 1000}}), 60000, "text")) +
                 box("mdat", audio),                                          // no audio track
             kFtyp + box("moov", mvhd(0, 1000, 60000) + audio_trak(1000, box("stts", be_bytes(0, 4) + be_bytes(2, 4) +
                                                                                     be_bytes(60, 4) + be_bytes(1000, 4)))) +
                 box("mdat", audio),                                          // stts shorter than its count
             kFtyp + moov + box("mdat", audio).substr(0, 500),               // mdat past the end
             kFtyp + moov + be_bytes(4, 4) + "mdat",                         // size below its header
             std::string("RIFF") + std::string(100, '\0'),
         }) {
        EXPECT_EQ(layout_of(layout_mp4, bad), unknown(bad.size())) << bad.size();
    }
    EXPECT_EQ(layout_of(layout_mp4, good).duration, 60 * kSecond);
    // Every prefix of a good file: no read past it, no crash, the invariants.
    for (std::size_t n = 0; n <= good.size(); n += 7) {
        expect_layout_invariants(layout_of(layout_mp4, good.substr(0, n)), n);
    }
}

// Issue 33: an mvhd (and an mdhd) that declare 0xFFFFFFFE ticks made a download of the header
// and a byte (822 of 4,917 bytes). Players time the samples by stts: so does the layout.
TEST(Mp4Layout, TheDurationIsTheSampleTablesNotTheDeclaredOne)
{
    const std::string audio(120000, '\x21');
    const std::string lying = box("moov", mvhd(0, 44100, 0xFFFFFFFEu) + audio_trak(44100, stts({{5167, 1024}, {1, 992}}),
                                                                                  0xFFFFFFFEu));
    const std::string file = kFtyp + lying + box("mdat", audio);
    const AudioLayout l = layout_of(layout_mp4, file);
    EXPECT_EQ(l.duration, 120 * kSecond);
    EXPECT_EQ(download_threshold(l), Offset{file.size() - audio.size() + 60000});
    // The same lies over 3 s of samples: a download is the whole file.
    const std::string short_file =
        kFtyp + box("moov", mvhd(1, 1000, 0xFFFFFFFEu) + audio_trak(1000, stts({{3, 1000}}), 0xFFFFFFFEu)) +
        box("mdat", std::string(4000, 'a'));
    EXPECT_EQ(layout_of(layout_mp4, short_file).duration, 3 * kSecond);
    EXPECT_EQ(download_threshold(layout_of(layout_mp4, short_file)), short_file.size());
    // A shorter mvhd is believed: it leaves out the encoder's priming samples, as players do.
    const std::string primed = kFtyp + box("moov", mvhd(0, 44100, 44100 * 120) +
                                                       audio_trak(44100, stts({{5168, 1024}, {1, 992}}))) +
                               box("mdat", audio);
    EXPECT_EQ(layout_of(layout_mp4, primed).duration, 120 * kSecond);
    EXPECT_EQ(download_threshold(layout_of(layout_mp4, primed)), Offset{primed.size() - audio.size() + 60000});
    // The first audio track counts; a chapter track's text samples do not.
    const std::string text_first = kFtyp + box("moov", mvhd(0, 1000, 90000) +
                                                           audio_trak(1000, stts({{900, 1000}}), 0, "text") +
                                                           audio_trak(1000, 90000)) +
                                   box("mdat", std::string(9000, 'z'));
    EXPECT_EQ(layout_of(layout_mp4, text_first).duration, 90 * kSecond);
}

// Sample deltas that claim 136 years (or a timescale of 1 Hz): what decoders would show, but
// no header can make a minute of audio fewer bytes than 60 s at 8 kbit/s (60,000 bytes).
TEST(Mp4Layout, LyingSampleTablesAreHeldToTheFloor)
{
    const std::string audio(200000, '\x21');
    const std::string file = kFtyp + box("moov", mvhd(0, 1, 0xFFFFFFFEu) +
                                                     audio_trak(1, stts({{1, 0xFFFFFFFFu}}), 0xFFFFFFFEu)) +
                             box("mdat", audio);
    const AudioLayout l = layout_of(layout_mp4, file);
    EXPECT_EQ(l.duration, Micros{0xFFFFFFFEu} * kSecond);  // mvhd's, a tick shorter
    EXPECT_EQ(l.floor_bitrate, 8000u);
    EXPECT_EQ(download_threshold(l), Offset{file.size() - audio.size() + 60000});
    // Less audio than the floor: the whole file.
    const std::string small = kFtyp + box("moov", mvhd(0, 1, 0xFFFFFFFEu) + audio_trak(1, stts({{1, 0xFFFFFFFFu}}))) +
                              box("mdat", std::string(4000, 'a'));
    EXPECT_EQ(download_threshold(layout_of(layout_mp4, small)), small.size());
}

// stts's entries are steps of the request's budget: past it, the duration is unknown.
TEST(Mp4Layout, SampleTablesPastTheBudgetAreUnknown)
{
    const std::string file = kFtyp + box("moov", mvhd(0, 1000, 120000) + audio_trak(1000, stts(std::vector<std::pair<std::uint32_t, std::uint32_t>>(120, {1, 1000})))) +
                             box("mdat", std::string(9000, 'z'));
    MemorySource src(file);
    src.set_budget(ParseBudget{1000, 1 << 20, 119});
    EXPECT_EQ(layout_mp4(src).duration, 0);
    MemorySource enough(file);
    enough.set_budget(ParseBudget{1000, 1 << 20, 120});
    EXPECT_EQ(layout_mp4(enough).duration, 120 * kSecond);
}

TEST(LayoutForType, Mp4TypesHaveALayoutAndACutter)
{
    const std::string file = kFtyp + moov_of(0, 1000, 90000) + box("mdat", std::string(9000, 'z'));
    for (const char* type : {"audio/mp4", "audio/x-m4a", "audio/x-m4b", "video/mp4"}) {
        EXPECT_EQ(layout_of_type(type, file).duration, 90 * kSecond) << type;
        EXPECT_TRUE(can_cut_type(type)) << type;
    }
}

}  // namespace
}  // namespace audio_stream
