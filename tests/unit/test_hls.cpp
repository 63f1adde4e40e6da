// HLS from a track (src/hls/): resource names with one spelling each, segments of whole packets
// nearest the target, playlists by RFC 8216's rules, the packed-audio timestamp tag; and the
// MP3 reader's packets (formats/mp3/packets.cpp): every frame once, in order, each run one
// file extent that ffmpeg's own frame walk agrees with.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "src/formats/dispatch.h"
#include "src/formats/formats.h"
#include "src/hls/names.h"
#include "src/hls/playlist.h"
#include "src/hls/segment.h"
#include "tests/unit/flac_tools.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/mp4_edit_tools.h"
#include "tests/unit/mp4_tools.h"

namespace audio_stream {
namespace {

using hls::Resource;
using hls::SegmentForm;

TEST(HlsNames, EachResourceHasOneSpelling)
{
    EXPECT_EQ(hls::parse_name("/index.m3u8", SegmentForm::Packed, "mp3")->resource, Resource::Media);
    EXPECT_EQ(hls::parse_name("/master.m3u8", SegmentForm::Packed, "mp3")->resource, Resource::Master);
    EXPECT_EQ(hls::parse_name("/init.mp4", SegmentForm::Fmp4, "m4s")->resource, Resource::Init);
    const auto seg = hls::parse_name("/seg-17.mp3", SegmentForm::Packed, "mp3");
    ASSERT_TRUE(seg);
    EXPECT_EQ(seg->resource, Resource::Segment);
    EXPECT_EQ(seg->segment, 17u);
    EXPECT_EQ(hls::parse_name("/seg-0.mp3", SegmentForm::Packed, "mp3")->segment, 0u);
    EXPECT_EQ(hls::parse_name("/seg-999999999.mp3", SegmentForm::Packed, "mp3")->segment, 999999999u);
    for (const char* bad : {"", "/", "index.m3u8", "/INDEX.m3u8", "/index.m3u8/", "/seg-01.mp3", "/seg-.mp3",
                            "/seg--1.mp3", "/seg-+1.mp3", "/seg-1.m4s", "/seg-1", "/seg-1.mp3x", "/seg-1000000000.mp3",
                            "/seg-1.2.mp3", "/init.mp4", "/a/index.m3u8", "/seg-１.mp3"}) {
        EXPECT_FALSE(hls::parse_name(bad, SegmentForm::Packed, "mp3")) << bad;
    }
    EXPECT_EQ(hls::segment_name(42, "mp3"), "seg-42.mp3");
}

AudioTrack mp3_track(std::uint64_t frames)
{
    AudioTrack t;
    t.status = Cut::Status::Ok;
    t.codec = AudioCodec::Mp3;
    t.rate = 44100;
    t.channels = 2;
    t.packet_samples = 1152;
    t.packets = frames;
    t.total = frames * 1152;
    t.codecs = "mp4a.40.34";
    t.audio_bytes = frames * 418;
    t.peak_bitrate = 128000;
    return t;
}

TEST(HlsSegmenting, WholePacketsNearestTheTarget)
{
    const AudioTrack t = mp3_track(2298);  // 60.03 s
    const hls::Segmenting s = hls::segmenting(t, hls::kDefaultSegmentTarget);
    EXPECT_EQ(s.per_segment, 230u);  // 229.7 frames are 6 s
    EXPECT_EQ(s.count, 10u);
    EXPECT_EQ(s.packets_in(9, t), 2298u - 9 * 230);
    EXPECT_EQ(s.packets_in(10, t), 0u);
    EXPECT_EQ(hls::segmenting(t, 1).per_segment, 1u) << "at least one packet";
    // A remainder under a quarter of a segment joins the last one: no segment of a few ms.
    const AudioTrack longer = mp3_track(2300 + 57);
    const hls::Segmenting joined = hls::segmenting(longer, hls::kDefaultSegmentTarget);
    EXPECT_EQ(joined.count, 10u);
    EXPECT_EQ(joined.packets_in(9, longer), 230u + 57);
    EXPECT_EQ(joined.ticks_in(9, longer), (230u + 57) * 1152);
    EXPECT_EQ(hls::segmenting(mp3_track(2300 + 58), hls::kDefaultSegmentTarget).count, 11u);
    EXPECT_EQ(hls::segmenting(mp3_track(0), hls::kDefaultSegmentTarget).count, 0u);
}

TEST(HlsPlaylist, SecondsAreExactToTheMicrosecond)
{
    EXPECT_EQ(hls::seconds_text(230 * 1152, 44100), "6.008163");
    EXPECT_EQ(hls::seconds_text(44100, 44100), "1.000000");
    EXPECT_EQ(hls::seconds_text(1, 48000), "0.000021");
    EXPECT_EQ(hls::seconds_text(0, 48000), "0.000000");
}

TEST(HlsPlaylist, MediaPlaylistFollowsRfc8216)
{
    const AudioTrack t = mp3_track(2298);
    const hls::Segmenting s = hls::segmenting(t, hls::kDefaultSegmentTarget);
    const std::string text = hls::media_playlist(t, s, hls::Variant{SegmentForm::Packed, "mp3"});
    EXPECT_EQ(text.rfind("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n", 0), 0u) << text;
    EXPECT_NE(text.find("#EXT-X-PLAYLIST-TYPE:VOD\n"), std::string::npos);
    EXPECT_EQ(text.find("#EXT-X-MAP"), std::string::npos) << "packed audio has no init segment";
    EXPECT_NE(text.find("#EXTINF:6.008163,\nseg-0.mp3\n"), std::string::npos);
    EXPECT_NE(text.find("#EXTINF:" + hls::seconds_text(228 * 1152, 44100) + ",\nseg-9.mp3\n#EXT-X-ENDLIST\n"),
              std::string::npos)
        << text;
    const std::string fmp4 = hls::media_playlist(t, s, hls::Variant{SegmentForm::Fmp4, "m4s"});
    EXPECT_NE(fmp4.find("#EXT-X-VERSION:6\n"), std::string::npos) << "EXT-X-MAP needs version 6";
    EXPECT_NE(fmp4.find("#EXT-X-MAP:URI=\"init.mp4\"\n"), std::string::npos);
}

TEST(HlsPlaylist, TargetDurationIsTheRoundedLongestSegment)
{
    AudioTrack t = mp3_track(1000);
    // 6.5 s segments round to 7; 6.49 s ones to 6 (RFC 8216 §4.3.3.1).
    t.packet_samples = 44100 * 13 / 2 / 10;
    t.total = t.packets * t.packet_samples;
    EXPECT_NE(hls::media_playlist(t, hls::Segmenting{10, 100}, {}).find("#EXT-X-TARGETDURATION:7\n"),
              std::string::npos);
    t.packet_samples = 44100 * 649 / 100 / 10;
    t.total = t.packets * t.packet_samples;
    EXPECT_NE(hls::media_playlist(t, hls::Segmenting{10, 100}, {}).find("#EXT-X-TARGETDURATION:6\n"),
              std::string::npos);
}

TEST(HlsPlaylist, MasterNamesTheVariantWithItsBandwidth)
{
    const AudioTrack t = mp3_track(2298);
    const hls::Segmenting s = hls::segmenting(t, hls::kDefaultSegmentTarget);
    const std::string text = hls::master_playlist(t, s, hls::Variant{SegmentForm::Packed, "mp3"});
    // 418 bytes a frame at 38.28 frames a second, and the 73-byte tag each segment: over the
    // shortest (the last, 228 frames) for the peak, over the average segment for the average.
    const std::uint64_t average = 418 * 8 * 44100 / 1152;
    const std::uint64_t peak_tag = (73 * 8 * 44100 + 228 * 1152 - 1) / (228 * 1152);
    const std::uint64_t average_tag = (73 * 8 * 44100 + 2298 * 1152 / 10 - 1) / (2298 * 1152 / 10);
    EXPECT_EQ(text, "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=" +
                        std::to_string(average + peak_tag) + ",AVERAGE-BANDWIDTH=" +
                        std::to_string(average + average_tag) +
                        ",CODECS=\"mp4a.40.34\"\nindex.m3u8\n");
}

TEST(HlsSegment, TimestampTagIsId3v24WithOnePrivFrame)
{
    EXPECT_EQ(hls::timestamp_90k(44100, 44100), 90000u);
    EXPECT_EQ(hls::timestamp_90k(std::uint64_t{48000} * 100'000'000, 48000), 9'000'000'000'000ull % (1ull << 33))
        << "33 bits";
    const std::string tag = hls::timestamp_tag(0x123456789ull);
    ASSERT_EQ(tag.size(), 73u);
    EXPECT_EQ(tag.substr(0, 5), std::string("ID3\x04\x00", 5));
    EXPECT_EQ(tag.substr(6, 4), std::string("\x00\x00\x00\x3F", 4)) << "63 bytes after the header, synchsafe";
    EXPECT_EQ(tag.substr(10, 4), "PRIV");
    EXPECT_EQ(tag.substr(14, 4), std::string("\x00\x00\x00\x35", 4));
    EXPECT_EQ(tag.substr(20, 45), std::string("com.apple.streaming.transportStreamTimestamp\0", 45));
    EXPECT_EQ(tag.substr(65), std::string("\x00\x00\x00\x01\x23\x45\x67\x89", 8));
}

TEST(HlsSegment, PackedSegmentIsTheTagThenTheFrames)
{
    PacketRun run;
    run.status = Cut::Status::Ok;
    run.data = {FileExtent{1000, 500}, FileExtent{1600, 400}};
    run.sizes = {500, 400};
    const Representation rep = hls::packed_segment(1152 * 230, 44100, run);
    ASSERT_EQ(rep.extents.size(), 3u);
    EXPECT_EQ(std::get<MemoryBlock>(rep.extents[0]).bytes, hls::timestamp_tag(hls::timestamp_90k(1152 * 230, 44100)));
    EXPECT_EQ(std::get<FileExtent>(rep.extents[1]), (FileExtent{1000, 500}));
    EXPECT_EQ(rep.length, 73u + 900u);
}

// ffprobe's packets of the first audio stream of `bytes`: where each lies in the file.
std::vector<FileExtent> probe_packets(const std::string& bytes, const char* suffix)
{
    const std::string path = ::testing::TempDir() + "hls_packets" + suffix;
    test_tools::spit(path, bytes);
    const test_tools::Command c = test_tools::run("ffprobe -v error -select_streams a:0 -show_entries packet=pos,size "
                                                  "-of compact=p=0:nk=0 '" + path + "'");
    std::vector<FileExtent> out;
    std::istringstream lines(c.output);
    for (std::string line; std::getline(lines, line);) {
        unsigned long long size = 0, pos = 0;
        if (std::sscanf(line.c_str(), "size=%llu|pos=%llu", &size, &pos) == 2) {
            out.push_back(FileExtent{pos, size});
        }
    }
    return out;
}

// The reader's packets, segment by segment, are ffprobe's, every one once and in order; the
// track's duration is the file's.
void expect_every_packet_once(const std::string& bytes, std::string_view type, const char* suffix, double duration)
{
    MemorySource src(bytes);
    IndexSource none;
    const auto track = track_for_type(type, src, none);
    ASSERT_TRUE(track);
    ASSERT_EQ(track->status, Cut::Status::Ok) << track->detail;
    EXPECT_NEAR(static_cast<double>(track->samples()) / track->rate, duration, 0.08);
    const std::vector<FileExtent> probed = probe_packets(bytes, suffix);
    ASSERT_EQ(probed.size(), track->packets);
    const hls::Segmenting seg = hls::segmenting(*track, hls::kDefaultSegmentTarget);
    std::size_t k = 0;
    for (std::uint64_t n = 0; n < seg.count; ++n) {
        MemorySource again(bytes);
        const PacketRun run = packets_for_type(type, again, none, seg.first_packet(n), seg.packets_in(n, *track));
        ASSERT_EQ(run.status, Cut::Status::Ok) << run.detail;
        ASSERT_EQ(run.sizes.size(), seg.packets_in(n, *track));
        Extents expected;
        for (const auto size : run.sizes) {
            ASSERT_LT(k, probed.size());
            EXPECT_EQ(size, probed[k].length) << "packet " << k;
            append_file(expected, probed[k].offset, probed[k].length);
            ++k;
        }
        EXPECT_EQ(run.data, expected) << "segment " << n;
    }
    EXPECT_EQ(k, probed.size());
}

class HlsMp3Packets : public ::testing::TestWithParam<mp3_test::Source> {};

TEST_P(HlsMp3Packets, AreFfprobesFrames)
{
    const mp3_test::Fixture& f = mp3_test::Mp3Files::file(GetParam());
    ASSERT_EQ(f.errors, "");
    expect_every_packet_once(f.bytes, "audio/mpeg", ".mp3", f.duration);
}

INSTANTIATE_TEST_SUITE_P(Sources, HlsMp3Packets, ::testing::ValuesIn(mp3_test::kSources),
                         [](const auto& info) { return std::string(info.param.name); });

class HlsFlacPackets : public ::testing::TestWithParam<flac_test::Source> {};

TEST_P(HlsFlacPackets, AreFfprobesFrames)
{
    const auto& f = flac_test::FlacFiles::file(GetParam());
    ASSERT_EQ(f.errors, "");
    if (std::string(GetParam().name).find("Variable") != std::string::npos) {
        // Frames of more than one duration: no packets of one duration (refused, a 404).
        MemorySource src(f.bytes);
        IndexSource none;
        EXPECT_EQ(track_for_type("audio/flac", src, none)->status, Cut::Status::Unsupported);
        return;
    }
    expect_every_packet_once(f.bytes, "audio/flac", ".flac", 20.0);
}

INSTANTIATE_TEST_SUITE_P(Sources, HlsFlacPackets, ::testing::ValuesIn(flac_test::kSources),
                         [](const auto& info) { return std::string(info.param.name); });

class HlsMp4Packets : public ::testing::TestWithParam<mp4_test::Source> {};

TEST_P(HlsMp4Packets, AreFfprobesSamples)
{
    const mp4_test::Fixture& f = mp4_test::Mp4Files::file(GetParam());
    ASSERT_EQ(f.errors, "");
    expect_every_packet_once(f.bytes, "audio/mp4", ".m4a", f.duration);
}

INSTANTIATE_TEST_SUITE_P(Sources, HlsMp4Packets, ::testing::ValuesIn(mp4_test::kSources),
                         [](const auto& info) { return std::string(info.param.name); });

// A few hundred bytes of sample tables may claim 2^32 one-byte samples (stts of one run, one
// chunk of them all, a fixed stsz): refused at once, not counted one by one into a playlist of
// millions of segments.
TEST(HlsMp4Packets, TablesThatClaimMoreSamplesThanBytesAreRefused)
{
    const mp4_test::Fixture& f = mp4_test::Mp4Files::file(mp4_test::kSources[0]);
    ASSERT_EQ(f.errors, "");
    using namespace mp4_test;
    std::string s = f.bytes;
    const std::uint64_t n = 0xFFFFFFFF;
    const auto replace = [&](const char* type, const std::string& with) {
        const Box stbl = *find_box(s, {"moov", "trak", "mdia", "minf", "stbl"});
        s = replace_box(s, *find_box(s, {type}, stbl), with);
    };
    replace("stts", full_box("stts", 0, bes(1, 4) + bes(n, 4) + bes(1024, 4)));
    replace("stsc", full_box("stsc", 0, bes(1, 4) + bes(1, 4) + bes(n, 4) + bes(1, 4)));
    replace("stsz", full_box("stsz", 0, bes(1, 4) + bes(n, 4)));
    replace("stco", full_box("stco", 0, bes(1, 4) + bes(8, 4)));
    MemorySource src(s);
    IndexSource none;
    const auto track = track_for_type("audio/mp4", src, none);
    ASSERT_TRUE(track);
    EXPECT_EQ(track->status, Cut::Status::Malformed) << track->detail;
    EXPECT_NE(track->detail.find("more samples than the file has bytes"), std::string::npos) << track->detail;
}

TEST(HlsMp3Packets, NoPacketsFromWhatIsNotMp3)
{
    const std::string junk(5000, 'x');
    MemorySource src(junk);
    IndexSource none;
    const auto track = track_for_type("audio/mpeg", src, none);
    ASSERT_TRUE(track);
    EXPECT_EQ(track->status, Cut::Status::Malformed);
    EXPECT_FALSE(track_for_type("audio/x-wav", src, none)) << "no packet reader for WAV";
}

}  // namespace
}  // namespace audio_stream
