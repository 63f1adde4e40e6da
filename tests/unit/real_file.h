// A fixture for code that reads real files: a temporary file of `Size` known bytes, opened
// with APR on the test's pool; removed afterwards.
#ifndef AUDIO_STREAM_TESTS_REAL_FILE_H
#define AUDIO_STREAM_TESTS_REAL_FILE_H

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <unistd.h>

#include "apr_file_io.h"
#include "apr_general.h"
#include "apr_pools.h"

namespace audio_stream {

template <std::size_t Size>
class RealFileTest : public ::testing::Test {
protected:
    static constexpr std::size_t kSize = Size;

    void SetUp() override
    {
        ASSERT_EQ(apr_initialize(), APR_SUCCESS);
        ASSERT_EQ(apr_pool_create(&pool_, nullptr), APR_SUCCESS);
        char name[] = "/tmp/as_real_file_XXXXXX";
        const int fd = mkstemp(name);
        ASSERT_GE(fd, 0);
        path_ = name;
        for (std::size_t i = 0; i < kSize; ++i) {
            content_.push_back(static_cast<char>((i * 131 + 7) % 251));
        }
        ASSERT_EQ(write(fd, content_.data(), content_.size()), static_cast<ssize_t>(kSize));
        close(fd);
        ASSERT_EQ(apr_file_open(&file_, path_.c_str(), APR_READ | APR_BINARY, 0, pool_), APR_SUCCESS);
    }

    void TearDown() override
    {
        if (pool_) {
            apr_pool_destroy(pool_);  // closes file_
            std::remove(path_.c_str());
            apr_terminate();
        }
    }

    apr_pool_t* pool_ = nullptr;
    apr_file_t* file_ = nullptr;
    std::string path_;
    std::string content_;
};

}  // namespace audio_stream

#endif
