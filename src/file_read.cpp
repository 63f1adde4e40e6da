#include "file_read.h"

#include <cerrno>
#include <unistd.h>

#include "apr_portable.h"

namespace audio_stream {

apr_status_t read_exactly(apr_file_t* file, Offset offset, char* buf, std::size_t len)
{
    apr_os_file_t fd;
    const apr_status_t rv = apr_os_file_get(&fd, file);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (len > 0) {
        const ssize_t got = ::pread(fd, buf, len, static_cast<off_t>(offset));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return APR_FROM_OS_ERROR(errno);
        }
        if (got == 0) {
            return APR_EOF;  // a short read: the file is shorter than the window
        }
        buf += got;
        len -= static_cast<std::size_t>(got);
        offset += static_cast<Offset>(got);
    }
    return APR_SUCCESS;
}

}  // namespace audio_stream
