// The codec and stream layer of Ogg cuts (codec.h, timing.h): chained, multiplexed streams and
// other codecs are refused with their detail, and where each packet of a page ends (timing.h) on
// hand-made streams of known packet durations.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "src/formats/ogg/timing.h"
#include "tests/unit/ogg_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace ogg_test;

// ---------------------------------------------------------------------------------------------
// Chained, multiplexed, other codecs.

// A 20 s Opus source followed by a 5 s stream of its own (RFC 3533 §4: a chained file).
const std::string& chained_file()
{
    static const std::string chained =
        source(kSources[4]).bytes +
        slurp(make_file("chain_second", "ffmpeg -v error -f lavfi -i sine=duration=5 -c:a libopus '{out}'"));
    return chained;
}

TEST(OggStreams, ChainedFileIsRefusedAsUnsupported)
{
    // Cut within its first link it would end where the link does: the wrong content.
    ASSERT_TRUE(have_tools());
    const std::string& chained = chained_file();
    for (const Span span : {Span{7000000, Span::kToTheEnd}, Span{7000000, 9000000}, Span{22000000, Span::kToTheEnd}}) {
        MemorySource in(chained);
        const Cut cut = cut_ogg(in, span);
        EXPECT_EQ(cut.status, Cut::Status::Unsupported) << span.start;
        EXPECT_NE(cut.detail.find("chained Ogg"), std::string::npos) << cut.detail;
        EXPECT_TRUE(cut.rep.extents.empty());
    }
}

TEST(OggStreams, ASecondLinkOfTheSameSerialNumberIsSeenByItsBeginningPage)
{
    // `cat a.opus a.opus`: a second link of the same serial number, its first page flagged.
    ASSERT_TRUE(have_tools());
    const std::string one =
        slurp(make_file("chain_short", "ffmpeg -v error -f lavfi -i sine=duration=2 -c:a libopus '{out}'"));
    const std::string twice = one + one;
    MemorySource in(twice);
    EXPECT_EQ(cut_ogg(in, Span{500000, Span::kToTheEnd}).status, Cut::Status::Unsupported);
    MemorySource single(one);
    EXPECT_EQ(cut_ogg(single, Span{500000, Span::kToTheEnd}).status, Cut::Status::Ok);
}

struct StreamCase {
    const char* name;
    const char* make;
    const char* detail;
};

const StreamCase kStreamCases[] = {
    {"MultiplexedIsRejected",
     "ffmpeg -v error -f lavfi -i sine=duration=3 -f lavfi -i sine=frequency=880:duration=3 -map 0 -map 1 "
     "-c:a libvorbis '{out}'",
     "multiplexed Ogg"},
    {"OggFlacIsAnUnsupportedCodec", "ffmpeg -v error -f lavfi -i sine=duration=3 -c:a flac -f ogg '{out}'",
     "unsupported Ogg codec"},
};

class OggStreamKinds : public ::testing::TestWithParam<StreamCase> {};

TEST_P(OggStreamKinds, AreMalformedWithTheirDetail)
{
    ASSERT_TRUE(have_tools());
    const std::string bytes = slurp(make_file(GetParam().name, GetParam().make));
    ASSERT_FALSE(bytes.empty());
    MemorySource in(bytes);
    const Cut cut = cut_served(in, 1000000);
    expect_ogg_invariants(cut, bytes.size(), 1000000);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_EQ(cut.detail, GetParam().detail);
}

