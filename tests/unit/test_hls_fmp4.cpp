// hls/fmp4: the init segment and fragment headers of HLS's fragmented MP4, read back with the
// tests' own box reader (mp4_box_tools.h): every container tiles its payload with its children,
// the fields say what was asked, the trun's data offset lands on the first sample byte, and
// each sample entry carries its codec's configuration as its encapsulation spec lays it out.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/formats/toolbox.h"
#include "src/hls/fmp4.h"
#include "tests/unit/mp4_box_tools.h"

namespace audio_stream {
namespace {

using namespace mp4_test;
using hls::Sample;

// Where each container's children start, from its payload: a full box's version and flags
// and an entry count come first in stsd and dref; a sample entry's fields (28 bytes) in mp4a.
const std::map<std::string, std::size_t> kContainers = {
    {"moov", 0}, {"trak", 0}, {"mdia", 0}, {"minf", 0}, {"dinf", 0}, {"stbl", 0}, {"mvex", 0},
    {"moof", 0}, {"traf", 0}, {"stsd", 8}, {"dref", 8}, {"mp4a", 28}, {"fLaC", 28}, {"Opus", 28},
};

// Every byte of [from, to) lies in exactly one box, and so on down every container.
void expect_tiled(const std::string& s, std::size_t from, std::size_t to, const std::string& where)
{
    std::size_t at = from;
    for (const Box& b : boxes(s, from, to)) {
        EXPECT_EQ(b.offset, at) << where;
        const auto c = kContainers.find(b.type);
        if (c != kContainers.end()) {
            expect_tiled(s, b.payload + c->second, b.end, where + "/" + b.type);
        }
        at = b.end;
    }
    EXPECT_EQ(at, to) << where << ": boxes do not add up to the space they are in";
}

std::uint64_t u32(const std::string& s, std::size_t at) { return be(s, at, 4); }

Box must_find(const std::string& s, const std::vector<std::string>& path, std::optional<Box> in = std::nullopt)
{
    const auto b = find_box(s, path, in);
    EXPECT_TRUE(b.has_value()) << path.back();
    return b.value_or(Box{});
}

// STREAMINFO's block, as dfLa carries it: any track's entry for the init tests.
const std::string kStreamInfoBlock = std::string("\x80\x00\x00\x22", 4) + std::string(34, '\0');

hls::TrackConfig track_of(std::uint64_t duration)
{
    hls::TrackConfig t;
    t.timescale = 44100;
    t.channels = 2;
    t.sample_rate = 44100;
    t.sample_entry = hls::flac_sample_entry(2, 44100, 16, kStreamInfoBlock);
    t.duration = duration;
    return t;
}

TEST(HlsInit, IsFtypThenMoovEachContainerTiled)
{
    const std::string s = hls::init_segment(track_of(882000));
    const auto top = top_boxes(s);
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].type, "ftyp");
    EXPECT_EQ(top[1].type, "moov");
    expect_tiled(s, 0, s.size(), "");
    EXPECT_EQ(s.substr(top[0].payload, 4), "iso6");
    EXPECT_NE(s.substr(top[0].payload + 8).find("cmfc"), std::string::npos);
}

TEST(HlsInit, TrackHeadersSayOneAudioTrackOfTheDuration)
{
    const std::string s = hls::init_segment(track_of(882000));
    EXPECT_EQ(movie_header(s).timescale, 44100u);
    EXPECT_EQ(movie_header(s).duration, 882000u);
    const auto trak = tracks(s);
    ASSERT_EQ(trak.size(), 1u);
    const Tables t = tables(s, trak[0]);
    EXPECT_EQ(t.handler, "soun");
    EXPECT_EQ(t.timescale, 44100u);
    EXPECT_EQ(t.media_duration, 882000u);
    EXPECT_EQ(t.track_duration, 882000u);
    // Fragmented: the tables are there, and empty.
    EXPECT_TRUE(t.deltas.empty());
    EXPECT_TRUE(t.sizes.empty());
    EXPECT_TRUE(t.chunks.empty());
    const Box tkhd = must_find(s, {"tkhd"}, trak[0]);
    EXPECT_EQ(u32(s, tkhd.payload + 12), 1u);           // track_ID
    EXPECT_EQ(be(s, tkhd.payload + 36, 2), 0x0100u);    // volume 1.0
    // dref: version and flags, an entry count of 1, one 'url ' whose flag 1 says "this file".
    const Box dref = must_find(s, {"mdia", "minf", "dinf", "dref"}, trak[0]);
    EXPECT_EQ(u32(s, dref.payload + 4), 1u);
    const auto urls = boxes(s, dref.payload + 8, dref.end);
    ASSERT_EQ(urls.size(), 1u);
    EXPECT_EQ(urls[0].type, "url ");
    EXPECT_EQ(u32(s, urls[0].payload), 1u);
}

