// MemorySource: the ByteSource the unit tests and fuzz targets read files through.
#include "src/byte_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace audio_stream {
namespace {

struct ReadCase {
    const char* name;
    Offset offset;
    std::size_t len;
    bool ok;
    const char* bytes;  // what lands in the buffer when ok
};

const ReadCase kReads[] = {
    {"WholeSource", 0, 6, true, "abcdef"},
    {"Middle", 2, 3, true, "cde"},
    {"EndsAtTheEnd", 4, 2, true, "ef"},
    {"PastTheEnd", 4, 3, false, ""},
    {"StartsPastTheEnd", 7, 1, false, ""},
    {"HugeOffsetDoesNotWrap", ~Offset{0}, 1, false, ""},
    {"HugeLengthDoesNotWrap", 1, ~std::size_t{0}, false, ""},
    // Found by the FLAC fuzz target (UBSan): a zero-length read into an empty vector passed
    // memcpy a null pointer.
    {"EmptyReadAtTheEndIntoNull", 6, 0, true, ""},
    {"EmptyReadPastTheEnd", 7, 0, false, ""},
};

class MemorySourceRead : public ::testing::TestWithParam<ReadCase> {};

TEST_P(MemorySourceRead, ReadsExactlyOrFails)
{
    const ReadCase& c = GetParam();
    MemorySource src("abcdef");
    EXPECT_EQ(src.size(), 6u);
    std::vector<char> buf(c.ok ? c.len : 0);
    EXPECT_EQ(src.read(c.offset, buf.data(), c.len), c.ok);
    EXPECT_EQ(std::string(buf.begin(), buf.end()), c.bytes);
}

INSTANTIATE_TEST_SUITE_P(ByteSource, MemorySourceRead, ::testing::ValuesIn(kReads),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
