// The open file of a request as the format parsers see it (a ByteSource), and its identity
// for the caches.
#ifndef AUDIO_STREAM_APACHE_FILE_SOURCE_H
#define AUDIO_STREAM_APACHE_FILE_SOURCE_H

#include "glue.h"

#include "../byte_source.h"
#include "../file_identity.h"
#include "../file_read.h"

namespace audio_stream::apache {

// The format parsers read the file through this.
class AprFileSource final : public ByteSource {
public:
    AprFileSource(apr_file_t* fd, Offset size) : fd_(fd), size_(size) {}
    Offset size() const override { return size_; }
    bool fetch(Offset offset, void* buf, std::size_t len) override
    {
        return read_exactly(fd_, offset, static_cast<char*>(buf), len) == APR_SUCCESS;
    }

private:
    apr_file_t* fd_;
    Offset size_;
};

// The file as it is now (fstat of the open descriptor), not as the request's earlier stat of its
// path saw it: what the caches of things read from the descriptor are keyed by.
inline bool file_state(apr_file_t* fd, apr_finfo_t& now)
{
    return apr_file_info_get(&now, APR_FINFO_IDENT | APR_FINFO_SIZE | APR_FINFO_MTIME | APR_FINFO_CTIME, fd) ==
           APR_SUCCESS;
}

// The state of the file the request opened (file_state), or the request's stat of its path when
// fstat fails.
inline apr_finfo_t opened_state(const request_rec* r, apr_file_t* fd)
{
    apr_finfo_t now;
    return file_state(fd, now) ? now : r->finfo;
}

inline FileIdentity file_identity(const apr_finfo_t& f)
{
    return {static_cast<std::uint64_t>(f.device), static_cast<std::uint64_t>(f.inode),
            static_cast<std::uint64_t>(f.size), static_cast<std::int64_t>(f.mtime),
            static_cast<std::int64_t>(f.ctime)};
}

}  // namespace audio_stream::apache

#endif
