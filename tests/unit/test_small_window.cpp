// Small windows (src/small_window.h): when a body's file bytes are read into memory instead of
// sent with sendfile.
#include "src/small_window.h"

#include <gtest/gtest.h>

#include <string>

#include "src/config_values.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

constexpr Offset KiB = 1024;

struct ReadCase {
    const char* name;
    Extents body;
    Offset threshold;
    bool read;
    friend void PrintTo(const ReadCase& c, std::ostream* os) { *os << c.name; }
};

const ReadCase kReads[] = {
    {"WindowBelowThresholdIsRead", {FileExtent{100, 1000}}, 64 * KiB, true},
    {"WindowEqualToThresholdIsRead", {FileExtent{12345, 64 * KiB}}, 64 * KiB, true},
    {"WindowOneByteOverThresholdIsSent", {FileExtent{12345, 64 * KiB + 1}}, 64 * KiB, false},
    {"TwoByteProbeIsRead", {FileExtent{0, 2}}, 64 * KiB, true},
    {"ThresholdZeroAlwaysSends", {FileExtent{0, 2}}, 0, false},
    {"ThresholdZeroSendsEvenOneByte", {FileExtent{7, 1}}, 0, false},
    // Multipart: the parts count together, so one request never buffers more than the threshold.
    {"MultipartPartsSumBelowThresholdAreRead",
     {MemoryBlock{"\r\n--b\r\n\r\n"}, FileExtent{0, 10 * KiB}, MemoryBlock{"\r\n--b\r\n\r\n"},
      FileExtent{50 * KiB, 10 * KiB}, MemoryBlock{"\r\n--b--\r\n"}},
     20 * KiB, true},
    {"MultipartPartsEachBelowButSumAboveAreSent",
     {MemoryBlock{"h"}, FileExtent{0, 10 * KiB}, MemoryBlock{"h"}, FileExtent{50 * KiB, 10 * KiB + 1}},
     20 * KiB, false},
    // Memory blocks (part headers, a cut's new header) are not file bytes.
    {"MemoryBlocksDoNotCount", {MemoryBlock{std::string(100 * KiB, 'x')}, FileExtent{0, 1}}, 1, true},
    {"OnlyMemoryNothingToRead", {MemoryBlock{"abc"}}, 64 * KiB, false},
    {"EmptyBodyNothingToRead", {}, 64 * KiB, false},
    {"LargestThresholdReadsItsSize", {FileExtent{0, kMaxReadThreshold}}, kMaxReadThreshold, true},
    {"HugeWindowSent", {FileExtent{0, Offset{4} << 30}}, kMaxReadThreshold, false},
};

class ReadIntoMemoryTest : public ::testing::TestWithParam<ReadCase> {};

TEST_P(ReadIntoMemoryTest, Decides)
{
    EXPECT_EQ(read_into_memory(GetParam().body, GetParam().threshold), GetParam().read);
}

INSTANTIATE_TEST_SUITE_P(SmallWindow, ReadIntoMemoryTest, ::testing::ValuesIn(kReads),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
