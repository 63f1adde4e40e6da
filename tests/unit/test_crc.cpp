// The CRC machinery FLAC and Ogg share: table-driven updates equal the bitwise division, 8 bytes
// at a time equal one at a time, and feeding n zero bytes at once equals feeding them one by one.
#include "src/formats/crc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace audio_stream {
namespace {

using Byte = std::uint8_t;

// The register after the bytes, one bit at a time, as the polynomial division is written.
template <typename T>
T bitwise(T poly, const std::vector<Byte>& bytes)
{
    constexpr unsigned kBits = 8 * sizeof(T);
    std::uint64_t r = 0;
    for (Byte b : bytes) {
        r ^= std::uint64_t{b} << (kBits - 8);
        for (int k = 0; k < 8; ++k) {
            r = (r >> (kBits - 1) & 1) ? (r << 1) ^ poly : r << 1;
            r &= (kBits == 64 ? ~0ull : (1ull << kBits) - 1);
        }
    }
    return static_cast<T>(r);
}

template <typename T, T Poly>
T table_driven(const std::vector<Byte>& bytes)
{
    T r = 0;
    for (Byte b : bytes) {
        r = crc::update<T, Poly>(r, b);
    }
    return r;
}

std::vector<Byte> ramp(std::size_t n)
{
    std::vector<Byte> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<Byte>(i * 37 + 11);
    }
    return v;
}

TEST(Crc, TableDrivenEqualsBitwiseForEachWidth)
{
    for (const std::size_t n : {0u, 1u, 2u, 7u, 100u}) {
        const auto bytes = ramp(n);
        EXPECT_EQ((table_driven<std::uint8_t, 0x07>(bytes)), bitwise<std::uint8_t>(0x07, bytes)) << n;
        EXPECT_EQ((table_driven<std::uint16_t, 0x8005>(bytes)), bitwise<std::uint16_t>(0x8005, bytes)) << n;
        EXPECT_EQ((table_driven<std::uint32_t, 0x04C11DB7>(bytes)), bitwise<std::uint32_t>(0x04C11DB7, bytes)) << n;
    }
}

template <typename T, T Poly>
void expect_sliced_equals_bytewise()
{
    for (std::size_t n = 0; n < 40; ++n) {
        const auto bytes = ramp(n);
        for (const T start : {T{0}, static_cast<T>(0x5A), static_cast<T>(~T{0})}) {
            T r = start;
            for (Byte b : bytes) {
                r = crc::update<T, Poly>(r, b);
            }
            EXPECT_EQ((crc::update_bytes<T, Poly>(start, bytes.data(), n)), r) << n << " bytes from " << +start;
        }
    }
}

TEST(Crc, SlicedByEightEqualsByteAtATimeForEachWidthLengthAndStart)
{
    expect_sliced_equals_bytewise<std::uint8_t, 0x07>();
    expect_sliced_equals_bytewise<std::uint16_t, 0x8005>();
    expect_sliced_equals_bytewise<std::uint32_t, 0x04C11DB7>();
}

TEST(Crc, FeedingZerosEqualsFeedingZeroBytes)
{
    for (const std::size_t n : {0u, 1u, 3u, 64u, 1000u, 65536u}) {
        std::vector<Byte> bytes = ramp(5);
        const auto r16 = table_driven<std::uint16_t, 0x8005>(bytes);
        const auto r32 = table_driven<std::uint32_t, 0x04C11DB7>(bytes);
        bytes.resize(5 + n, 0);
        EXPECT_EQ((crc::feed_zeros<std::uint16_t, 0x8005>(r16, n)), (table_driven<std::uint16_t, 0x8005>(bytes))) << n;
        EXPECT_EQ((crc::feed_zeros<std::uint32_t, 0x04C11DB7>(r32, n)),
                  (table_driven<std::uint32_t, 0x04C11DB7>(bytes)))
            << n;
    }
}

}  // namespace
}  // namespace audio_stream
