// The codec and stream layer of Ogg cuts (ogg_codec.cpp): chained streams are cut within the first,
// multiplexed streams and other codecs are refused with their detail.
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

#include "tests/unit/ogg_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace ogg_test;

// ---------------------------------------------------------------------------------------------
// Chained, multiplexed, other codecs.

TEST(OggStreams, ChainedFileIsCutWithinItsFirstStream)
{
    ASSERT_TRUE(have_tools());
    const std::string first = source(kSources[4]).bytes;
    const std::string second =
        slurp(make_file("chain_second", "ffmpeg -v error -f lavfi -i sine=duration=5 -c:a libopus '{out}'"));
    const std::string chained = first + second;
    MemorySource in(chained);
    const Cut cut = cut_served(in, 7000000);
    expect_ogg_invariants(cut, chained.size(), 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    EXPECT_EQ(cut.duration, 13000000);
    std::string error;
    const auto pages = parse_pages(materialise(chained, cut.rep), error);
    ASSERT_EQ(error, "");
    for (const auto& p : pages) {
        EXPECT_EQ(p.serial, pages[0].serial);
    }
    MemorySource late(chained);
    EXPECT_EQ(cut_served(late, 22000000).status, Cut::Status::PastEnd);
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

}  // namespace
}  // namespace audio_stream
