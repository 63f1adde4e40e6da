// Small windows (src/small_window.h): when a body's file bytes are read into memory instead of
// sent with sendfile, the AudioStreamReadThreshold values, and the exact read behind it.
#include "src/small_window.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <unistd.h>

#include "apr_general.h"
#include "apr_pools.h"
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

TEST(SmallWindow, FileBytesSumsFileExtentsOnly)
{
    EXPECT_EQ(file_bytes({MemoryBlock{"abcd"}, FileExtent{5, 10}, MemoryBlock{"x"}, FileExtent{0, 3}}),
              Offset{13});
    EXPECT_EQ(file_bytes({}), Offset{0});
}

TEST(SmallWindow, FileEndIsOnePastTheLastFileByteInAnyOrder)
{
    // Multipart parts may come in any order; memory blocks need no file byte.
    EXPECT_EQ(file_end({MemoryBlock{"abcd"}, FileExtent{5, 10}, MemoryBlock{"x"}, FileExtent{0, 3}}),
              Offset{15});
    EXPECT_EQ(file_end({FileExtent{Offset{5} << 30, 1}}), (Offset{5} << 30) + 1);
    EXPECT_EQ(file_end({MemoryBlock{"only memory"}}), Offset{0});
    EXPECT_EQ(file_end({}), Offset{0});
}

struct ThresholdCase {
    const char* name;
    const char* text;
    std::optional<Offset> value;
    friend void PrintTo(const ThresholdCase& c, std::ostream* os) { *os << c.name; }
};

const ThresholdCase kThresholds[] = {
    {"ZeroMeansAlwaysSendfile", "0", Offset{0}},
    {"PlainBytes", "65536", Offset{65536}},
    {"Kibibytes", "128K", 128 * KiB},
    {"KibibytesLower", "16k", 16 * KiB},
    {"Mebibytes", "1M", 1024 * KiB},
    {"AtTheCeiling", "16M", kMaxReadThreshold},
    {"OneByteOverTheCeilingRefused", "16777217", std::nullopt},
    {"GibibyteRefused", "1G", std::nullopt},
    {"NotASizeRefused", "12Q", std::nullopt},
    {"EmptyRefused", "", std::nullopt},
    {"NegativeRefused", "-1", std::nullopt},
    {"WordRefused", "off", std::nullopt},
};

class ParseReadThresholdTest : public ::testing::TestWithParam<ThresholdCase> {};

TEST_P(ParseReadThresholdTest, ParsesExactly)
{
    EXPECT_EQ(parse_read_threshold(GetParam().text), GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(SmallWindow, ParseReadThresholdTest, ::testing::ValuesIn(kThresholds),
                         [](const auto& info) { return std::string(info.param.name); });

// read_exactly on a real file of 10000 known bytes.
class ReadExactlyTest : public ::testing::Test {
protected:
    static constexpr std::size_t kSize = 10000;

    void SetUp() override
    {
        ASSERT_EQ(apr_initialize(), APR_SUCCESS);
        ASSERT_EQ(apr_pool_create(&pool_, nullptr), APR_SUCCESS);
        char name[] = "/tmp/as_small_window_XXXXXX";
        const int fd = mkstemp(name);
        ASSERT_GE(fd, 0);
        path_ = name;
        for (std::size_t i = 0; i < kSize; ++i) {
            content_.push_back(static_cast<char>((i * 131 + 7) % 251));
        }
        ASSERT_EQ(write(fd, content_.data(), content_.size()), static_cast<ssize_t>(kSize));
        close(fd);
        ASSERT_EQ(apr_file_open(&file_, path_.c_str(), APR_READ | APR_BINARY, 0, pool_),
                  APR_SUCCESS);
    }

    void TearDown() override
    {
        apr_pool_destroy(pool_);  // closes file_
        std::remove(path_.c_str());
        apr_terminate();
    }

    apr_pool_t* pool_ = nullptr;
    apr_file_t* file_ = nullptr;
    std::string path_;
    std::string content_;
};

TEST_F(ReadExactlyTest, ReadsTheWindowAtItsOffset)
{
    std::string buf(4096, '\0');
    ASSERT_EQ(read_exactly(file_, 1234, buf.data(), buf.size()), APR_SUCCESS);
    EXPECT_EQ(buf, content_.substr(1234, 4096));
}

TEST_F(ReadExactlyTest, ReadsUpToTheLastByte)
{
    std::string buf(2, '\0');
    ASSERT_EQ(read_exactly(file_, kSize - 2, buf.data(), buf.size()), APR_SUCCESS);
    EXPECT_EQ(buf, content_.substr(kSize - 2));
}

TEST_F(ReadExactlyTest, LeavesTheFilePositionAlone)
{
    std::string buf(100, '\0');
    ASSERT_EQ(read_exactly(file_, 5000, buf.data(), buf.size()), APR_SUCCESS);
    apr_off_t at = 0;
    ASSERT_EQ(apr_file_seek(file_, APR_CUR, &at), APR_SUCCESS);
    EXPECT_EQ(at, 0);
}

TEST_F(ReadExactlyTest, ShortReadOfAShrunkFileIsEof)
{
    // The response promised bytes 9000-10999, but the file now ends at 10000.
    std::string buf(2000, '\0');
    EXPECT_EQ(read_exactly(file_, 9000, buf.data(), buf.size()), APR_EOF);
}

TEST_F(ReadExactlyTest, WindowWhollyPastTheEndIsEof)
{
    std::string buf(10, '\0');
    EXPECT_EQ(read_exactly(file_, kSize + 5, buf.data(), buf.size()), APR_EOF);
}

TEST_F(ReadExactlyTest, FileTruncatedAfterOpenIsEof)
{
    ASSERT_EQ(truncate(path_.c_str(), 3000), 0);
    std::string buf(1000, '\0');
    EXPECT_EQ(read_exactly(file_, 2500, buf.data(), buf.size()), APR_EOF);
}

}  // namespace
}  // namespace audio_stream