INSTANTIATE_TEST_SUITE_P(Kinds, OggStreamKinds, ::testing::ValuesIn(kStreamCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OggStreams, SpeexIsAnUnsupportedCodec)
{
    TestPage bos;
    bos.type = 2;
    bos.serial = 7;
    bos.body = std::string("Speex   1.2") + std::string(69, '\0');
    bos.lacing = {static_cast<unsigned char>(bos.body.size())};
    const std::string bytes = serialise({bos});
    MemorySource in(bytes);
    const Cut cut = cut_served(in, 0);
    expect_ogg_invariants(cut, bytes.size(), 0);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_EQ(cut.detail, "unsupported Ogg codec");
}

// ---------------------------------------------------------------------------------------------
// Where packets end (timing.h), on hand-made streams.

// A page of packets (RFC 3533 §6 lacing); `open`: the last one goes on to the next page (its
// length a multiple of 255); `continued`: the first one began on the page before.
TestPage audio_page(const std::vector<std::string>& packets, std::int64_t granule, unsigned type, bool open = false)
{
    TestPage p;
    p.type = type;
    p.granule = granule;
    p.serial = 7;
    for (std::size_t i = 0; i < packets.size(); ++i) {
        p.lacing.insert(p.lacing.end(), packets[i].size() / 255, 255);
        if (!(open && i + 1 == packets.size())) {
            p.lacing.push_back(static_cast<unsigned char>(packets[i].size() % 255));
        }
        p.body += packets[i];
    }
    return p;
}

// A stream of those pages, numbered, and where each starts.
struct MadeStream {
    std::string bytes;
    std::vector<Offset> offsets;
};

MadeStream made_stream(std::vector<TestPage> pages)
{
    MadeStream m;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        pages[i].sequence = static_cast<std::uint32_t>(i);
        m.offsets.push_back(m.bytes.size());
        m.bytes += serialise({pages[i]});
    }
    return m;
}

// The packet ends on page k (the page before with a granule position: k - 1, none for the first
// audio page), or {} when they cannot be known.
std::vector<std::int64_t> ends_on(const MadeStream& m, std::size_t k)
{
    MemorySource src(m.bytes);
    ogg::Pages pages(src);
    const ogg::Stream s = ogg::read_stream(pages);
    ogg::Page page;
    ogg::Page before;
    EXPECT_TRUE(pages.header_at(m.offsets[k], page) && pages.header_at(m.offsets[k - 1], before));
    const auto ends = ogg::packet_ends(pages, s, page, k > 2 ? std::optional<ogg::Page>(before) : std::nullopt);
    std::vector<std::int64_t> out;
    for (const auto& e : ends.value_or(std::vector<ogg::PacketEnd>{})) {
        out.push_back(e.end);
    }
    return out;
}

std::string le_bytes(std::uint64_t v, int n)
{
    std::string s(static_cast<std::size_t>(n), '\0');
    put_le(s, 0, n, v);
    return s;
}

// RFC 6716 §3.1 TOC bytes: config 31 (CELT 20 ms, 960 samples), config 28 (2.5 ms, 120), and
// code 3 with a frame count of 3 (2880).
std::string opus(unsigned char toc, std::size_t size, unsigned char count = 0)
{
    std::string p(size, '\x55');
    p[0] = static_cast<char>(toc);
    p[1] = static_cast<char>(count);
    return p;
}

MadeStream opus_stream()
{
    const std::string head = std::string("OpusHead\x01\x01", 10) + le_bytes(312, 2) + le_bytes(48000, 4) + std::string(3, '\0');
    const std::string tags = std::string("OpusTags") + le_bytes(0, 4) + le_bytes(0, 4);
    const std::string big = opus(0xE0, 300);  // 120 samples, straddling pages 4 and 5
    return made_stream({
        audio_page({head}, 0, 2),
        audio_page({tags}, 0, 0),
        audio_page({opus(0xF8, 10), opus(0xF8, 10)}, 1920, 0),
        audio_page({opus(0xE0, 10), opus(0xF8, 10), opus(0xFB, 10, 3)}, 5880, 0),
        audio_page({opus(0xF8, 10), big.substr(0, 255)}, 6840, 0, true),
        // The last page, trimmed (RFC 7845 §4.4): its packets end at 6960 and 7920, its granule 7900.
        audio_page({big.substr(255), opus(0xF8, 10)}, 7900, 1 | 4),
    });
}

TEST(OggTiming, OpusEndsComeBackFromThePagesGranulePosition)
{
    const MadeStream m = opus_stream();
    EXPECT_EQ(ends_on(m, 2), (std::vector<std::int64_t>{960, 1920}));
    EXPECT_EQ(ends_on(m, 3), (std::vector<std::int64_t>{2040, 3000, 5880}));
    EXPECT_EQ(ends_on(m, 4), (std::vector<std::int64_t>{6840}));
}

TEST(OggTiming, OnTheTrimmedLastPageOpusEndsCountForwardFromThePageBefore)
{
    // The first packet's TOC is on the page before: 120 samples after 6840.
    EXPECT_EQ(ends_on(opus_stream(), 5), (std::vector<std::int64_t>{6960, 7920}));
}

