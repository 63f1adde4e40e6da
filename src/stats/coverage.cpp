#include "coverage.h"

#include <algorithm>

namespace audio_stream::stats {

namespace {

std::optional<Offset> parse_number(std::string_view& text)
{
    Offset v = 0;
    std::size_t n = 0;
    for (; n < text.size() && text[n] >= '0' && text[n] <= '9'; ++n) {
        if (n == 19) {  // past 10^19: no file is that long
            return std::nullopt;
        }
        v = v * 10 + static_cast<Offset>(text[n] - '0');
    }
    if (n == 0) {
        return std::nullopt;
    }
    text.remove_prefix(n);
    return v;
}

}  // namespace

void Coverage::add(FileRange r)
{
    if (r.end <= r.first) {
        return;
    }
    std::vector<FileRange> out;
    out.reserve(ranges_.size() + 1);
    for (const FileRange& k : ranges_) {
        if (k.end < r.first || r.end < k.first) {
            out.push_back(k);
        }
        else {
            r = {std::min(r.first, k.first), std::max(r.end, k.end)};
        }
    }
    out.insert(std::lower_bound(out.begin(), out.end(), r,
                                [](const FileRange& a, const FileRange& b) { return a.first < b.first; }),
               r);
    while (out.size() > kMaxRanges) {
        out.erase(std::min_element(out.begin(), out.end(), [](const FileRange& a, const FileRange& b) {
            return a.end - a.first < b.end - b.first;
        }));
    }
    ranges_ = std::move(out);
}

Offset Coverage::covered() const
{
    Offset n = 0;
    for (const FileRange& r : ranges_) {
        n += r.end - r.first;
    }
    return n;
}

std::string Coverage::encode() const
{
    std::string out;
    for (const FileRange& r : ranges_) {
        if (!out.empty()) {
            out += ',';
        }
        out += std::to_string(r.first);
        out += '-';
        out += std::to_string(r.end);
    }
    return out;
}

std::optional<Coverage> Coverage::decode(std::string_view text)
{
    Coverage c;
    while (!text.empty()) {
        if (c.ranges_.size() == kMaxRanges) {
            return std::nullopt;
        }
        const auto first = parse_number(text);
        if (!first || text.empty() || text.front() != '-') {
            return std::nullopt;
        }
        text.remove_prefix(1);
        const auto end = parse_number(text);
        // Sorted, disjoint and not touching, as encode writes them.
        if (!end || *end <= *first || (!c.ranges_.empty() && *first <= c.ranges_.back().end)) {
            return std::nullopt;
        }
        c.ranges_.push_back({*first, *end});
        if (!text.empty()) {
            if (text.front() != ',' || text.size() == 1) {
                return std::nullopt;
            }
            text.remove_prefix(1);
        }
    }
    return c;
}

}  // namespace audio_stream::stats
