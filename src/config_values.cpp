#include "config_values.h"

#include <utility>

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

namespace {

std::optional<Offset> parse_size_up_to(std::string_view text, Offset max)
{
    const auto size = parse_size(text);
    return size && *size <= max ? size : std::nullopt;
}

// The value of the keyword `text` is (case-insensitive), from a list of two.
template <typename T>
std::optional<T> parse_keyword(std::string_view text, std::pair<std::string_view, T> a,
                               std::pair<std::string_view, T> b)
{
    if (ascii_iequals(text, a.first)) {
        return a.second;
    }
    if (ascii_iequals(text, b.first)) {
        return b.second;
    }
    return std::nullopt;
}

}  // namespace

std::optional<Offset> parse_read_threshold(std::string_view text)
{
    return parse_size_up_to(text, kMaxReadThreshold);
}

std::optional<Offset> parse_snapshot_size(std::string_view text)
{
    return parse_size_up_to(text, kMaxSnapshotSize);
}

std::optional<PieceScope> parse_scope(std::string_view text)
{
    return parse_keyword(text, std::pair{std::string_view("media"), PieceScope::Media},
                         std::pair{std::string_view("all"), PieceScope::All});
}

std::optional<bool> parse_hls_mp3_packed(std::string_view text)
{
    return parse_keyword(text, std::pair{std::string_view("ts"), false}, std::pair{std::string_view("packed"), true});
}

std::optional<bool> parse_on_off(std::string_view text)
{
    return parse_keyword(text, std::pair{std::string_view("on"), true}, std::pair{std::string_view("off"), false});
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

}  // namespace audio_stream
