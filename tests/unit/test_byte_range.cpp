// parse_range and resolve_ranges against RFC 9110 §14.1-14.3.
#include "src/byte_range.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using Status = ParsedRange::Status;

RangeSpec closed(Offset first, Offset last) { return {RangeSpec::Kind::Closed, first, last}; }
RangeSpec open(Offset first) { return {RangeSpec::Kind::Open, first, 0}; }
RangeSpec suffix(Offset length) { return {RangeSpec::Kind::Suffix, 0, length}; }

// "bytes=0-0,2-2,4-4,..." with `count` range-specs.
std::string many_specs(std::size_t count)
{
    std::string header = "bytes=";
    for (std::size_t i = 0; i < count; ++i) {
        header += (i ? "," : "") + std::to_string(2 * i) + "-" + std::to_string(2 * i);
    }
    return header;
}

std::vector<RangeSpec> many_closed(std::size_t count)
{
    std::vector<RangeSpec> specs;
    for (std::size_t i = 0; i < count; ++i) {
        specs.push_back(closed(2 * i, 2 * i));
    }
    return specs;
}

const std::string kFiveThousandDigits(5000, '9');

// ---------------------------------------------------------------------------------------------
// parse_range

struct ParseCase {
    const char* name;
    std::string header;
    std::size_t max_specs;
    Status status;
    std::vector<RangeSpec> specs;  // empty unless Ok
    friend void PrintTo(const ParseCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<ParseCase> parse_cases()
{
    return {
        // §14.1.1 range-spec forms.
        {"Rfc9110_14_1_1_IntRangeClosed", "bytes=0-499", 0, Status::Ok, {closed(0, 499)}},
        {"Rfc9110_14_1_1_IntRangeOpen", "bytes=9500-", 0, Status::Ok, {open(9500)}},
        {"Rfc9110_14_1_1_SuffixRange", "bytes=-500", 0, Status::Ok, {suffix(500)}},
        {"Rfc9110_14_1_1_FirstEqualsLastIsOneByte", "bytes=5-5", 0, Status::Ok, {closed(5, 5)}},
        {"Rfc9110_14_1_1_LeadingZerosAreDigits", "bytes=000-010", 0, Status::Ok, {closed(0, 10)}},
        {"Rfc9110_14_1_1_ZeroSuffixIsSyntacticallyValid", "bytes=-0", 0, Status::Ok, {suffix(0)}},
        {"Rfc9110_14_1_1_RangeSetKeepsOrderAndKinds", "bytes=500-600,601-999,-10,0-", 0,
         Status::Ok, {closed(500, 600), closed(601, 999), suffix(10), open(0)}},
        // §14.1: the range unit is case-insensitive.
        {"Rfc9110_14_1_RangeUnitCaseInsensitiveCapitalised", "Bytes=0-1", 0, Status::Ok,
         {closed(0, 1)}},
        {"Rfc9110_14_1_RangeUnitCaseInsensitiveUpper", "BYTES=0-1", 0, Status::Ok,
         {closed(0, 1)}},
        // §5.6.1.2: OWS around list items, empty list elements accepted and ignored.
        {"Rfc9110_5_6_1_2_OwsAroundListItems", "bytes= 0-1 ,\t2-3 ", 0, Status::Ok,
         {closed(0, 1), closed(2, 3)}},
        {"Rfc9110_5_6_1_2_EmptyLeadingListElementsIgnored", "bytes=, ,0-1", 0, Status::Ok,
         {closed(0, 1)}},
        {"Rfc9110_5_6_1_2_EmptyInnerAndTrailingElementsIgnored", "bytes=0-1,,2-3,", 0,
         Status::Ok, {closed(0, 1), closed(2, 3)}},
        // §14.2: anything that is not a bytes ranges-specifier is invalid (and ignored).
        {"Rfc9110_14_2_EmptyHeaderInvalid", "", 0, Status::Invalid, {}},
        {"Rfc9110_14_2_NoEqualsSignInvalid", "0-1", 0, Status::Invalid, {}},
        {"Rfc9110_14_2_UnitNamedWithoutEqualsInvalid", "bytes", 0, Status::Invalid, {}},
        {"Rfc9110_14_2_OtherRangeUnitInvalid", "items=0-1", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_EmptyRangeSetInvalid", "bytes=", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_OnlyEmptyElementsInvalid", "bytes=,", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_OnlyOwsAndCommasInvalid", "bytes= , ,", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_LoneDashInvalid", "bytes=-", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_LettersNotDigitsInvalid", "bytes=a-b", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_LastBeforeFirstInvalid", "bytes=5-1", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_TwoDashesInSpecInvalid", "bytes=1-2-3", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_NegativeSuffixInvalid", "bytes=--1", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_PlusSignInvalid", "bytes=+1-2", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_PlusSignOnLastInvalid", "bytes=1-+2", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_ParameterAfterSpecInvalid", "bytes=0-1;x", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_SpacesInsideSpecInvalid", "bytes=0 - 1", 0, Status::Invalid, {}},
        {"Rfc9110_14_1_1_NoDashInvalid", "bytes=5", 0, Status::Invalid, {}},
        {"Rfc9110_14_2_OneBadSpecInvalidatesTheHeader", "bytes=0-1,x-y", 0, Status::Invalid,
         {}},
        // §14.1.1 puts no bound on 1*DIGIT: huge numbers saturate at kHuge, never wrap.
        {"Rfc9110_14_1_1_FiveThousandDigitFirstPosSaturates", "bytes=" + kFiveThousandDigits + "-",
         0, Status::Ok, {open(kHuge)}},
        {"Rfc9110_14_1_1_FiveThousandDigitLastPosSaturates",
         "bytes=0-" + kFiveThousandDigits, 0, Status::Ok, {closed(0, kHuge)}},
        {"Rfc9110_14_1_1_FiveThousandDigitSuffixSaturates", "bytes=-" + kFiveThousandDigits, 0,
         Status::Ok, {suffix(kHuge)}},
        {"Rfc9110_14_1_1_LargestUint64IsExact", "bytes=18446744073709551614-", 0, Status::Ok,
         {open(kHuge - 1)}},
        {"Rfc9110_14_1_1_OneAboveUint64Saturates", "bytes=18446744073709551616-", 0, Status::Ok,
         {open(kHuge)}},
        {"Rfc9110_14_1_1_SaturatedFirstAndLastStillOrdered",
         "bytes=" + kFiveThousandDigits + "-" + kFiveThousandDigits, 0, Status::Ok,
         {closed(kHuge, kHuge)}},
        // §14.2 lets a server ignore a Range with too many parts: the cap is max_specs.
        {"Rfc9110_14_2_ExactlyMaxSpecsAccepted", "bytes=0-1,3-4,6-7", 3, Status::Ok,
         {closed(0, 1), closed(3, 4), closed(6, 7)}},
        {"Rfc9110_14_2_OneMoreThanMaxSpecsIsTooMany", "bytes=0-1,3-4,6-7,9-10", 3,
         Status::TooMany, {}},
        {"Rfc9110_14_2_MaxOneAcceptsSingleSpec", "bytes=0-", 1, Status::Ok, {open(0)}},
        {"Rfc9110_14_2_MaxOneRefusesTwoSpecs", "bytes=0-1,-1", 1, Status::TooMany, {}},
        {"Rfc9110_14_2_EmptyElementsDoNotCountTowardsMax", "bytes=,0-1,,3-4,", 2, Status::Ok,
         {closed(0, 1), closed(3, 4)}},
        {"Rfc9110_14_2_MaxZeroIsUnlimited", many_specs(1000), 0, Status::Ok, many_closed(1000)},
        {"Rfc9110_14_2_TooManyBoundsTheWork", many_specs(1000), 200, Status::TooMany, {}},
    };
}

class ParseRangeTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseRangeTest, ParsesExactly)
{
    const ParseCase& c = GetParam();
    const ParsedRange parsed = parse_range(c.header, c.max_specs);
    EXPECT_EQ(parsed.status, c.status);
    EXPECT_EQ(parsed.specs, c.specs);
}

INSTANTIATE_TEST_SUITE_P(ByteRange, ParseRangeTest, ::testing::ValuesIn(parse_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// resolve_ranges

struct ResolveCase {
    const char* name;
    std::vector<RangeSpec> specs;
    Offset length;
    bool satisfiable;
    std::vector<ByteRange> ranges;
    friend void PrintTo(const ResolveCase& c, std::ostream* os) { *os << c.name; }
};

// n overlapping ranges [2i, 2i+5], asked last-first so that sorting is needed too.
std::vector<RangeSpec> overlapping_descending(std::size_t n)
{
    std::vector<RangeSpec> specs;
    for (std::size_t i = n; i-- > 0;) {
        specs.push_back(closed(2 * i, 2 * i + 5));
    }
    return specs;
}

std::vector<ResolveCase> resolve_cases()
{
    return {
        // §14.1.2: int-range.
        {"Rfc9110_14_1_2_ClosedRangeInsideFile", {closed(0, 499)}, 10000, true, {{0, 499}}},
        {"Rfc9110_14_1_2_LastByteOnly", {closed(9999, 9999)}, 10000, true, {{9999, 9999}}},
        {"Rfc9110_14_1_2_LastPosAtEndKept", {closed(5, 9)}, 10, true, {{5, 9}}},
        {"Rfc9110_14_1_2_LastPosPastEndClipped", {closed(0, 99999)}, 1000, true, {{0, 999}}},
        {"Rfc9110_14_1_2_HugeLastPosClipped", {closed(3, kHuge)}, 10, true, {{3, 9}}},
        {"Rfc9110_14_1_2_OpenRangeRunsToEnd", {open(9500)}, 10000, true, {{9500, 9999}}},
        {"Rfc9110_14_1_2_OpenRangeFromZeroSelectsAll", {open(0)}, 10, true, {{0, 9}}},
        {"Rfc9110_14_1_2_FirstPosEqualToLengthUnsatisfiable", {closed(10, 20)}, 10, false, {}},
        {"Rfc9110_14_1_2_OpenFirstPosEqualToLengthUnsatisfiable", {open(10)}, 10, false, {}},
        {"Rfc9110_14_1_2_FirstPosPastLengthUnsatisfiable", {closed(11, 12)}, 10, false, {}},
        {"Rfc9110_14_1_2_HugeFirstPosUnsatisfiable", {open(kHuge)}, 10, false, {}},
        {"Rfc9110_14_1_2_HugeClosedRangeUnsatisfiable", {closed(kHuge, kHuge)}, 10, false, {}},
        // §14.1.2: suffix-range.
        {"Rfc9110_14_1_2_SuffixSelectsLastBytes", {suffix(500)}, 10000, true, {{9500, 9999}}},
        {"Rfc9110_14_1_2_SuffixOfOneIsLastByte", {suffix(1)}, 10, true, {{9, 9}}},
        {"Rfc9110_14_1_2_SuffixEqualToFileSelectsAll", {suffix(10)}, 10, true, {{0, 9}}},
        {"Rfc9110_14_1_2_SuffixLongerThanFileSelectsAll", {suffix(20000)}, 10000, true,
         {{0, 9999}}},
        {"Rfc9110_14_1_2_HugeSuffixSelectsAll", {suffix(kHuge)}, 10, true, {{0, 9}}},
        {"Rfc9110_14_1_2_ZeroSuffixUnsatisfiable", {suffix(0)}, 10, false, {}},
        // §14.1.2: a zero-length representation has no satisfiable range at all.
        {"Rfc9110_14_1_2_EmptyRepresentationClosedUnsatisfiable", {closed(0, 0)}, 0, false, {}},
        {"Rfc9110_14_1_2_EmptyRepresentationOpenUnsatisfiable", {open(0)}, 0, false, {}},
        {"Rfc9110_14_1_2_EmptyRepresentationSuffixUnsatisfiable", {suffix(1)}, 0, false, {}},
        // §14.1.2: the set is satisfiable if any one range-spec is.
        {"Rfc9110_14_1_2_MixedSetKeepsSatisfiableOnes",
         {closed(0, 4), open(100), suffix(0), closed(12, 15), closed(20, 30)}, 20, true,
         {{0, 4}, {12, 15}}},
        {"Rfc9110_14_1_2_AllUnsatisfiableIsUnsatisfiable", {open(20), suffix(0), closed(25, 30)},
         20, false, {}},
        // §14.3: the server may coalesce overlapping or adjacent ranges, regardless of order.
        {"Rfc9110_14_3_OverlappingCoalesced", {closed(0, 9), closed(5, 14)}, 100, true,
         {{0, 14}}},
        {"Rfc9110_14_3_AdjacentCoalesced", {closed(0, 9), closed(10, 19)}, 100, true, {{0, 19}}},
        {"Rfc9110_14_3_SeparatedByOneByteKeptApart", {closed(0, 9), closed(11, 19)}, 100, true,
         {{0, 9}, {11, 19}}},
        {"Rfc9110_14_3_ContainedRangeAbsorbed", {closed(0, 99), closed(10, 20)}, 1000, true,
         {{0, 99}}},
        {"Rfc9110_14_3_DuplicatesCoalesced", {closed(5, 9), closed(5, 9)}, 100, true, {{5, 9}}},
        {"Rfc9110_14_3_ReversedOrderSorted", {closed(50, 59), closed(20, 29), closed(0, 9)}, 100,
         true, {{0, 9}, {20, 29}, {50, 59}}},
        {"Rfc9110_14_3_SuffixAdjacentToClosedCoalesced", {closed(0, 4), suffix(5)}, 10, true,
         {{0, 9}}},
        {"Rfc9110_14_3_ClippedRangeCoalesced", {closed(8, kHuge), closed(0, 5), open(3)}, 10, true,
         {{0, 9}}},
        {"Rfc9110_14_3_ThreeHundredOverlappingRangesBecomeOne", overlapping_descending(300), 10000,
         true, {{0, 603}}},
    };
}

class ResolveRangesTest : public ::testing::TestWithParam<ResolveCase> {};

TEST_P(ResolveRangesTest, ResolvesExactly)
{
    const ResolveCase& c = GetParam();
    const ResolvedRanges resolved = resolve_ranges(c.specs, c.length);
    EXPECT_EQ(resolved.satisfiable, c.satisfiable);
    EXPECT_EQ(resolved.ranges, c.ranges);
}

INSTANTIATE_TEST_SUITE_P(ByteRange, ResolveRangesTest, ::testing::ValuesIn(resolve_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// ByteRange::length is inclusive on both ends (§14.1.2: "bytes=0-0" is one byte).
TEST(ByteRangeLength, Rfc9110_14_1_2_InclusiveBounds)
{
    EXPECT_EQ((ByteRange{0, 0}.length()), 1u);
    EXPECT_EQ((ByteRange{0, 499}.length()), 500u);
    EXPECT_EQ((ByteRange{9500, 9999}.length()), 500u);
}

}  // namespace
}  // namespace audio_stream
