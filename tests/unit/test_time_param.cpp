// ?t= values: seconds, mm:ss, hh:mm:ss, fractions; spans of two (Media Fragments' npt); and
// query-string extraction.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "src/time_param.h"

namespace audio_stream {
namespace {

struct TimeCase {
    const char* name;
    const char* text;
    std::optional<Micros> expected;
};

class ParseTimeTest : public ::testing::TestWithParam<TimeCase> {};

TEST_P(ParseTimeTest, ParsesExactly)
{
    EXPECT_EQ(parse_time(GetParam().text), GetParam().expected) << GetParam().text;
}

constexpr Micros kS = 1000000;

INSTANTIATE_TEST_SUITE_P(
    TimeParam, ParseTimeTest,
    ::testing::Values(
        TimeCase{"Seconds_Zero", "0", 0},
        TimeCase{"Seconds_Whole", "1830", 1830 * kS},
        TimeCase{"Seconds_Fraction", "1830.25", 1830 * kS + 250000},
        TimeCase{"Seconds_MicrosecondFraction", "0.000001", 1},
        TimeCase{"Seconds_OverSixtyAllowedAlone", "90", 90 * kS},
        TimeCase{"Clock_MinutesSeconds", "30:30", 1830 * kS},
        TimeCase{"Clock_MinutesMayExceedSixty", "90:00", 5400 * kS},
        TimeCase{"Clock_HoursMinutesSeconds", "1:02:03", 3723 * kS},
        TimeCase{"Clock_HoursMinutesSecondsFraction", "01:02:03.5", 3723 * kS + 500000},
        TimeCase{"Max_100000Hours", "100000:00:00", kMaxTime},
        TimeCase{"Malformed_Empty", "", std::nullopt},
        TimeCase{"Malformed_Negative", "-5", std::nullopt},
        TimeCase{"Malformed_Plus", "+5", std::nullopt},
        TimeCase{"Malformed_Letters", "abc", std::nullopt},
        TimeCase{"Malformed_Unit", "5s", std::nullopt},
        TimeCase{"Malformed_Space", " 5", std::nullopt},
        TimeCase{"Malformed_TrailingDot", "5.", std::nullopt},
        TimeCase{"Malformed_LeadingDot", ".5", std::nullopt},
        TimeCase{"Malformed_SevenFractionDigits", "1.0000001", std::nullopt},
        TimeCase{"Malformed_TwoDots", "1.2.3", std::nullopt},
        TimeCase{"Malformed_SecondsSixty", "1:60", std::nullopt},
        TimeCase{"Malformed_MinutesSixty", "1:60:00", std::nullopt},
        TimeCase{"Malformed_OneDigitClockField", "1:5", std::nullopt},
        TimeCase{"Malformed_FourFields", "1:00:00:00", std::nullopt},
        TimeCase{"Malformed_EmptyField", "1::00", std::nullopt},
        TimeCase{"Malformed_FractionNotLast", "1.5:00", std::nullopt},
        TimeCase{"Malformed_PastMax", "100000:00:01", std::nullopt},
        TimeCase{"Malformed_HugeNumber", "99999999999999999999999", std::nullopt}),
    [](const auto& info) { return std::string(info.param.name); });

struct SpanCase {
    const char* name;
    const char* text;
    std::optional<Span> expected;
};

class ParseSpanTest : public ::testing::TestWithParam<SpanCase> {};

TEST_P(ParseSpanTest, ParsesExactly)
{
    const auto got = parse_span(GetParam().text);
    ASSERT_EQ(got.has_value(), GetParam().expected.has_value()) << GetParam().text;
    if (got) {
        EXPECT_EQ(got->start, GetParam().expected->start) << GetParam().text;
        EXPECT_EQ(got->end, GetParam().expected->end) << GetParam().text;
    }
}

constexpr Micros kEnd = Span::kToTheEnd;

INSTANTIATE_TEST_SUITE_P(
    TimeParam, ParseSpanTest,
    ::testing::Values(
        SpanCase{"StartAloneRunsToTheEnd", "30", Span{30 * kS, kEnd}},
        SpanCase{"StartAndEnd", "30,90", Span{30 * kS, 90 * kS}},
        SpanCase{"NoStartIsZero", ",5", Span{0, 5 * kS}},
        SpanCase{"NptPrefix", "npt:10,20", Span{10 * kS, 20 * kS}},
        SpanCase{"NptPrefixOnAStart", "npt:10", Span{10 * kS, kEnd}},
        SpanCase{"ClockForms", "0:30,1:00:00.5", Span{30 * kS, 3600 * kS + kS / 2}},
        SpanCase{"SixFractionDigits", "1.000001,1.000002", Span{kS + 1, kS + 2}},
        SpanCase{"OneMicrosecondLong", "0,0.000001", Span{0, 1}},
        // Media Fragments: END must follow START, and an END after a comma is not optional.
        SpanCase{"EndBeforeStart", "5,3", std::nullopt},
        SpanCase{"EndAtStart", "5,5", std::nullopt},
        SpanCase{"CommaWithoutEnd", "5,", std::nullopt},
        SpanCase{"CommaAlone", ",", std::nullopt},
        SpanCase{"ThreeTimes", "1,2,3", std::nullopt},
        SpanCase{"NptAlone", "npt:", std::nullopt},
        SpanCase{"NptTwice", "npt:npt:1", std::nullopt},
        SpanCase{"OtherTimeFormats", "smpte:0:00:01:00", std::nullopt},
        SpanCase{"BadEnd", "1,x", std::nullopt},
        SpanCase{"Empty", "", std::nullopt}),
    [](const auto& info) { return std::string(info.param.name); });

struct QueryCase {
    const char* name;
    const char* query;
    QueryParam expected;
};

QueryParam found(const char* value) { return QueryParam{true, false, value}; }
const QueryParam kAbsent{};
const QueryParam kMalformed{true, true, ""};

class QueryParamTest : public ::testing::TestWithParam<QueryCase> {};

TEST_P(QueryParamTest, FindsTheFirstValue)
{
    const QueryParam got = query_param(GetParam().query, "t");
    EXPECT_EQ(got, GetParam().expected)
        << GetParam().query << " -> present " << got.present << " malformed " << got.malformed
        << " value '" << got.value << "'";
}

INSTANTIATE_TEST_SUITE_P(
    TimeParam, QueryParamTest,
    ::testing::Values(
        QueryCase{"Alone", "t=30", found("30")},
        QueryCase{"AmongOthers", "a=1&t=30&b=2", found("30")},
        QueryCase{"FirstWins", "t=1&t=2", found("1")},
        QueryCase{"PercentEncodedColon", "t=30%3A30", found("30:30")},
        QueryCase{"PercentEncodedComma", "t=10%2C20", found("10,20")},
        QueryCase{"PlusIsSpace", "t=+5", found(" 5")},
        QueryCase{"EmptyValue", "t=", found("")},
        QueryCase{"NoEquals", "t", found("")},
        QueryCase{"Absent", "a=1&b=2", kAbsent},
        QueryCase{"PrefixIsNotTheName", "tt=5&at=6", kAbsent},
        QueryCase{"EmptyQuery", "", kAbsent},
        // Present but broken: the glue answers 400, not the whole file.
        QueryCase{"BrokenEscapeIsMalformed", "t=5%3", kMalformed},
        QueryCase{"BadHexIsMalformed", "t=5%zz", kMalformed},
        QueryCase{"BrokenEscapeInAnotherParamIsIgnored", "a=%z&t=5", found("5")}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
