// read_exactly (src/file_read.h): the exact pread behind bodies read into memory and the
// cutters' reads, on a real file.
#include "src/file_read.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/real_file.h"

namespace audio_stream {
namespace {

// read_exactly on a real file of 10000 known bytes.
using ReadExactlyTest = RealFileTest<10000>;

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
