// If-Range (RFC 9110 §13.1.5) and HTTP-date parsing (§5.6.7).
#include "src/if_range.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace audio_stream {
namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's own example date.
constexpr UnixSeconds kExampleDate = 784111777;
constexpr const char* kImfFixdate = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr const char* kRfc850 = "Sunday, 06-Nov-94 08:49:37 GMT";
constexpr const char* kAsctime = "Sun Nov  6 08:49:37 1994";

struct IfRangeCase {
    const char* name;
    const char* if_range;
    const char* etag;
    UnixSeconds last_modified;
    UnixSeconds now;
    bool matches;
    friend void PrintTo(const IfRangeCase& c, std::ostream* os) { *os << c.name; }
};

constexpr UnixSeconds kLater = kExampleDate + 3600;

const IfRangeCase kIfRange[] = {
    // §13.1.5: an entity-tag matches only by the strong comparison (§8.8.3.2).
    {"Rfc9110_13_1_5_StrongEtagEqualMatches", "\"5f3a-3200000\"", "\"5f3a-3200000\"",
     kExampleDate, kLater, true},
    {"Rfc9110_13_1_5_StrongEtagDifferentFails", "\"5f3a-3200000\"", "\"5f3a-3200001\"",
     kExampleDate, kLater, false},
    {"Rfc9110_8_8_3_2_StrongComparisonIsCaseSensitive", "\"abc\"", "\"ABC\"", kExampleDate,
     kLater, false},
    {"Rfc9110_8_8_3_2_StrongComparisonIsByteForByte", "\"abc\"", "\"abc \"", kExampleDate,
     kLater, false},
    {"Rfc9110_8_8_3_2_PrefixIsNotAMatch", "\"ab\"", "\"abc\"", kExampleDate, kLater, false},
    {"Rfc9110_13_1_5_WeakIfRangeNeverMatchesWeakEtag", "W/\"x\"", "W/\"x\"", kExampleDate,
     kLater, false},
    {"Rfc9110_13_1_5_WeakIfRangeNeverMatchesStrongEtag", "W/\"x\"", "\"x\"", kExampleDate,
     kLater, false},
    {"Rfc9110_8_8_3_2_WeakCurrentEtagNeverMatchesStrongly", "\"x\"", "W/\"x\"", kExampleDate,
     kLater, false},
    {"Rfc9110_13_1_5_NoCurrentEtagFails", "\"x\"", "", kExampleDate, kLater, false},
    {"Rfc9110_13_1_5_EmptyQuotedEtagMatchesItself", "\"\"", "\"\"", kExampleDate, kLater, true},
    // §13.1.5: a date matches only if it equals a strong Last-Modified exactly.
    {"Rfc9110_13_1_5_ImfFixdateEqualToLastModifiedMatches", kImfFixdate, "\"x\"", kExampleDate,
     kLater, true},
    {"Rfc9110_13_1_5_DateMatchesWithoutEtag", kImfFixdate, "", kExampleDate, kLater, true},
    {"Rfc9110_13_1_5_Rfc850DateEqualToLastModifiedMatches", kRfc850, "", kExampleDate, kLater,
     true},
    {"Rfc9110_13_1_5_AsctimeDateEqualToLastModifiedMatches", kAsctime, "", kExampleDate, kLater,
     true},
    {"Rfc9110_8_8_2_2_LastModifiedOneSecondOldIsStrong", kImfFixdate, "", kExampleDate,
     kExampleDate + 1, true},
    {"Rfc9110_8_8_2_2_LastModifiedThisSecondIsWeak", kImfFixdate, "", kExampleDate,
     kExampleDate, false},
    {"Rfc9110_8_8_2_2_LastModifiedInTheFutureIsWeak", kImfFixdate, "", kExampleDate,
     kExampleDate - 10, false},
    {"Rfc9110_13_1_5_DateOneSecondEarlierFails", "Sun, 06 Nov 1994 08:49:36 GMT", "",
     kExampleDate, kLater, false},
    {"Rfc9110_13_1_5_DateOneSecondLaterFails", "Sun, 06 Nov 1994 08:49:38 GMT", "",
     kExampleDate, kLater, false},
    {"Rfc9110_13_1_5_DateIsNotComparedAsNewerThan", kImfFixdate, "", kExampleDate - 60, kLater,
     false},
    // Neither an entity-tag nor an HTTP-date: the condition is false.
    {"Rfc9110_13_1_5_GarbageFails", "garbage", "\"x\"", kExampleDate, kLater, false},
    {"Rfc9110_13_1_5_UnquotedEtagFails", "x", "x", kExampleDate, kLater, false},
    {"Rfc9110_13_1_5_EmptyFails", "", "", kExampleDate, kLater, false},
};

class IfRangeTest : public ::testing::TestWithParam<IfRangeCase> {};

TEST_P(IfRangeTest, EvaluatesExactly)
{
    const IfRangeCase& c = GetParam();
    EXPECT_EQ(if_range_matches(c.if_range, c.etag, c.last_modified, c.now), c.matches);
}

INSTANTIATE_TEST_SUITE_P(IfRange, IfRangeTest, ::testing::ValuesIn(kIfRange),
                         [](const auto& info) { return std::string(info.param.name); });

struct DateCase {
    const char* name;
    const char* text;
    std::optional<UnixSeconds> seconds;
    friend void PrintTo(const DateCase& c, std::ostream* os) { *os << c.name; }
};

// §5.6.7: a recipient accepts all three forms.
const DateCase kDates[] = {
    {"Rfc9110_5_6_7_ImfFixdate", kImfFixdate, kExampleDate},
    {"Rfc9110_5_6_7_Rfc850Date", kRfc850, kExampleDate},
    {"Rfc9110_5_6_7_AsctimeDate", kAsctime, kExampleDate},
    {"Rfc9110_5_6_7_ImfFixdateRecent", "Tue, 15 Nov 2022 12:45:26 GMT", UnixSeconds{1668516326}},
    {"Rfc9110_5_6_7_ImfFixdatePast2038", "Tue, 19 Jan 2038 03:14:08 GMT",
     UnixSeconds{2147483648}},
    {"Rfc9110_5_6_7_GarbageRefused", "not a date", std::nullopt},
    {"Rfc9110_5_6_7_EmptyRefused", "", std::nullopt},
    {"Rfc9110_5_6_7_EntityTagIsNotADate", "\"x\"", std::nullopt},
    {"Rfc9110_5_6_7_BadMonthRefused", "Sun, 06 Foo 1994 08:49:37 GMT", std::nullopt},
};

class HttpDateTest : public ::testing::TestWithParam<DateCase> {};

TEST_P(HttpDateTest, ParsesExactly)
{
    EXPECT_EQ(parse_http_date(GetParam().text), GetParam().seconds);
}

INSTANTIATE_TEST_SUITE_P(IfRange, HttpDateTest, ::testing::ValuesIn(kDates),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