TEST(HlsInit, StsdHoldsTheSampleEntryAsGiven)
{
    const hls::TrackConfig track = track_of(0);
    const std::string s = hls::init_segment(track);
    const Box stsd = must_find(s, {"moov", "trak", "mdia", "minf", "stbl", "stsd"});
    EXPECT_EQ(u32(s, stsd.payload + 4), 1u);
    EXPECT_EQ(s.substr(stsd.payload + 8, stsd.end - stsd.payload - 8), track.sample_entry);
}

TEST(HlsInit, TrexNamesTrackOneAndSampleEntryOne)
{
    const std::string s = hls::init_segment(track_of(0));
    const Box trex = must_find(s, {"moov", "mvex", "trex"});
    EXPECT_EQ(trex.end - trex.payload, 24u);
    EXPECT_EQ(u32(s, trex.payload + 4), 1u);
    EXPECT_EQ(u32(s, trex.payload + 8), 1u);
}

TEST(HlsInit, DurationPast32BitsTakesVersion1)
{
    const std::uint64_t d = (std::uint64_t{1} << 33) + 5;
    const std::string s = hls::init_segment(track_of(d));
    expect_tiled(s, 0, s.size(), "");
    EXPECT_EQ(movie_header(s).duration, d);
    const Tables t = tables(s, tracks(s).at(0));
    EXPECT_EQ(t.media_duration, d);
    EXPECT_EQ(t.track_duration, d);
    EXPECT_EQ(t.timescale, 44100u);
}

// What a fragment header says, read back.
struct Fragment {
    std::uint32_t sequence = 0;
    std::uint32_t tfhd_flags = 0;
    std::uint32_t track = 0;
    std::uint64_t decode_time = 0;
    std::uint32_t trun_flags = 0;
    std::uint64_t data_offset = 0;
    std::vector<Sample> samples;
    std::uint64_t mdat_size = 0;   // as its header says
    std::size_t header_end = 0;    // where the mdat header ends
};

Fragment read_fragment(const std::string& s)
{
    Fragment f;
    const Box moof = must_find(s, {"moof"});
    EXPECT_EQ(moof.offset, 0u);
    expect_tiled(s, 0, moof.end, "");
    f.sequence = static_cast<std::uint32_t>(u32(s, must_find(s, {"mfhd"}, moof).payload + 4));
    const Box tfhd = must_find(s, {"traf", "tfhd"}, moof);
    f.tfhd_flags = static_cast<std::uint32_t>(u32(s, tfhd.payload) & 0xFFFFFF);
    f.track = static_cast<std::uint32_t>(u32(s, tfhd.payload + 4));
    const Box tfdt = must_find(s, {"traf", "tfdt"}, moof);
    EXPECT_EQ(s[tfdt.payload], 1) << "tfdt version";
    f.decode_time = be(s, tfdt.payload + 4, 8);
    const Box trun = must_find(s, {"traf", "trun"}, moof);
    f.trun_flags = static_cast<std::uint32_t>(u32(s, trun.payload) & 0xFFFFFF);
    const std::size_t n = u32(s, trun.payload + 4);
    f.data_offset = u32(s, trun.payload + 8);
    for (std::size_t i = 0; i < n; ++i) {
        f.samples.push_back({static_cast<std::uint32_t>(u32(s, trun.payload + 16 + 8 * i)),
                             static_cast<std::uint32_t>(u32(s, trun.payload + 12 + 8 * i))});
    }
    EXPECT_EQ(trun.end, trun.payload + 12 + 8 * n);
    EXPECT_EQ(s.substr(moof.end + 4, 4), "mdat");
    f.mdat_size = u32(s, moof.end);
    f.header_end = moof.end + 8;
    if (f.mdat_size == 1) {
        f.mdat_size = be(s, moof.end + 8, 8);
        f.header_end += 8;
    }
    EXPECT_EQ(f.header_end, s.size()) << "the header ends with the mdat's";
    return f;
}

