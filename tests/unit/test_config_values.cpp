// Directive arguments: AudioStreamPieceSize (parse_size), AudioStreamPieceScope (parse_scope),
// AudioStreamMaxRanges (parse_max_ranges), AudioStreamReadThreshold (parse_read_threshold),
// AudioStreamSnapshotSize (parse_snapshot_size), AudioStreamTimeSeek (parse_on_off). A bad
// value must be refused, never guessed at.
#include "src/config_values.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

struct SizeCase {
    const char* name;
    const char* text;
    std::optional<Offset> value;
    friend void PrintTo(const SizeCase& c, std::ostream* os) { *os << c.name; }
};

const SizeCase kSizes[] = {
    {"PieceSize_ZeroDisablesPieces", "0", Offset{0}},
    {"PieceSize_PlainBytes", "8388608", Offset{8388608}},
    {"PieceSize_KibibytesUpper", "512K", Offset{524288}},
    {"PieceSize_KibibytesLower", "512k", Offset{524288}},
    {"PieceSize_MebibytesUpper", "8M", Offset{8388608}},
    {"PieceSize_MebibytesLower", "8m", Offset{8388608}},
    {"PieceSize_Gibibytes", "1G", Offset{1073741824}},
    {"PieceSize_GibibytesLower", "1g", Offset{1073741824}},
    {"PieceSize_ZeroWithSuffix", "0M", Offset{0}},
    // The 1 PiB ceiling, reached in every unit.
    {"PieceSize_MaxInBytes", "1125899906842624", kMaxSize},
    {"PieceSize_MaxInGibibytes", "1048576G", kMaxSize},
    {"PieceSize_MaxInMebibytes", "1073741824M", kMaxSize},
    {"PieceSize_OneOverMaxInBytes", "1125899906842625", std::nullopt},
    {"PieceSize_OneOverMaxInKibibytes", "1099511627777K", std::nullopt},
    {"PieceSize_OneOverMaxInGibibytes", "1048577G", std::nullopt},
    {"PieceSize_NineteenNinesOverMax", "9999999999999999999", std::nullopt},
    {"PieceSize_TwentyDigitsWouldOverflow", "18446744073709551617", std::nullopt},
    {"PieceSize_TwentyDigitsGigaWouldOverflow", "18446744073709551617G", std::nullopt},
    // Malformed.
    {"PieceSize_EmptyRefused", "", std::nullopt},
    {"PieceSize_UnknownSuffixRefused", "12Q", std::nullopt},
    {"PieceSize_NegativeRefused", "-1", std::nullopt},
    {"PieceSize_PlusSignRefused", "+8M", std::nullopt},
    {"PieceSize_FractionRefused", "1.5M", std::nullopt},
    {"PieceSize_LeadingSpaceRefused", " 8M", std::nullopt},
    {"PieceSize_TrailingSpaceRefused", "8M ", std::nullopt},
    {"PieceSize_SuffixAloneRefused", "M", std::nullopt},
    {"PieceSize_TwoLetterSuffixRefused", "8MB", std::nullopt},
    {"PieceSize_DoubleSuffixRefused", "8MM", std::nullopt},
    {"PieceSize_HexRefused", "0x10", std::nullopt},
};

class ParseSizeTest : public ::testing::TestWithParam<SizeCase> {};

