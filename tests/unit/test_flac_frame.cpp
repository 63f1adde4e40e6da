// flac_frame: the CRCs of RFC 9639 and the frame-header rewrite, checked against bitwise
// computation straight from the polynomials.
#include "src/formats/flac/frame.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace audio_stream {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Bit by bit, MSB first, initial 0, no final xor: RFC 9639 §9.1.8 and §9.3 as written.
std::uint8_t bitwise_crc8(const Bytes& m)
{
    unsigned r = 0;
    for (const auto byte : m) {
        r ^= byte;
        for (int k = 0; k < 8; ++k) {
            r = (r & 0x80) ? ((r << 1) ^ 0x07) & 0xFF : (r << 1) & 0xFF;
        }
    }
    return static_cast<std::uint8_t>(r);
}

std::uint16_t bitwise_crc16(const Bytes& m)
{
    unsigned r = 0;
    for (const auto byte : m) {
        r ^= unsigned{byte} << 8;
        for (int k = 0; k < 8; ++k) {
            r = (r & 0x8000) ? ((r << 1) ^ 0x8005) & 0xFFFF : (r << 1) & 0xFFFF;
        }
    }
    return static_cast<std::uint16_t>(r);
}

Bytes random_bytes(std::mt19937& random, std::size_t n)
{
    Bytes b(n);
    for (auto& x : b) {
        x = static_cast<std::uint8_t>(random());
    }
    return b;
}

TEST(FlacCrc, Rfc9639_9_1_8_Crc8OfTheCheckString)
{
    const std::string check = "123456789";  // CRC-8/SMBUS check value
    EXPECT_EQ(flac::crc8(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()), 0xF4);
}

TEST(FlacCrc, Rfc9639_9_3_Crc16OfTheCheckString)
{
    const std::string check = "123456789";  // CRC-16/UMTS (BUYPASS) check value
    EXPECT_EQ(flac::crc16(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()), 0xFEE8);
}

TEST(FlacCrc, TablesEqualBitwiseAndContinue)
{
    std::mt19937 random(3);
    for (std::size_t n : {0u, 1u, 2u, 15u, 16u, 1000u}) {
        const Bytes m = random_bytes(random, n);
        EXPECT_EQ(flac::crc8(m.data(), m.size()), bitwise_crc8(m)) << n;
        EXPECT_EQ(flac::crc16(m.data(), m.size()), bitwise_crc16(m)) << n;
        // Continued over two pieces, as the cutter feeds chunks.
        const std::size_t half = n / 2;
        EXPECT_EQ(flac::crc16(m.data() + half, n - half, flac::crc16(m.data(), half)), bitwise_crc16(m)) << n;
    }
}

TEST(FlacCrc, ZerosInLogTimeEqualFeedingZeros)
{
    std::mt19937 random(5);
    for (std::uint64_t n : {0u, 1u, 2u, 3u, 7u, 8u, 255u, 256u, 4095u, 65535u, 65536u, 65537u, 1000003u, 16777216u}) {
        const auto crc = static_cast<std::uint16_t>(random());
        const Bytes zeros(n, 0);
        EXPECT_EQ(flac::crc16_zeros(crc, n), flac::crc16(zeros.data(), zeros.size(), crc)) << n;
    }
}

// A message followed by its own CRC-16 (big-endian) leaves the register at 0: where a frame ends.
Bytes with_crc16(Bytes m)
{
    const std::uint16_t crc = bitwise_crc16(m);
    m.push_back(static_cast<std::uint8_t>(crc >> 8));
    m.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    return m;
}

TEST(FlacCrc, ToZeroStopsJustAfterTheFirstZeroPastQuiet)
{
    std::mt19937 random(11);
    const Bytes first = with_crc16(random_bytes(random, 40));  // zero after byte 42
    Bytes both = first;
    const Bytes tail = random_bytes(random, 30);
    both.insert(both.end(), tail.begin(), tail.end());
    both = with_crc16(both);  // zero again after byte 74
    std::uint16_t crc = 0;
    EXPECT_EQ(flac::crc16_to_zero(both.data(), both.size(), crc, 0), 42u);
    EXPECT_EQ(crc, 0);
    // A quiet prefix ignores the zero inside it; the same zero at quiet's last byte counts.
    crc = 0;
    EXPECT_EQ(flac::crc16_to_zero(both.data(), both.size(), crc, 43), 74u);
    EXPECT_EQ(crc, 0);
    crc = 0;
    EXPECT_EQ(flac::crc16_to_zero(both.data(), both.size(), crc, 42), 42u);
    // Continued from a register over a split: the same stop, counted from the split.
    crc = flac::crc16(both.data(), 10);
    EXPECT_EQ(flac::crc16_to_zero(both.data() + 10, both.size() - 10, crc, 0), 32u);
    EXPECT_EQ(crc, 0);
}

TEST(FlacCrc, ToZeroWithoutAZeroTakesEverythingAndContinuesTheCrc)
{
    std::mt19937 random(13);
    for (std::size_t n : {0u, 1u, 17u, 500u}) {
        Bytes m = random_bytes(random, n);
        std::uint16_t crc = 0;
        std::size_t used = flac::crc16_to_zero(m.data(), m.size(), crc, m.size() + 1);
        EXPECT_EQ(used, n);
        EXPECT_EQ(crc, bitwise_crc16(m)) << n;
    }
}