TEST(HlsFragment, SaysSequenceTimeAndEverySample)
{
    const std::vector<Sample> samples = {{417, 1152}, {418, 1152}, {417, 1152}, {300, 1000}};
    const Fragment f = read_fragment(hls::fragment_header(7, 1234567890123, samples));
    EXPECT_EQ(f.sequence, 7u);
    EXPECT_EQ(f.track, 1u);
    EXPECT_EQ(f.tfhd_flags, 0x020000u) << "default-base-is-moof";
    EXPECT_EQ(f.decode_time, 1234567890123u);
    EXPECT_EQ(f.trun_flags, 0x000301u) << "data offset, sample durations, sample sizes";
    ASSERT_EQ(f.samples.size(), samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
        EXPECT_EQ(f.samples[i].size, samples[i].size);
        EXPECT_EQ(f.samples[i].duration, samples[i].duration);
    }
}

TEST(HlsFragment, DataOffsetLandsRightAfterTheMdatHeader)
{
    const Fragment f = read_fragment(hls::fragment_header(1, 0, {{100, 1024}, {200, 1024}}));
    EXPECT_EQ(f.data_offset, f.header_end);
    EXPECT_EQ(f.mdat_size, 8u + 300u);
}

TEST(HlsFragment, PayloadPast4GiBTakesA64BitMdatSize)
{
    const std::vector<Sample> samples = {{0xFFFFFFF0u, 1}, {0x20u, 1}};
    const Fragment f = read_fragment(hls::fragment_header(2, 0, samples));
    EXPECT_EQ(f.mdat_size, 16u + 0x100000010u);
    EXPECT_EQ(f.data_offset, f.header_end);
}

TEST(HlsFragment, NoSamplesIsAnEmptyMdat)
{
    const Fragment f = read_fragment(hls::fragment_header(3, 0, {}));
    EXPECT_TRUE(f.samples.empty());
    EXPECT_EQ(f.mdat_size, 8u);
    EXPECT_EQ(f.data_offset, f.header_end);
}

// ---- sample entries ----------------------------------------------------------------------

// AudioSampleEntry's fields (ISO/IEC 14496-12 §12.2.3) and its one child box.
struct Entry {
    std::string type;
    std::uint16_t reference = 0;
    std::uint16_t channels = 0;
    std::uint16_t sample_size = 0;
    std::uint32_t rate = 0;  // 16.16
    Box child;
};

Entry read_entry(const std::string& s)
{
    expect_tiled(s, 0, s.size(), "");
    const auto top = top_boxes(s);
    EXPECT_EQ(top.size(), 1u);
    const Box& b = top.at(0);
    Entry e{b.type, static_cast<std::uint16_t>(be(s, b.payload + 6, 2)),
            static_cast<std::uint16_t>(be(s, b.payload + 16, 2)), static_cast<std::uint16_t>(be(s, b.payload + 18, 2)),
            static_cast<std::uint32_t>(u32(s, b.payload + 24)), Box{}};
    const auto kids = boxes(s, b.payload + 28, b.end);
    EXPECT_EQ(kids.size(), 1u);
    e.child = kids.at(0);
    return e;
}

// RFC 9639 §8.1 metadata block: last-block bit, type, 24-bit length, body.
std::string flac_block(unsigned type, const std::string& body, bool last)
{
    return std::string(1, static_cast<char>(type | (last ? 0x80 : 0))) + bes(body.size(), 3) + body;
}

