#include "flac_frame.h"

#include <array>

namespace audio_stream {
namespace flac {

namespace {

using Byte = std::uint8_t;

constexpr unsigned kPoly8 = 0x07;
constexpr unsigned kPoly16 = 0x8005;

constexpr std::array<Byte, 256> make_crc8()
{
    std::array<Byte, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned r = i;
        for (int k = 0; k < 8; ++k) {
            r = (r & 0x80) ? ((r << 1) ^ kPoly8) : (r << 1);
        }
        t[i] = static_cast<Byte>(r);
    }
    return t;
}

constexpr std::array<std::uint16_t, 256> make_crc16()
{
    std::array<std::uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned r = i << 8;
        for (int k = 0; k < 8; ++k) {
            r = (r & 0x8000) ? ((r << 1) ^ kPoly16) : (r << 1);
        }
        t[i] = static_cast<std::uint16_t>(r);
    }
    return t;
}

constexpr auto kCrc8 = make_crc8();
constexpr auto kCrc16 = make_crc16();

// a(x) * b(x) mod P(x) for the CRC-16 polynomial, bit 15 the x^15 coefficient.
constexpr std::uint16_t mul_mod(std::uint16_t a, std::uint16_t b)
{
    unsigned r = 0;
    for (int i = 15; i >= 0; --i) {
        r = (r & 0x8000) ? ((r << 1) ^ kPoly16) : (r << 1);
        if ((a >> i) & 1) {
            r ^= b;
        }
    }
    return static_cast<std::uint16_t>(r);
}

// x^(8 * 2^k) mod P: feeding 2^k zero bytes multiplies the register by it.
constexpr std::array<std::uint16_t, 64> make_zero_powers()
{
    std::array<std::uint16_t, 64> p{};
    p[0] = 0x100;
    for (std::size_t k = 1; k < p.size(); ++k) {
        p[k] = mul_mod(p[k - 1], p[k - 1]);
    }
    return p;
}

constexpr auto kZeroPowers = make_zero_powers();

}  // namespace

std::uint8_t crc8(const std::uint8_t* p, std::size_t n, std::uint8_t crc)
{
    for (std::size_t i = 0; i < n; ++i) {
        crc = kCrc8[crc ^ p[i]];
    }
    return crc;
}

std::uint16_t crc16(const std::uint8_t* p, std::size_t n, std::uint16_t crc)
{
    for (std::size_t i = 0; i < n; ++i) {
        crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16[(crc >> 8) ^ p[i]]);
    }
    return crc;
}

std::size_t crc16_to_zero(const std::uint8_t* p, std::size_t n, std::uint16_t& crc, std::size_t quiet)
{
    std::uint16_t r = crc;
    for (std::size_t i = 0; i < n; ++i) {
        r = static_cast<std::uint16_t>((r << 8) ^ kCrc16[(r >> 8) ^ p[i]]);
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
    for (std::size_t k = 0; n != 0; ++k, n >>= 1) {
        if (n & 1) {
            crc = mul_mod(crc, kZeroPowers[k]);
        }
    }
    return crc;
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
