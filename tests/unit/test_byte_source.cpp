// MemorySource: the ByteSource the unit tests and fuzz targets read files through; and the
// request's budget every ByteSource counts.
#include "src/byte_source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace audio_stream {
namespace {

struct ReadCase {
    const char* name;
    Offset offset;
    std::size_t len;
    bool ok;
    const char* bytes;  // what lands in the buffer when ok
};

const ReadCase kReads[] = {
    {"WholeSource", 0, 6, true, "abcdef"},
    {"Middle", 2, 3, true, "cde"},
    {"EndsAtTheEnd", 4, 2, true, "ef"},
    {"PastTheEnd", 4, 3, false, ""},
    {"StartsPastTheEnd", 7, 1, false, ""},
    {"HugeOffsetDoesNotWrap", ~Offset{0}, 1, false, ""},
    {"HugeLengthDoesNotWrap", 1, ~std::size_t{0}, false, ""},
    // Found by the FLAC fuzz target (UBSan): a zero-length read into an empty vector passed
    // memcpy a null pointer.
    {"EmptyReadAtTheEndIntoNull", 6, 0, true, ""},
    {"EmptyReadPastTheEnd", 7, 0, false, ""},
};

class MemorySourceRead : public ::testing::TestWithParam<ReadCase> {};

TEST_P(MemorySourceRead, ReadsExactlyOrFails)
{
    const ReadCase& c = GetParam();
    MemorySource src("abcdef");
    src.set_budget(kNoBudget);  // the bounds of the bytes, not the budget's
    EXPECT_EQ(src.size(), 6u);
    std::vector<char> buf(c.ok ? c.len : 0);
    EXPECT_EQ(src.read(c.offset, buf.data(), c.len), c.ok);
    EXPECT_EQ(std::string(buf.begin(), buf.end()), c.bytes);
}

INSTANTIATE_TEST_SUITE_P(ByteSource, MemorySourceRead, ::testing::ValuesIn(kReads),
                         [](const auto& info) { return std::string(info.param.name); });

// The budget message when `spend` throws, or "" when it does not.
template <typename Spend>
std::string spent_past(Spend&& spend)
{
    try {
        spend();
    }
    catch (const BudgetSpent& b) {
        return b.detail;
    }
    return "";
}

TEST(ParseBudget, EachOfReadsBytesAndStepsStopsAtItsLimit)
{
    const std::string bytes(100, 'x');
    char buf[100];
    MemorySource reads(bytes);
    reads.set_budget({3, 1000, 1000});
    EXPECT_EQ(spent_past([&] {
                  for (int i = 0; i < 3; ++i) {
                      ASSERT_TRUE(reads.read(0, buf, 1));
                  }
              }),
              "");
    EXPECT_EQ(spent_past([&] { reads.read(0, buf, 1); }), "over the request's budget of 3 reads");
    MemorySource read_bytes(bytes);
    read_bytes.set_budget({1000, 150, 1000});
    EXPECT_EQ(spent_past([&] { read_bytes.read(0, buf, 100); }), "");
    EXPECT_EQ(spent_past([&] { read_bytes.read(0, buf, 51); }), "over the request's budget of 150 bytes read");
    MemorySource steps(bytes);
    steps.set_budget({1000, 1000, 10});
    EXPECT_EQ(spent_past([&] { steps.step(10); }), "");
    EXPECT_EQ(spent_past([&] { steps.step(); }), "over the request's budget of 10 steps");
    EXPECT_EQ(steps.spent().steps, 11u);
}

// Steps are the tables a parser holds, the same whatever span it cuts: only they make the
// verdict the file's (Cut::whole_file).
TEST(ParseBudget, OnlyStepsSpentAreAVerdictOnTheWholeFile)
{
    const std::string bytes(100, 'x');
    char buf[100];
    const auto whole_file = [](auto&& spend) {
        try {
            spend();
        }
        catch (const BudgetSpent& b) {
            return b.whole_file;
        }
        ADD_FAILURE() << "nothing spent past the budget";
        return false;
    };
    MemorySource reads(bytes);
    reads.set_budget({1, 1000, 1000});
    EXPECT_FALSE(whole_file([&] { reads.read(0, buf, 1), reads.read(0, buf, 1); }));
    MemorySource read_bytes(bytes);
    read_bytes.set_budget({1000, 10, 1000});
    EXPECT_FALSE(whole_file([&] { read_bytes.read(0, buf, 11); }));
    MemorySource steps(bytes);
    steps.set_budget({1000, 1000, 10});
    EXPECT_TRUE(whole_file([&] { steps.step(11); }));
}

TEST(ParseBudget, AHugeLengthSpendsTheBytesBudgetWithoutWrapping)
{
    MemorySource src("abcdef");
    char buf[1];
    EXPECT_EQ(spent_past([&] { src.read(1, buf, ~std::size_t{0}); }),
              "over the request's budget of " + std::to_string(kRequestBudget.bytes) + " bytes read");
    EXPECT_EQ(src.spent().bytes, ~std::uint64_t{0});
}

TEST(ParseBudget, AnIndexBuildSpendsNothingWhileItsScopeLives)
{
    const std::string bytes(100, 'x');
    char buf[100];
    MemorySource src(bytes);
    src.set_budget({2, 1000, 1000});
    {
        const ByteSource::Unbudgeted outer(src);
        const ByteSource::Unbudgeted inner(src);
        for (int i = 0; i < 10; ++i) {
            ASSERT_TRUE(src.read(0, buf, 10));
        }
    }
    EXPECT_EQ(src.spent().reads, 0u);
    EXPECT_EQ(spent_past([&] { src.read(0, buf, 1); src.read(0, buf, 1); }), "");
    EXPECT_EQ(spent_past([&] { src.read(0, buf, 1); }), "over the request's budget of 2 reads");
}

}  // namespace
}  // namespace audio_stream
