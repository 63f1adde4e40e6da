// Random access to the bytes of a file, for the format parsers. The glue reads an apr_file_t;
// tests read memory. Parsers never see APR or httpd.
#ifndef AUDIO_STREAM_BYTE_SOURCE_H
#define AUDIO_STREAM_BYTE_SOURCE_H

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "representation.h"

namespace audio_stream {

class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual Offset size() const = 0;
    // Reads exactly len bytes at offset into buf; false if they are not all there.
    virtual bool read(Offset offset, void* buf, std::size_t len) = 0;
};

// A ByteSource over bytes in memory (tests, fuzzers).
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
    Offset size() const override { return bytes_.size(); }
    bool read(Offset offset, void* buf, std::size_t len) override
    {
        if (offset > bytes_.size() || len > bytes_.size() - offset) {
            return false;
        }
        if (len != 0) {  // buf may be null then (an empty vector's data()): no memcpy
            std::memcpy(buf, bytes_.data() + offset, len);
        }
        return true;
    }

private:
    std::string_view bytes_;
};

}  // namespace audio_stream

#endif
