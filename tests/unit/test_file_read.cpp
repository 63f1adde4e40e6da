// read_exactly (src/file_read.h): the exact pread behind bodies read into memory and the
// cutters' reads, on a real file.
#include "src/file_read.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "apr_general.h"
#include "apr_pools.h"

namespace audio_stream {
namespace {

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
