// The formats' shared toolbox: the one samples/time conversion and its overflow policy, the
// byte-order readers and writers, the refused cuts.
#include "src/formats/toolbox.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <new>

#include "src/time_param.h"

namespace audio_stream {
namespace {

constexpr Micros kMaxMicros = std::numeric_limits<Micros>::max();
constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// ---- sample_at: floor(t * rate / 1e6) ----------------------------------------------------------

TEST(SampleAt, FloorOfTTimesRate)
{
    EXPECT_EQ(sample_at(0, 44100), 0u);
    EXPECT_EQ(sample_at(1000000, 44100), 44100u);
    EXPECT_EQ(sample_at(1500000, 11025), 16537u);  // 16537.5: the sample holding t
    EXPECT_EQ(sample_at(22, 44100), 0u);           // 0.97 of a sample
    EXPECT_EQ(sample_at(23, 44100), 1u);
    EXPECT_EQ(sample_at(999999, 1), 0u);
}

TEST(SampleAt, NegativeTimeCountsAsZero)
{
    EXPECT_EQ(sample_at(-1, 48000), 0u);
    EXPECT_EQ(sample_at(std::numeric_limits<Micros>::min(), 48000), 0u);
}

TEST(SampleAt, ExactUpToTheLargestTimeAccepted)
{
    // kMaxTime is whole seconds: the product needs more than 64 bits on the way, never after.
    EXPECT_EQ(sample_at(kMaxTime, 655350), std::uint64_t{100000} * 3600 * 655350);
    EXPECT_EQ(sample_at(kMaxTime + 999999, 1000000), static_cast<std::uint64_t>(kMaxTime) + 999999);
}

TEST(SampleAt, Overflow_SaturatesPastSixtyFourBits)
{
    EXPECT_EQ(sample_at(kMaxMicros, 0xFFFFFFFFu), kMaxU64);
    EXPECT_EQ(sample_at(kMaxMicros, 1000000), static_cast<std::uint64_t>(kMaxMicros));  // just fits
}

// ---- samples_before: ceil(t * rate / 1e6) ----------------------------------------------------

TEST(SamplesBefore, CeilingOfTTimesRate)
{
    EXPECT_EQ(samples_before(0, 44100), 0u);
    EXPECT_EQ(samples_before(1000000, 44100), 44100u);     // on the grid: exactly
    EXPECT_EQ(samples_before(1500000, 11025), 16538u);     // 16537.5: the sample holding t starts before it
    EXPECT_EQ(samples_before(1, 44100), 1u);
    EXPECT_EQ(samples_before(-5, 44100), 0u);
    EXPECT_EQ(samples_before(kMaxMicros, 0xFFFFFFFFu), kMaxU64);
    // A clip to t then ends on a sample boundary at or after t, less than a sample later.
    for (Micros t : {Micros{1}, Micros{22}, Micros{23}, Micros{999999}, Micros{1234567}}) {
        const auto n = samples_before(t, 44100);
        EXPECT_GE(samples_to_micros(n, 44100), t);
        EXPECT_LT(samples_to_micros(n, 44100), t + 23);
    }
}

// ---- samples_to_micros: floor(samples * 1e6 / rate) -------------------------------------------

TEST(SamplesToMicros, FloorOfSamplesOverRate)
{
    EXPECT_EQ(samples_to_micros(0, 44100), 0);
    EXPECT_EQ(samples_to_micros(44100, 44100), 1000000);
    EXPECT_EQ(samples_to_micros(1, 44100), 22);  // 22.67
    EXPECT_EQ(samples_to_micros(16537, 11025), 1499954);
}

TEST(SamplesToMicros, InvertsSampleAtOnTheSampleGrid)
{
    for (const std::uint32_t rate : {8000u, 11025u, 44100u, 48000u, 96000u}) {
        for (std::uint64_t s : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{12345}, std::uint64_t{1} << 36}) {
            EXPECT_EQ(sample_at(samples_to_micros(s, rate), rate), s == 0 ? 0 : s - (s * 1000000 % rate != 0))
                << s << " at " << rate;
            EXPECT_LE(sample_at(samples_to_micros(s, rate), rate), s);
        }
    }
}

TEST(SamplesToMicros, Overflow_SaturatesAtTheLargestTime)
{
    EXPECT_EQ(samples_to_micros(kMaxU64, 1), kMaxMicros);
    EXPECT_EQ(samples_to_micros(kMaxU64, 48000), kMaxMicros);
    EXPECT_EQ(samples_to_micros(std::uint64_t{1} << 63, 1000000), kMaxMicros);  // 2^63 µs: one past
    EXPECT_EQ(samples_to_micros((std::uint64_t{1} << 63) - 1, 1000000), kMaxMicros);
    EXPECT_EQ(samples_to_micros(std::uint64_t{1} << 62, 1000000), Micros{1} << 62);
}

TEST(SamplesToMicros, ZeroRateIsZero)
{
    EXPECT_EQ(samples_to_micros(12345, 0), 0);
}

// ---- endian readers and writers ----------------------------------------------------------------

const Byte kBytes[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};

TEST(Endian, BigEndianReaders)
{
    EXPECT_EQ(be16(kBytes), 0x0123u);
    EXPECT_EQ(be24(kBytes), 0x012345u);
    EXPECT_EQ(be32(kBytes), 0x01234567u);
    EXPECT_EQ(be64(kBytes), 0x0123456789ABCDEFull);
    EXPECT_EQ(be(kBytes + 3, 5), 0x6789ABCDEFull);
    EXPECT_EQ(be(kBytes, 0), 0u);
}

TEST(Endian, LittleEndianReaders)
{
    EXPECT_EQ(le16(kBytes), 0x2301u);
    EXPECT_EQ(le32(kBytes), 0x67452301u);
    EXPECT_EQ(le64(kBytes), 0xEFCDAB8967452301ull);
    EXPECT_EQ(le(kBytes, 3), 0x452301u);
    EXPECT_EQ(le(kBytes, 0), 0u);
}

TEST(Endian, HighBitsAreNotSignExtended)
{
    const Byte ff[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    EXPECT_EQ(be32(ff), 0xFFFFFFFFu);
    EXPECT_EQ(le32(ff), 0xFFFFFFFFu);
    EXPECT_EQ(be64(ff), kMaxU64);
    EXPECT_EQ(le64(ff), kMaxU64);
}

TEST(Endian, WritersWriteTheLowBytesAndReadersReadThemBack)
{
    Byte b[8] = {};
    put_be(b, 3, 0xAABBCCDDu);
    EXPECT_EQ(b[0], 0xBB);
    EXPECT_EQ(b[2], 0xDD);
    EXPECT_EQ(be24(b), 0xBBCCDDu);
    put_le(b, 3, 0xAABBCCDDu);
    EXPECT_EQ(b[0], 0xDD);
    EXPECT_EQ(le(b, 3), 0xBBCCDDu);
    put_be32(b, 0xDEADBEEF);
    EXPECT_EQ(be32(b), 0xDEADBEEFu);
    put_le32(b, 0xDEADBEEF);
    EXPECT_EQ(le32(b), 0xDEADBEEFu);
    put_be(b, 8, 0x0123456789ABCDEFull);
    EXPECT_EQ(be64(b), 0x0123456789ABCDEFull);
    put_le(b, 8, 0x0123456789ABCDEFull);
    EXPECT_EQ(le64(b), 0x0123456789ABCDEFull);
}

// ID3v2 §6.2: 7 bits a byte; the high bits are not part of the size.
TEST(Endian, Id3v2_SyncsafeIntegers)
{
    const Byte max[4] = {0x7F, 0x7F, 0x7F, 0x7F};
    const Byte one_two_eight[4] = {0x00, 0x00, 0x01, 0x00};
    const Byte high[4] = {0x80, 0x80, 0x80, 0x81};
    EXPECT_EQ(syncsafe32(max), 0x0FFFFFFFu);
    EXPECT_EQ(syncsafe32(one_two_eight), 128u);
    EXPECT_EQ(syncsafe32(high), 1u);
}

// ---- refused cuts ------------------------------------------------------------------------------

// The one error idiom: a Refusal thrown at any depth is the entry point's Cut of that status
// (moved here from the value-returning malformed() and past_end() it replaces).
TEST(RefusedCut, MalformedCarriesItsDetailAndNoExtents)
{
    const Cut cut = as_cut([]() -> Cut { refuse_malformed("not a FLAC stream"); });
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_EQ(cut.detail, "not a FLAC stream");
    EXPECT_TRUE(cut.rep.extents.empty());
    EXPECT_EQ(cut.rep.length, 0u);
    EXPECT_TRUE(cut.whole_file);  // whatever the span
}

TEST(RefusedCut, UnsupportedCarriesItsDetail)
{
    const Cut cut = as_cut([]() -> Cut { refuse_unsupported("a video track"); });
    EXPECT_EQ(cut.status, Cut::Status::Unsupported);
    EXPECT_EQ(cut.detail, "a video track");
    EXPECT_TRUE(cut.whole_file);
}

TEST(RefusedCut, PastEndHasNoExtents)
{
    const Cut cut = as_cut([]() -> Cut { refuse_past_end(); });
    EXPECT_EQ(cut.status, Cut::Status::PastEnd);
    EXPECT_TRUE(cut.detail.empty());
    EXPECT_TRUE(cut.rep.extents.empty());
    EXPECT_FALSE(cut.whole_file);  // another START may be inside the audio
}

TEST(RefusedCut, AnOkCutPassesThroughAndOtherExceptionsAreNotCaught)
{
    Cut ok;
    ok.status = Cut::Status::Ok;
    ok.start = 7;
    EXPECT_EQ(as_cut([&] { return ok; }).start, 7);
    EXPECT_THROW(as_cut([]() -> Cut { throw std::bad_alloc(); }), std::bad_alloc);
}

TEST(RefusedCut, ParsesSaysWhetherTheReadWasRefused)
{
    int steps = 0;
    EXPECT_TRUE(parses([&] { ++steps; }));
    EXPECT_FALSE(parses([&] {
        ++steps;
        refuse_malformed("short");
    }));
    EXPECT_EQ(steps, 2);
    EXPECT_FALSE(parses([] { throw BudgetSpent{"over"}; }));
}

TEST(RefusedCut, ASpentBudgetIsAnOverBudgetCutNamingTheBudget)
{
    MemorySource src("abc");
    src.set_budget({1, 100, 100});
    char b;
    const Cut cut = as_cut([&]() -> Cut {
        src.read(0, &b, 1);
        src.read(1, &b, 1);
        refuse_malformed("never reached");
    });
    EXPECT_EQ(cut.status, Cut::Status::OverBudget);
    EXPECT_EQ(cut.detail, "over the request's budget of 1 reads");
    EXPECT_FALSE(cut.whole_file);  // reads depend on where the walk starts
}

TEST(RefusedCut, AFormatsCapIsForItsSpanOnly)
{
    const Cut cut = as_cut([]() -> Cut { refuse_over_budget("more than 262144 pages"); });
    EXPECT_EQ(cut.status, Cut::Status::OverBudget);
    EXPECT_FALSE(cut.whole_file);
}

}  // namespace
}  // namespace audio_stream