// Vorbis I §4.2.2 and §4.2.4: an identification header with blocksizes 256 and 2048, and a setup
// header whose last field is two modes, short (0) and long (1), then the framing bit.
std::vector<TestPage> vorbis_headers()
{
    const std::string id = std::string("\x01vorbis", 7) + le_bytes(0, 4) + "\x01" + le_bytes(44100, 4) +
                            std::string(12, '\0') + "\xB8\x01";
    const std::string comment = std::string("\x03vorbis", 7) + le_bytes(0, 4) + le_bytes(0, 4) + "\x01";
    // Bits from the least significant: mode count - 1 (6 bits), two entries of blockflag (1),
    // window and transform types (16 + 16, zero) and mapping (8), the framing bit.
    std::vector<bool> bits = {true, false, false, false, false, false};
    for (const bool flag : {false, true}) {
        bits.push_back(flag);
        bits.insert(bits.end(), 40, false);
    }
    bits.push_back(true);
    std::string tail((bits.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < bits.size(); ++i) {
        tail[i / 8] = static_cast<char>(tail[i / 8] | (bits[i] << (i % 8)));
    }
    const std::string setup = std::string("\x05vorbis", 7) + std::string(8, '\0') + tail;
    return {audio_page({id}, 0, 2), audio_page({comment, setup}, 0, 0)};
}

// Vorbis I §4.3.1: an audio packet's first byte: type 0, the mode, and for a long block the
// previous and next window flags. A short block after a short one adds 128 samples, a long after
// a short or a short after a long 576, a long after a long 1024.
const std::string kShort(10, '\0');
const std::string kLongAfterShort = std::string("\x0A") + std::string(9, '\0');
const std::string kLongAfterLong = std::string("\x0E") + std::string(9, '\0');

TEST(OggTiming, VorbisEndsComeFromBlockSizes)
{
    std::vector<TestPage> pages = vorbis_headers();
    pages.push_back(audio_page({kShort, kShort, kLongAfterShort, kLongAfterLong}, 1728, 0));
    pages.push_back(audio_page({kShort, kLongAfterShort}, 2880, 0));
    pages.push_back(audio_page({kLongAfterShort}, 3456, 4));
    const MadeStream m = made_stream(pages);
    // The stream's first packet only primes the decoder: it ends at 0 (Vorbis I §A.2).
    EXPECT_EQ(ends_on(m, 2), (std::vector<std::int64_t>{0, 128, 704, 1728}));
    EXPECT_EQ(ends_on(m, 3), (std::vector<std::int64_t>{2304, 2880}));
}

TEST(OggTiming, OnTheTrimmedLastPageVorbisEndsCountForwardFromThePageBefore)
{
    const std::string straddling = std::string(1, '\0') + std::string(299, '\x33');  // short, 300 bytes
    std::vector<TestPage> pages = vorbis_headers();
    pages.push_back(audio_page({kShort, kLongAfterShort}, 576, 0));
    pages.push_back(audio_page({kLongAfterLong, straddling.substr(0, 255)}, 1600, 0, true));
    // Its packets end at 2176 (a short after a long, begun on the page before) and 2304; trimmed.
    pages.push_back(audio_page({straddling.substr(255), kShort}, 2300, 1 | 4));
    EXPECT_EQ(ends_on(made_stream(pages), 4), (std::vector<std::int64_t>{2176, 2304}));
}

TEST(OggTiming, VorbisLastPageAfterAPacketWithoutAStartThereIsNotTimed)
{
    // The page before the last holds only the end of a packet begun earlier and the start of
    // another: the block before the last page's first packet (a short one) is unknown there.
    const std::string first = std::string(1, '\x0E') + std::string(299, '\x33');
    const std::string second = std::string(1, '\0') + std::string(299, '\x33');
    std::vector<TestPage> pages = vorbis_headers();
    pages.push_back(audio_page({kShort, kLongAfterShort, first.substr(0, 255)}, 576, 0, true));
    pages.push_back(audio_page({first.substr(255), second.substr(0, 255)}, 1600, 1, true));
    pages.push_back(audio_page({second.substr(255), kShort}, 2300, 1 | 4));
    EXPECT_EQ(ends_on(made_stream(pages), 4), (std::vector<std::int64_t>{}));
}

}  // namespace
}  // namespace audio_stream