TEST(FlacCrc, RenumberedCrc16EqualsTheDirectOneWhateverTheHeaderLengths)
{
    std::mt19937 random(9);
    for (int round = 0; round < 400; ++round) {
        const Bytes old_header = random_bytes(random, 6 + random() % 11);
        const Bytes new_header = random_bytes(random, 6 + random() % 11);
        const Bytes body = random_bytes(random, round < 8 ? static_cast<std::size_t>(round) : random() % 20000);
        Bytes old_frame = old_header;
        old_frame.insert(old_frame.end(), body.begin(), body.end());
        Bytes new_frame = new_header;
        new_frame.insert(new_frame.end(), body.begin(), body.end());
        EXPECT_EQ(flac::renumbered_crc16(bitwise_crc16(old_frame), old_header.data(), old_header.size(),
                                         new_header.data(), new_header.size(), body.size()),
                  bitwise_crc16(new_frame))
            << "round " << round;
    }
}

// RFC 9639 §9.1.5 read back independently: lead byte ones count the length.
std::uint64_t decode_number(const std::uint8_t* p, std::size_t& length)
{
    if (p[0] < 0x80) {
        length = 1;
        return p[0];
    }
    length = 0;
    while (length < 8 && (p[0] << length) & 0x80) {
        ++length;
    }
    std::uint64_t v = length == 7 ? 0 : p[0] & (0x7F >> length);
    for (std::size_t i = 1; i < length; ++i) {
        EXPECT_EQ(p[i] & 0xC0, 0x80);
        v = v << 6 | (p[i] & 0x3F);
    }
    return v;
}

TEST(FlacHeader, Rfc9639_9_1_5_CodedNumberLengthsAtEveryBoundary)
{
    const struct {
        std::uint64_t number;
        std::size_t length;
    } cases[] = {
        {0, 1}, {0x7F, 1}, {0x80, 2}, {0x7FF, 2}, {0x800, 3}, {0xFFFF, 3}, {0x10000, 4},
        {(1u << 21) - 1, 4}, {1u << 21, 5}, {(1u << 26) - 1, 5}, {1u << 26, 6}, {(1ull << 31) - 1, 6},
        {1ull << 31, 7}, {(1ull << 36) - 1, 7},
    };
    for (const auto& c : cases) {
        std::uint8_t out[7];
        ASSERT_EQ(flac::put_coded_number(c.number, out), c.length) << c.number;
        std::size_t read = 0;
        EXPECT_EQ(decode_number(out, read), c.number);
        EXPECT_EQ(read, c.length) << c.number;
    }
    std::uint8_t out[7];
    EXPECT_EQ(flac::put_coded_number(1ull << 36, out), 0u);
}

// A variable-blocksize header (RFC 9639 §9.1): sync + strategy bit 1, block size code 12 (4096),
// rate code 9 (44.1 kHz), stereo, 16 bits, a 7-byte sample number, then the CRC-8.
Bytes variable_header(std::uint64_t sample)
{
    Bytes h = {0xFF, 0xF9, 0xC9, 0x18};
    std::uint8_t coded[7];
    const std::size_t n = flac::put_coded_number(sample, coded);
    h.insert(h.end(), coded, coded + n);
    h.push_back(bitwise_crc8(h));
    return h;
}

TEST(FlacHeader, Rfc9639_9_1_RenumberingAVariableBlocksizeHeaderShrinksItAndRecomputesCrc8)
{
    const Bytes old_header = variable_header((1ull << 35) + 4096);  // 7-byte sample number
    ASSERT_EQ(old_header.size(), 12u);
    const std::string renumbered = flac::renumbered_header(old_header.data(), old_header.size(), 7, 4096);
    const Bytes expected = variable_header(4096);  // 3 bytes: E1 80 80
    EXPECT_EQ(Bytes(renumbered.begin(), renumbered.end()), expected);
    EXPECT_EQ(expected.size(), 8u);
    EXPECT_EQ(expected[4], 0xE1);
}

TEST(FlacHeader, Rfc9639_9_1_RenumberingAFixedBlocksizeHeaderKeepsTheFieldsAfterTheNumber)
{
    // Frame 200 (2 bytes), block size code 7 (16-bit size - 1 follows), rate code 12 (kHz byte).
    Bytes h = {0xFF, 0xF8, 0x7C, 0x08, 0xC3, 0x88, 0x11, 0xFF, 0x30};
    h.push_back(bitwise_crc8(h));
    const std::string r = flac::renumbered_header(h.data(), h.size(), 2, 5);
    Bytes expected = {0xFF, 0xF8, 0x7C, 0x08, 0x05, 0x11, 0xFF, 0x30};
    expected.push_back(bitwise_crc8(expected));
    EXPECT_EQ(Bytes(r.begin(), r.end()), expected);
}

TEST(FlacHeader, NumberTooLargeForTheFieldGivesNothing)
{
    const Bytes h = variable_header(0);
    EXPECT_TRUE(flac::renumbered_header(h.data(), h.size(), 1, 1ull << 36).empty());
}

}  // namespace
}  // namespace audio_stream
