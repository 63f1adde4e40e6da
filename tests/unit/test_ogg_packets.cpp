// Ogg Opus as packets for HLS (ogg/packets.cpp, ogg/packet_index.h): the track against the
// file's own pages (ogg_tools' independent page reader) and ffprobe, every packet once and in
// order against an independent lacing walk, what is refused and how, and the index's payload.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/formats/ogg/packet_index.h"
#include "tests/unit/ogg_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace ogg_test;

// The file's packets by an independent walk over its pages (RFC 3533 §6: a lacing value below
// 255 ends a packet), the header packets left out; and whether one spans two pages.
struct Reference {
    std::vector<std::string> packets;
    bool spanning = false;
    std::int64_t last_granule = -1;
    std::string head;  // the first page's body: the OpusHead packet
};

Reference reference(const std::string& file)
{
    std::string error;
    const std::vector<TestPage> pages = parse_pages(file, error);
    EXPECT_EQ(error, "");
    Reference r;
    r.head = pages.at(0).body;
    std::string open;
    std::size_t headers = 1;  // OpusTags still to come after OpusHead
    for (std::size_t i = 1; i < pages.size(); ++i) {
        std::size_t at = 0;
        r.spanning = r.spanning || (!open.empty() && headers == 0);
        for (const unsigned char v : pages[i].lacing) {
            open += pages[i].body.substr(at, v);
            at += v;
            if (v < 255) {
                if (headers > 0) {
                    --headers;
                }
                else {
                    r.packets.push_back(open);
                }
                open.clear();
            }
        }
        r.last_granule = pages[i].granule >= 0 ? pages[i].granule : r.last_granule;
    }
    return r;
}

// The bytes of a run, from the file.
std::string bytes_of(const std::string& file, const PacketRun& run)
{
    Representation rep;
    rep.extents = run.data;
    return materialise(file, rep);
}

AudioTrack track_of(const std::string& bytes)
{
    MemorySource src(bytes);
    IndexSource none;
    return *track_for_type("audio/ogg", src, none);
}

class OggPackets : public ::testing::TestWithParam<Source> {};

TEST_P(OggPackets, TrackSaysWhatTheFileAndFfprobeSay)
{
    const Cached& c = source(GetParam());
    ASSERT_EQ(c.errors, "");
    const Reference ref = reference(c.bytes);
    const AudioTrack t = track_of(c.bytes);
    ASSERT_EQ(t.status, Cut::Status::Ok) << t.detail;
    EXPECT_EQ(t.codec, AudioCodec::Opus);
    EXPECT_EQ(t.codecs, "Opus");
    EXPECT_EQ(t.rate, 48000u);
    EXPECT_EQ(t.sample_rate, 48000u) << "the sources are 48 kHz WAV";
    EXPECT_EQ(t.channels, 2u);
    EXPECT_EQ(t.config, ref.head) << "the OpusHead packet, exactly";
    EXPECT_EQ(t.packet_samples, 960u) << "20 ms, both encoders' default";
    EXPECT_EQ(t.packets, ref.packets.size());
    // RFC 7845 §4: the timeline runs to the last granule (these streams start at 0), the pre-skip
    // included, as ffprobe's duration does; what plays leaves it out, as opusinfo says: the 20 s
    // of the WAV.
    EXPECT_EQ(t.total, static_cast<std::uint64_t>(ref.last_granule));
    EXPECT_NEAR(static_cast<double>(t.total) / 48000, c.probed, 0.001);
    const double played = playback_seconds(expect_info_clean(ogg_test::Codec::Opus, c.path));
    EXPECT_NEAR(static_cast<double>(t.total - pre_skip(c.bytes)) / 48000, played, 0.001);
    EXPECT_NEAR(played, 20.0, 0.001);
    EXPECT_GT(t.total, (t.packets - 1) * t.packet_samples);
    EXPECT_LE(t.total, t.packets * t.packet_samples);
    std::uint64_t bytes = 0;
    std::size_t largest = 0;
    for (const std::string& p : ref.packets) {
        bytes += p.size();
        largest = std::max(largest, p.size());
    }
    EXPECT_EQ(t.audio_bytes, bytes);
    EXPECT_EQ(t.peak_bitrate, largest * 8 * 48000 / 960);
}

