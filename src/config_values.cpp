#include "config_values.h"

#include "ascii.h"

namespace audio_stream {

namespace {

// Plain decimal, bounded by `max`; no sign, no spaces.
std::optional<Offset> parse_bounded(std::string_view digits, Offset max)
{
    if (digits.empty() || digits.size() > 19) {
        return std::nullopt;
    }
    Offset v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + static_cast<Offset>(c - '0');
    }
    if (v > max) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

std::optional<Offset> parse_size(std::string_view text)
{
    if (text.empty()) {
        return std::nullopt;
    }
    unsigned shift = 0;
    switch (ascii_lower(text.back())) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    default: break;
    }
    if (shift != 0) {
        text.remove_suffix(1);
    }
    const auto n = parse_bounded(text, kMaxSize >> shift);
    if (!n) {
        return std::nullopt;
    }
    return *n << shift;
}

std::optional<Offset> parse_read_threshold(std::string_view text)
{
    const auto size = parse_size(text);
    if (!size || *size > kMaxReadThreshold) {
        return std::nullopt;
    }
    return size;
}

std::optional<PieceScope> parse_scope(std::string_view text)
{
    if (ascii_iequals(text, "media")) {
        return PieceScope::Media;
    }
    if (ascii_iequals(text, "all")) {
        return PieceScope::All;
    }
    return std::nullopt;
}

std::optional<unsigned> parse_max_ranges(std::string_view text)
{
    if (ascii_iequals(text, "unlimited")) {
        return 0u;
    }
    const auto n = parse_bounded(text, 100000);
    if (!n || *n == 0) {
        return std::nullopt;
    }
    return static_cast<unsigned>(*n);
}

std::optional<Offset> parse_snapshot_size(std::string_view text)
{
    const auto size = parse_size(text);
    if (!size || *size > kMaxSnapshotSize) {
        return std::nullopt;
    }
    return size;
}

std::optional<bool> parse_on_off(std::string_view text)
{
    if (ascii_iequals(text, "on")) {
        return true;
    }
    if (ascii_iequals(text, "off")) {
        return false;
    }
    return std::nullopt;
}

}  // namespace audio_stream
