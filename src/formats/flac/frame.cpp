#include "frame.h"

#include "../crc.h"

namespace audio_stream {
namespace flac {

namespace {

using Byte = std::uint8_t;

constexpr Byte kPoly8 = 0x07;
constexpr std::uint16_t kPoly16 = 0x8005;

}  // namespace

std::uint8_t crc8(const std::uint8_t* p, std::size_t n, std::uint8_t crc)
{
    for (std::size_t i = 0; i < n; ++i) {
        crc = crc::update<Byte, kPoly8>(crc, p[i]);
    }
    return crc;
}

std::uint16_t crc16(const std::uint8_t* p, std::size_t n, std::uint16_t crc)
{
    return crc::update_bytes<std::uint16_t, kPoly16>(crc, p, n);
}

std::size_t crc16_to_zero(const std::uint8_t* p, std::size_t n, std::uint16_t& crc, std::size_t quiet)
{
    std::uint16_t r = crc;
    for (std::size_t i = 0; i < n; ++i) {
        r = crc::update<std::uint16_t, kPoly16>(r, p[i]);
        if (r == 0 && i + 1 >= quiet) {
            crc = r;
            return i + 1;
        }
    }
    crc = r;
    return n;
}

std::uint16_t crc16_zeros(std::uint16_t crc, std::uint64_t n)
{
    return crc::feed_zeros<std::uint16_t, kPoly16>(crc, n);
}

std::uint16_t renumbered_crc16(std::uint16_t old_crc, const std::uint8_t* old_header, std::size_t old_length,
                               const std::uint8_t* new_header, std::size_t new_length, std::uint64_t body_length)
{
    // old = zeros(crc(old_h), L) ^ crc(B), new = zeros(crc(new_h), L) ^ crc(B), and zeros is
    // linear: new = old ^ zeros(crc(old_h) ^ crc(new_h), L).
    const auto diff = static_cast<std::uint16_t>(crc16(old_header, old_length) ^ crc16(new_header, new_length));
    return static_cast<std::uint16_t>(old_crc ^ crc16_zeros(diff, body_length));
}

std::size_t put_coded_number(std::uint64_t number, std::uint8_t* out)
{
    if (number < 0x80) {
        out[0] = static_cast<Byte>(number);
        return 1;
    }
    // n bytes carry 5n + 1 bits (n = 2..6) and 36 bits for n = 7 (lead byte 0xFE, §9.1.5).
    std::size_t n = 2;
    while (n < 7 && number >= (std::uint64_t{1} << (5 * n + 1))) {
        ++n;
    }
    if (n == 7 && number >= (std::uint64_t{1} << 36)) {
        return 0;
    }
    for (std::size_t i = n - 1; i > 0; --i) {
        out[i] = static_cast<Byte>(0x80 | (number & 0x3F));
        number >>= 6;
    }
    out[0] = static_cast<Byte>((0xFF00u >> n) | number);
    return n;
}

std::string renumbered_header(const std::uint8_t* header, std::size_t length, std::size_t number_length,
                              std::uint64_t number)
{
    Byte coded[7];
    const std::size_t n = put_coded_number(number, coded);
    if (n == 0 || length < 4 + number_length + 1) {
        return {};
    }
    std::string out(reinterpret_cast<const char*>(header), 4);
    out.append(reinterpret_cast<const char*>(coded), n);
    out.append(reinterpret_cast<const char*>(header + 4 + number_length), length - 4 - number_length - 1);
    out.push_back(static_cast<char>(crc8(reinterpret_cast<const Byte*>(out.data()), out.size())));
    return out;
}

}  // namespace flac
}  // namespace audio_stream
