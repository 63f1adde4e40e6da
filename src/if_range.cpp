#include "if_range.h"

#include <string>

#include "apr_date.h"
#include "apr_time.h"

namespace audio_stream {

std::optional<UnixSeconds> parse_http_date(std::string_view text)
{
    const std::string copy(text);  // apr_date_parse_http wants a C string
    const apr_time_t t = apr_date_parse_http(copy.c_str());
    if (t == APR_DATE_BAD) {
        return std::nullopt;
    }
    return static_cast<UnixSeconds>(apr_time_sec(t));
}

bool if_range_matches(std::string_view if_range, std::string_view etag, UnixSeconds last_modified,
                      UnixSeconds now)
{
    // §13.1.5: a DQUOTE first means an entity-tag; it must be strong and match byte for byte.
    if (!if_range.empty() && if_range.front() == '"') {
        return !etag.empty() && etag.front() == '"' && if_range == etag;
    }
    // A weak entity-tag can never match in If-Range.
    if (if_range.size() >= 2 && if_range.substr(0, 2) == "W/") {
        return false;
    }
    const auto date = parse_http_date(if_range);
    if (!date) {
        return false;
    }
    // §13.1.5 and §8.8.2.2: the date must equal Last-Modified exactly, and Last-Modified is
    // only strong when the file is at least a second older than the request.
    return *date == last_modified && last_modified < now;
}

}  // namespace audio_stream