TEST_P(OggPackets, EveryPacketOnceInOrder)
{
    const Cached& c = source(GetParam());
    ASSERT_EQ(c.errors, "");
    const Reference ref = reference(c.bytes);
    const AudioTrack t = track_of(c.bytes);
    ASSERT_EQ(t.status, Cut::Status::Ok) << t.detail;
    SeekIndexCache cache(1 << 20);
    IndexSource indexes(&cache, FileIdentity{1, 2, c.bytes.size(), 3});
    std::size_t next = 0;
    for (const std::uint64_t per_run : {std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{300}}) {
        next = 0;
        for (std::uint64_t first = 0; first < t.packets; first += per_run) {
            const std::uint64_t count = std::min(per_run, t.packets - first);
            MemorySource src(c.bytes);
            const PacketRun run = packets_for_type("audio/ogg", src, indexes, first, count);
            ASSERT_EQ(run.status, Cut::Status::Ok) << run.detail;
            ASSERT_EQ(run.sizes.size(), count);
            std::string expected;
            for (std::uint64_t i = 0; i < count; ++i, ++next) {
                EXPECT_EQ(run.sizes[i], ref.packets[next].size()) << "packet " << next;
                expected += ref.packets[next];
            }
            ASSERT_EQ(bytes_of(c.bytes, run), expected) << "packets " << first << "+" << count;
            // Packets next to each other on a page are one extent: a run has one a page (these
            // encoders' pages hold about 50 packets).
            if (count == 300) {
                EXPECT_LT(run.data.size(), 300u / 20);
            }
        }
    }
    EXPECT_EQ(next, ref.packets.size());
}

INSTANTIATE_TEST_SUITE_P(Sources, OggPackets, ::testing::Values(kSources[3], kSources[4], kSources[5]),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OggPacketsSpanning, APacketAcrossTwoPagesIsTwoExtentsOfOnePacket)
{
    const Cached& c = source(kSources[5]);  // re-paged: a packet straddles every page boundary
    ASSERT_EQ(c.errors, "");
    const Reference ref = reference(c.bytes);
    ASSERT_TRUE(ref.spanning);
    std::string error;
    const std::vector<TestPage> pages = parse_pages(c.bytes, error);
    // The first packet that ends on the fourth audio page began on the third.
    std::size_t before = 0;
    for (std::size_t i = 2; i < 4; ++i) {
        for (const unsigned char v : pages[i].lacing) {
            before += v < 255;
        }
    }
    ASSERT_TRUE(pages[4].type & 1) << "continued";
    MemorySource src(c.bytes);
    IndexSource none;
    const PacketRun run = packets_for_type("audio/ogg", src, none, before, 1);
    ASSERT_EQ(run.status, Cut::Status::Ok) << run.detail;
    ASSERT_EQ(run.data.size(), 2u) << "the page header between its parts is left out";
    EXPECT_EQ(bytes_of(c.bytes, run), ref.packets[before]);
    EXPECT_EQ(run.sizes, std::vector<std::uint32_t>{static_cast<std::uint32_t>(ref.packets[before].size())});
}

TEST(OggPacketsRefused, VorbisHasNoHlsForm)
{
    const Cached& c = source(kSources[1]);
    ASSERT_EQ(c.errors, "");
    const AudioTrack t = track_of(c.bytes);
    EXPECT_EQ(t.status, Cut::Status::Unsupported);
    EXPECT_EQ(t.detail, "Vorbis has no HLS form");
    MemorySource src(c.bytes);
    IndexSource none;
    EXPECT_EQ(packets_for_type("audio/ogg", src, none, 0, 1).status, Cut::Status::Unsupported);
}

