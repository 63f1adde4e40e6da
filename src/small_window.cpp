#include "small_window.h"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

#include "apr_portable.h"
#include "config_values.h"

namespace audio_stream {

std::optional<Offset> parse_read_threshold(std::string_view text)
{
    const auto size = parse_size(text);
    if (!size || *size > kMaxReadThreshold) {
        return std::nullopt;
    }
    return size;
}

Offset file_bytes(const Extents& body)
{
    Offset n = 0;
    for (const auto& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            n += f->length;
        }
    }
    return n;
}

Offset file_end(const Extents& body)
{
    Offset end = 0;
    for (const auto& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            end = std::max(end, f->offset + f->length);
        }
    }
    return end;
}

bool read_into_memory(const Extents& body, Offset threshold)
{
    const Offset n = file_bytes(body);
    return threshold > 0 && n > 0 && n <= threshold;
}

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
