// libFuzzer target: parse_http_date and if_range_matches, on every input.
//
// Input: bytes 0-4 little-endian u40 L, the file's Last-Modified in seconds (taken modulo
// year 10000, so that it can be written as an IMF-fixdate); byte 5 bit 0: the request is in
// the same second as L (else one second later); then the If-Range value, optionally followed
// by '\n' and the current ETag.
//
// Invariants (any violation traps):
//   a parsed date lies in [1970, 10000) and survives formatting as an IMF-fixdate and parsing
//   again unchanged;
//   If-Range matches only when it is a strong entity-tag equal byte for byte to a strong
//   current ETag, or a date equal to Last-Modified with Last-Modified before the request;
//   a weak entity-tag never matches; L formatted as an IMF-fixdate matches exactly when the
//   request is at least a second later (RFC 9110 §13.1.5, §8.8.2.2), except at the epoch.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "apr_date.h"
#include "apr_time.h"
#include "src/if_range.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace audio_stream;


constexpr std::size_t kPrefix = 6;
constexpr UnixSeconds kYear10000 = 253402300800;  // 10000-01-01T00:00:00Z

std::string_view imf_fixdate(UnixSeconds t, char (&buf)[APR_RFC822_DATE_LEN])
{
    CHECK(apr_rfc822_date(buf, apr_time_from_sec(t)) == APR_SUCCESS);
    return std::string_view(buf, std::strlen(buf));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto in = fuzz_check::split<kPrefix>(data, size);
    std::uint64_t l = 0;
    for (int i = 4; i >= 0; --i) {
        l = l << 8 | in.prefix[i];
    }
    const UnixSeconds last_modified = static_cast<UnixSeconds>(l % kYear10000);
    const UnixSeconds now = last_modified + ((in.prefix[5] & 1) ? 0 : 1);
    const std::string_view rest = in.rest;
    const auto nl = rest.find('\n');
    const std::string_view if_range = rest.substr(0, nl);
    const std::string_view etag = nl == std::string_view::npos ? "" : rest.substr(nl + 1);

    char buf[APR_RFC822_DATE_LEN];
    const auto date = parse_http_date(if_range);
    if (date) {
        CHECK(*date >= 0 && *date < kYear10000);
        const auto again = parse_http_date(imf_fixdate(*date, buf));
        CHECK(again && *again == *date);
    }

    const bool matches = if_range_matches(if_range, etag, last_modified, now);
    const bool strong_tag = !if_range.empty() && if_range.front() == '"';
    if (if_range.size() >= 2 && if_range.substr(0, 2) == "W/") {
        CHECK(!matches);
    }
    if (strong_tag) {
        CHECK(matches == (if_range == etag));
    }
    else if (matches) {
        CHECK(date && *date == last_modified && last_modified < now);
    }

    // Completeness: Last-Modified as sent must match once it is strong. Known exception: APR
    // returns APR_DATE_BAD (0) for failure, so the epoch itself (a file with mtime 0) cannot be
    // told from a bad date and its If-Range always falls back to 200.
    const std::string_view lm = imf_fixdate(last_modified, buf);
    if (last_modified != 0) {
        CHECK(if_range_matches(lm, etag, last_modified, now) == (last_modified < now));
    }
    return 0;
}