TEST_P(ParseSizeTest, ParsesExactly)
{
    EXPECT_EQ(parse_size(GetParam().text), GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(ConfigValues, ParseSizeTest, ::testing::ValuesIn(kSizes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigValues, PieceSize_MaxIsOnePebibyte)
{
    EXPECT_EQ(kMaxSize, Offset{1125899906842624});
}

struct ScopeCase {
    const char* name;
    const char* text;
    std::optional<PieceScope> scope;
    friend void PrintTo(const ScopeCase& c, std::ostream* os) { *os << c.name; }
};

const ScopeCase kScopes[] = {
    {"PieceScope_Media", "media", PieceScope::Media},
    {"PieceScope_All", "all", PieceScope::All},
    {"PieceScope_MediaUpperCase", "MEDIA", PieceScope::Media},
    {"PieceScope_AllMixedCase", "All", PieceScope::All},
    {"PieceScope_UnknownRefused", "some", std::nullopt},
    {"PieceScope_EmptyRefused", "", std::nullopt},
    {"PieceScope_PrefixRefused", "med", std::nullopt},
    {"PieceScope_LongerWordRefused", "medias", std::nullopt},
    {"PieceScope_SpaceRefused", " media", std::nullopt},
};

class ParseScopeTest : public ::testing::TestWithParam<ScopeCase> {};

TEST_P(ParseScopeTest, ParsesExactly)
{
    EXPECT_EQ(parse_scope(GetParam().text), GetParam().scope);
}

INSTANTIATE_TEST_SUITE_P(ConfigValues, ParseScopeTest, ::testing::ValuesIn(kScopes),
                         [](const auto& info) { return std::string(info.param.name); });

struct MaxRangesCase {
    const char* name;
    const char* text;
    std::optional<unsigned> value;
    friend void PrintTo(const MaxRangesCase& c, std::ostream* os) { *os << c.name; }
};

// RFC 9110 §14.2 lets a server ignore a Range with too many parts; this sets how many.
const MaxRangesCase kMaxRanges[] = {
    {"Rfc9110_14_2_MaxRangesOne", "1", 1u},
    {"Rfc9110_14_2_MaxRanges200", "200", 200u},
    {"Rfc9110_14_2_MaxRangesCeiling", "100000", 100000u},
    {"Rfc9110_14_2_MaxRangesUnlimitedIsZero", "unlimited", 0u},
    {"Rfc9110_14_2_MaxRangesUnlimitedCaseInsensitive", "Unlimited", 0u},
    {"Rfc9110_14_2_MaxRangesZeroRefused", "0", std::nullopt},
    {"Rfc9110_14_2_MaxRangesNegativeRefused", "-1", std::nullopt},
    {"Rfc9110_14_2_MaxRangesWordRefused", "abc", std::nullopt},
    {"Rfc9110_14_2_MaxRangesOverCeilingRefused", "100001", std::nullopt},
    {"Rfc9110_14_2_MaxRangesHugeRefused", "99999999999999999999", std::nullopt},
    {"Rfc9110_14_2_MaxRangesEmptyRefused", "", std::nullopt},
    {"Rfc9110_14_2_MaxRangesSuffixRefused", "2K", std::nullopt},
};

class ParseMaxRangesTest : public ::testing::TestWithParam<MaxRangesCase> {};

TEST_P(ParseMaxRangesTest, ParsesExactly)
{
    EXPECT_EQ(parse_max_ranges(GetParam().text), GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(ConfigValues, ParseMaxRangesTest, ::testing::ValuesIn(kMaxRanges),
                         [](const auto& info) { return std::string(info.param.name); });

// AudioStreamReadThreshold (parse_read_threshold): a size, at most kMaxReadThreshold.
constexpr Offset kKiB = 1024;

struct ThresholdCase {
    const char* name;
    const char* text;
    std::optional<Offset> value;
    friend void PrintTo(const ThresholdCase& c, std::ostream* os) { *os << c.name; }
};

const ThresholdCase kThresholds[] = {
    {"ZeroMeansAlwaysSendfile", "0", Offset{0}},
    {"PlainBytes", "65536", Offset{65536}},
    {"Kibibytes", "128K", 128 * kKiB},
    {"KibibytesLower", "16k", 16 * kKiB},
    {"Mebibytes", "1M", 1024 * kKiB},
    {"AtTheCeiling", "16M", kMaxReadThreshold},
    {"OneByteOverTheCeilingRefused", "16777217", std::nullopt},
    {"GibibyteRefused", "1G", std::nullopt},
    {"NotASizeRefused", "12Q", std::nullopt},
    {"EmptyRefused", "", std::nullopt},
    {"NegativeRefused", "-1", std::nullopt},
    {"WordRefused", "off", std::nullopt},
};

class ParseReadThresholdTest : public ::testing::TestWithParam<ThresholdCase> {};

TEST_P(ParseReadThresholdTest, ParsesExactly)
{
    EXPECT_EQ(parse_read_threshold(GetParam().text), GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(SmallWindow, ParseReadThresholdTest, ::testing::ValuesIn(kThresholds),
                         [](const auto& info) { return std::string(info.param.name); });

// AudioStreamSnapshotSize: sizes up to the address space a snapshot slot reserves.
const SizeCase kSnapshotSizes[] = {
    {"SnapshotSize_ZeroNeverSnapshots", "0", Offset{0}},
    {"SnapshotSize_Kibibytes", "64k", Offset{65536}},
    {"SnapshotSize_TheDefault", "4M", Offset{4} << 20},
    {"SnapshotSize_TheMaximum", "16M", kMaxSnapshotSize},
    {"SnapshotSize_OneByteOverRefused", "16777217", std::nullopt},
    {"SnapshotSize_GibibytesRefused", "1G", std::nullopt},
    {"SnapshotSize_MalformedRefused", "4Q", std::nullopt},
};

class ParseSnapshotSizeTest : public ::testing::TestWithParam<SizeCase> {};

TEST_P(ParseSnapshotSizeTest, ParsesExactly)
{
    EXPECT_EQ(parse_snapshot_size(GetParam().text), GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(ConfigValues, ParseSnapshotSizeTest, ::testing::ValuesIn(kSnapshotSizes),
                         [](const auto& info) { return std::string(info.param.name); });

// AudioStreamTimeSeek: On or Off in any case, nothing else (not 1, yes, or a prefix).
TEST(ConfigValues, OnOff_EitherWordInAnyCase)
{
    EXPECT_EQ(parse_on_off("On"), std::optional<bool>(true));
    EXPECT_EQ(parse_on_off("on"), std::optional<bool>(true));
    EXPECT_EQ(parse_on_off("OFF"), std::optional<bool>(false));
    EXPECT_EQ(parse_on_off("off"), std::optional<bool>(false));
    for (const char* bad : {"", "1", "0", "yes", "o", "onn", "of", " on", "on "}) {
        EXPECT_EQ(parse_on_off(bad), std::nullopt) << "'" << bad << "'";
    }
}

}  // namespace
}  // namespace audio_stream
