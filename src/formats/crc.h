// The CRCs of the formats we cut, all of one kind: MSB first, initial value 0, no final xor
// (FLAC's CRC-8 and CRC-16, RFC 9639 §9.1.8 and §9.3; Ogg's CRC-32, RFC 3533 §6). One byte
// table builder, and one way to feed n zero bytes in O(log n): such a CRC is linear, so a
// frame or page whose header changes gets its new CRC from the old one without its body.
#ifndef AUDIO_STREAM_FORMATS_CRC_H
#define AUDIO_STREAM_FORMATS_CRC_H

#include <array>
#include <cstddef>
#include <cstdint>

namespace audio_stream {
namespace crc {

// The register of a CRC of type T (its width) and polynomial Poly (x^width left out) after
// one more zero bit.
template <typename T, T Poly>
constexpr T shift_bit(T r)
{
    constexpr T kTop = static_cast<T>(T{1} << (8 * sizeof(T) - 1));
    return (r & kTop) ? static_cast<T>(static_cast<T>(r << 1) ^ Poly) : static_cast<T>(r << 1);
}

// Entry b: the register after byte b is fed into a zero register.
template <typename T, T Poly>
constexpr std::array<T, 256> make_table()
{
    std::array<T, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        auto r = static_cast<T>(static_cast<T>(i) << (8 * sizeof(T) - 8));
        for (int k = 0; k < 8; ++k) {
            r = shift_bit<T, Poly>(r);
        }
        t[i] = r;
    }
    return t;
}

template <typename T, T Poly>
inline constexpr std::array<T, 256> kTable = make_table<T, Poly>();

// The register after one more byte.
template <typename T, T Poly>
constexpr T update(T crc, std::uint8_t b)
{
    constexpr unsigned kHigh = 8 * sizeof(T) - 8;
    return static_cast<T>(static_cast<T>(crc << 8) ^ kTable<T, Poly>[static_cast<std::uint8_t>(crc >> kHigh) ^ b]);
}

// Slicing by 8: entry [k][b] is the register after byte b, then k zero bytes, fed into a zero
// register. The register is linear in its input, so 8 bytes at once are the xor of each byte's
// entry, with the register's own bytes xored into the first ones.
template <typename T, T Poly>
constexpr std::array<std::array<T, 256>, 8> make_slices()
{
    std::array<std::array<T, 256>, 8> s{};
    s[0] = make_table<T, Poly>();
    for (std::size_t k = 1; k < s.size(); ++k) {
        for (unsigned b = 0; b < 256; ++b) {
            s[k][b] = update<T, Poly>(s[k - 1][b], 0);
        }
    }
    return s;
}

template <typename T, T Poly>
inline constexpr std::array<std::array<T, 256>, 8> kSlices = make_slices<T, Poly>();

// The register after n more bytes, 8 at a time.
template <typename T, T Poly>
T update_bytes(T crc, const std::uint8_t* p, std::size_t n)
{
    static_assert(sizeof(T) <= 8, "the register must fit in one block");
    const auto& s = kSlices<T, Poly>;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint8_t d[8];
        for (std::size_t i = 0; i < 8; ++i) {
            d[i] = p[i];
        }
        for (std::size_t i = 0; i < sizeof(T); ++i) {
            d[i] = static_cast<std::uint8_t>(d[i] ^ (crc >> (8 * (sizeof(T) - 1 - i))));
        }
        T r = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            r = static_cast<T>(r ^ s[7 - i][d[i]]);
        }
        crc = r;
    }
    for (; n != 0; --n, ++p) {
        crc = update<T, Poly>(crc, *p);
    }
    return crc;
}

// a(x) * b(x) mod P(x), the top bit of T the highest coefficient.
template <typename T, T Poly>
constexpr T mul_mod(T a, T b)
{
    T r = 0;
    for (int i = 8 * sizeof(T) - 1; i >= 0; --i) {
        r = shift_bit<T, Poly>(r);
        if ((a >> i) & 1) {
            r = static_cast<T>(r ^ b);
        }
    }
    return r;
}

// Entry k: x^(8 * 2^k) mod P, by which feeding 2^k zero bytes multiplies the register.
template <typename T, T Poly>
constexpr std::array<T, 64> make_zero_powers()
{
    std::array<T, 64> p{};
    T x8 = 1;
    for (int k = 0; k < 8; ++k) {
        x8 = shift_bit<T, Poly>(x8);
    }
    p[0] = x8;
    for (std::size_t k = 1; k < p.size(); ++k) {
        p[k] = mul_mod<T, Poly>(p[k - 1], p[k - 1]);
    }
    return p;
}

template <typename T, T Poly>
inline constexpr std::array<T, 64> kZeroPowers = make_zero_powers<T, Poly>();

// The register after n more zero bytes.
template <typename T, T Poly>
constexpr T feed_zeros(T crc, std::uint64_t n)
{
    for (std::size_t k = 0; n != 0; ++k, n >>= 1) {
        if (n & 1) {
            crc = mul_mod<T, Poly>(crc, kZeroPowers<T, Poly>[k]);
        }
    }
    return crc;
}

}  // namespace crc
}  // namespace audio_stream

#endif