TEST(OggPacketsRefused, JunkIsMalformed)
{
    EXPECT_EQ(track_of(std::string(5000, 'x')).status, Cut::Status::Malformed);
    // An Opus file whose audio is junk after its headers.
    const Cached& c = source(kSources[4]);
    std::string broken = c.bytes;
    for (std::size_t i = broken.size() / 2; i < broken.size(); ++i) {
        broken[i] = 'x';
    }
    const AudioTrack t = track_of(broken);
    EXPECT_EQ(t.status, Cut::Status::Malformed) << t.detail;
}

TEST(OggPacketsRefused, AChainedFileIsUnsupported)
{
    const Cached& c = source(kSources[4]);
    const std::string chained = c.bytes + c.bytes;  // `cat a.opus a.opus`
    const AudioTrack t = track_of(chained);
    EXPECT_EQ(t.status, Cut::Status::Unsupported);
    EXPECT_NE(t.detail.find("chained Ogg"), std::string::npos) << t.detail;
}

TEST(OggPacketsRefused, PacketsOfMoreThanOneDurationAreUnsupported)
{
    // RFC 6716 §3.1: TOC config 31 is CELT fullband 20 ms, 30 the same at 10 ms. One packet in
    // the middle made 10 ms (its audio is nonsense then, its duration is what counts).
    const Cached& c = source(kSources[4]);
    std::string error;
    std::vector<TestPage> pages = parse_pages(c.bytes, error);
    TestPage& p = pages[pages.size() / 2];
    ASSERT_FALSE(p.type & 1) << "the page starts with a packet";
    p.body[0] = static_cast<char>((30 << 3) | (p.body[0] & 7));
    const AudioTrack t = track_of(serialise(pages));
    EXPECT_EQ(t.status, Cut::Status::Unsupported);
    EXPECT_EQ(t.detail, "Opus packets of more than one duration");
}

TEST(OggPacketIndex, TheFileIsWalkedOnceForTheTrackAndEveryRun)
{
    const Cached& c = source(kSources[4]);
    ASSERT_EQ(c.errors, "");
    SeekIndexCache cache(1 << 20);
    IndexSource indexes(&cache, FileIdentity{1, 2, c.bytes.size(), 3});
    MemorySource src(c.bytes);
    ASSERT_EQ(track_for_type("audio/ogg", src, indexes)->status, Cut::Status::Ok);
    EXPECT_TRUE(indexes.built());
    for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{500}}) {
        MemorySource again(c.bytes);
        EXPECT_EQ(packets_for_type("audio/ogg", again, indexes, first, 300).status, Cut::Status::Ok);
        EXPECT_FALSE(indexes.built()) << "from the cache";
    }
    EXPECT_EQ(cache.entries(), 1u);
}

TEST(OggPacketIndex, PayloadRoundTrips)
{
    const Cached& c = source(kSources[5]);
    ASSERT_EQ(c.errors, "");
    MemorySource src(c.bytes);
    ogg::Pages pages(src);
    const ogg::Stream s = ogg::read_stream(pages);
    const ogg::PacketIndex x = ogg::build_packet_index(src, s);
    ASSERT_EQ(x.status, Cut::Status::Ok) << x.error;
    EXPECT_GE(x.pages.size(), 20u);
    const std::string payload = x.payload();
    EXPECT_EQ(payload.size(), 41 + 8 + 14 * x.pages.size()) << "14 bytes a page";
    const auto back = ogg::PacketIndex::parse(payload, c.bytes.size());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->payload(), payload);
    EXPECT_EQ(back->packets, x.packets);
    EXPECT_EQ(back->pages.size(), x.pages.size());
    EXPECT_FALSE(ogg::PacketIndex::parse(payload.substr(0, payload.size() - 1), c.bytes.size())) << "cut short";
    EXPECT_FALSE(ogg::PacketIndex::parse(payload, x.pages.back().offset)) << "a page past the file";
    // A refusal is kept as one.
    ogg::PacketIndex refused;
    refused.status = Cut::Status::Unsupported;
    refused.error = "Opus packets of more than one duration";
    const auto kept = ogg::PacketIndex::parse(refused.payload(), 100);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->status, Cut::Status::Unsupported);
    EXPECT_EQ(kept->error, refused.error);
}

}  // namespace
}  // namespace audio_stream
