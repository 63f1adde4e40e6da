// The byte order of seek index payloads (SeekIndex::payload, IndexFiles): little-endian fields
// of fixed widths, written in order and read back with every length checked.
#ifndef AUDIO_STREAM_FORMATS_PAYLOAD_H
#define AUDIO_STREAM_FORMATS_PAYLOAD_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "toolbox.h"

namespace audio_stream {
namespace payload {

// The low n bytes of v (n <= 8).
inline void put(std::string& out, std::uint64_t v, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(static_cast<char>(v >> (8 * i)));
    }
}

// Fields of these widths, in order.
template <std::size_t N>
void put_all(std::string& out, const std::uint64_t (&values)[N], const unsigned (&widths)[N])
{
    for (std::size_t i = 0; i < N; ++i) {
        put(out, values[i], widths[i]);
    }
}

class Reader {
public:
    explicit Reader(std::string_view bytes) : p_(bytes) {}

    // False, taking nothing, when fewer than n bytes are left.
    bool take(std::size_t n, std::uint64_t& v)
    {
        if (p_.size() < n) {
            return false;
        }
        v = le(reinterpret_cast<const Byte*>(p_.data()), n);
        p_.remove_prefix(n);
        return true;
    }
    bool take_bytes(std::size_t n, std::string_view& out)
    {
        if (p_.size() < n) {
            return false;
        }
        out = p_.substr(0, n);
        p_.remove_prefix(n);
        return true;
    }
    std::size_t left() const { return p_.size(); }

private:
    std::string_view p_;
};

// Fields of these widths, in order: false when the payload ends first.
template <std::size_t N>
bool take_all(Reader& in, std::uint64_t (&values)[N], const unsigned (&widths)[N])
{
    for (std::size_t i = 0; i < N; ++i) {
        if (!in.take(widths[i], values[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace payload
}  // namespace audio_stream

#endif
