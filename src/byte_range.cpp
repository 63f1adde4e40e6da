#include "byte_range.h"

#include <algorithm>

#include "ascii.h"

namespace audio_stream {

namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_ows(std::string_view s)
{
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// 1*DIGIT, saturating at kHuge: "a first-pos beyond any real size" stays beyond it.
bool parse_number(std::string_view s, Offset& out)
{
    if (s.empty()) {
        return false;
    }
    Offset v = 0;
    for (char c : s) {
        if (!is_digit(c)) {
            return false;
        }
        const Offset d = static_cast<Offset>(c - '0');
        v = (v > (kHuge - d) / 10) ? kHuge : v * 10 + d;
    }
    out = v;
    return true;
}

// range-spec = int-range / suffix-range  (RFC 9110 §14.1.1)
bool parse_spec(std::string_view s, RangeSpec& spec)
{
    const auto dash = s.find('-');
    if (dash == std::string_view::npos) {
        return false;
    }
    const std::string_view a = s.substr(0, dash);
    const std::string_view b = s.substr(dash + 1);
    if (a.empty()) {
        spec = RangeSpec{RangeSpec::Kind::Suffix, 0, 0};
        return parse_number(b, spec.last);
    }
    if (!parse_number(a, spec.first)) {
        return false;
    }
    if (b.empty()) {
        spec.kind = RangeSpec::Kind::Open;
        spec.last = 0;
        return true;
    }
    spec.kind = RangeSpec::Kind::Closed;
    // §14.1.1: an int-range whose last-pos is less than its first-pos is invalid.
    return parse_number(b, spec.last) && spec.last >= spec.first;
}

}  // namespace

ParsedRange parse_range(std::string_view header, std::size_t max_specs)
{
    ParsedRange out{ParsedRange::Status::Invalid, {}};
    const auto eq = header.find('=');
    if (eq == std::string_view::npos) {
        return out;
    }
    // §14.1: range units are compared case-insensitively; we only know "bytes".
    if (!ascii_iequals(trim_ows(header.substr(0, eq)), "bytes")) {
        return out;
    }
    std::string_view rest = header.substr(eq + 1);
    std::vector<RangeSpec> specs;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = trim_ows(rest.substr(0, comma));
        // §5.6.1.2: a recipient accepts and ignores empty list elements.
        if (!item.empty()) {
            RangeSpec spec{};
            if (!parse_spec(item, spec)) {
                return out;
            }
            if (max_specs != 0 && specs.size() == max_specs) {
                out.status = ParsedRange::Status::TooMany;
                return out;
            }
            specs.push_back(spec);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    if (specs.empty()) {
        return out;
    }
    out.status = ParsedRange::Status::Ok;
    out.specs = std::move(specs);
    return out;
}

ResolvedRanges resolve_ranges(const std::vector<RangeSpec>& specs, Offset length)
{
    std::vector<ByteRange> ranges;
    ranges.reserve(specs.size());
    for (const auto& s : specs) {
        switch (s.kind) {
        case RangeSpec::Kind::Suffix:
            // §14.1.2: a suffix longer than the representation selects all of it; -0 selects nothing.
            if (s.last > 0 && length > 0) {
                ranges.push_back({length - std::min(s.last, length), length - 1});
            }
            break;
        case RangeSpec::Kind::Open:
        case RangeSpec::Kind::Closed:
            // §14.1.2: satisfiable iff first-pos < length; a last-pos at or past the end is clipped.
            if (s.first < length) {
                const Offset last = s.kind == RangeSpec::Kind::Open ? length - 1
                                                                    : std::min(s.last, length - 1);
                ranges.push_back({s.first, last});
            }
            break;
        }
    }
    if (ranges.empty()) {
        return {false, {}};
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
    // Merged in place: ranges[0, kept) are the parts so far.
    std::size_t kept = 1;
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        ByteRange& back = ranges[kept - 1];
        // Adjacent (last + 1 == first) or overlapping: one part instead of two.
        if (ranges[i].first <= back.last || ranges[i].first - back.last == 1) {
            back.last = std::max(back.last, ranges[i].last);
        }
        else {
            ranges[kept++] = ranges[i];
        }
    }
    ranges.resize(kept);
    return {true, std::move(ranges)};
}

}  // namespace audio_stream