TEST(HlsSampleEntry, FlacHasDfLaWithTheLastBlockMarkedOnly)
{
    const std::string info(34, '\x11');
    const std::string comment = "\x04\x00\x00\x00" "abcd";
    // Given with the flags wrong both ways: STREAMINFO marked last, the comment not.
    const std::string given = flac_block(0, info, true) + flac_block(4, comment, false);
    const std::string s = hls::flac_sample_entry(2, 96000, 24, given);
    const Entry e = read_entry(s);
    EXPECT_EQ(e.type, "fLaC");
    EXPECT_EQ(e.channels, 2u);
    EXPECT_EQ(e.sample_size, 24u);
    EXPECT_EQ(e.rate, 48000u << 16) << "96000 does not fit 16.16: halved";
    ASSERT_EQ(e.child.type, "dfLa");
    EXPECT_EQ(u32(s, e.child.payload), 0u) << "version 0, flags 0";
    EXPECT_EQ(s.substr(e.child.payload + 4), flac_block(0, info, false) + flac_block(4, comment, true));
}

// "Encapsulation of FLAC in ISO-BMFF" §3.3.1: a rate past 65535 is halved until it fits, and
// is 65535 when halving stops dividing it evenly.
TEST(HlsSampleEntry, RatePast16BitsIsItsGreatestHalvingThatFits)
{
    const std::string info(34, '\0');
    const std::pair<std::uint32_t, std::uint32_t> cases[] = {
        {44100, 44100}, {65535, 65535}, {88200, 44100}, {96000, 48000}, {192000, 48000}, {352800, 44100},
        {65537, 65535}, {131074, 65535},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(read_entry(hls::flac_sample_entry(2, c.first, 16, flac_block(0, info, true))).rate, c.second << 16)
            << c.first;
    }
}

TEST(HlsSampleEntry, FlacRefusesBlocksThatAreNotStreamInfoFirstOrRunPastTheEnd)
{
    const std::string info(34, '\0');
    EXPECT_THROW(hls::flac_sample_entry(2, 44100, 16, flac_block(4, "abcd", true)), Refusal);
    EXPECT_THROW(hls::flac_sample_entry(2, 44100, 16, flac_block(0, info, true).substr(0, 20)), Refusal);
    EXPECT_THROW(hls::flac_sample_entry(2, 44100, 16, ""), Refusal);
}

TEST(HlsSampleEntry, OpusHasDOpsBigEndianAt48k)
{
    const std::string s = hls::opus_sample_entry(2, 312, 44100, -256, 0, "");
    const Entry e = read_entry(s);
    EXPECT_EQ(e.type, "Opus");
    EXPECT_EQ(e.channels, 2u);
    EXPECT_EQ(e.sample_size, 16u);
    EXPECT_EQ(e.rate, 48000u << 16);
    ASSERT_EQ(e.child.type, "dOps");
    const std::size_t p = e.child.payload;
    EXPECT_EQ(e.child.end - p, 11u);
    EXPECT_EQ(s[p], 0) << "Version";
    EXPECT_EQ(s[p + 1], 2) << "OutputChannelCount";
    EXPECT_EQ(be(s, p + 2, 2), 312u);
    EXPECT_EQ(u32(s, p + 4), 44100u);
    EXPECT_EQ(static_cast<std::int16_t>(be(s, p + 8, 2)), -256);
    EXPECT_EQ(s[p + 10], 0) << "ChannelMappingFamily";
}

TEST(HlsSampleEntry, OpusFamily1CarriesItsMappingTable)
{
    const std::string table("\x04\x02\x00\x04\x01\x02\x03\x05", 8);  // 4 streams, 2 coupled, 6 channels
    const std::string s = hls::opus_sample_entry(6, 312, 48000, 0, 1, table);
    const Entry e = read_entry(s);
    EXPECT_EQ(e.channels, 6u);
    EXPECT_EQ(s.substr(e.child.payload + 10), std::string(1, '\x01') + table);
}

TEST(HlsSampleEntry, OpusRefusesAMappingTableThatDoesNotMatchTheChannels)
{
    EXPECT_THROW(hls::opus_sample_entry(2, 0, 48000, 0, 0, "\x01\x01"), Refusal);
    EXPECT_THROW(hls::opus_sample_entry(3, 0, 48000, 0, 0, ""), Refusal);
    EXPECT_THROW(hls::opus_sample_entry(6, 0, 48000, 0, 1, "\x04\x02"), Refusal);
}

}  // namespace
}  // namespace audio_stream
