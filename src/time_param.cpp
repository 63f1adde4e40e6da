#include "time_param.h"

#include <array>

namespace audio_stream {

namespace {

bool all_digits(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

// Up to 12 digits, so that no multiplication below can overflow.
std::optional<Micros> whole(std::string_view s)
{
    if (!all_digits(s) || s.size() > 12) {
        return std::nullopt;
    }
    Micros v = 0;
    for (char c : s) {
        v = v * 10 + (c - '0');
    }
    return v;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<Micros> parse_time(std::string_view text)
{
    // The fraction belongs to the last field only.
    Micros fraction = 0;
    const auto dot = text.find('.');
    if (dot != std::string_view::npos) {
        const std::string_view digits = text.substr(dot + 1);
        if (!all_digits(digits) || digits.size() > 6) {
            return std::nullopt;
        }
        Micros scale = 100000;
        for (char c : digits) {
            fraction += (c - '0') * scale;
            scale /= 10;
        }
        text = text.substr(0, dot);
    }
    std::array<std::string_view, 3> fields{};
    std::size_t n = 0;
    while (true) {
        const auto colon = text.find(':');
        if (n == fields.size()) {
            return std::nullopt;
        }
        fields[n++] = text.substr(0, colon);
        if (colon == std::string_view::npos) {
            break;
        }
        text.remove_prefix(colon + 1);
    }
    Micros seconds = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto v = whole(fields[i]);
        // After a colon, minutes and seconds are two-digit clock fields below 60.
        if (!v || (i > 0 && (fields[i].size() != 2 || *v >= 60))) {
            return std::nullopt;
        }
        seconds = seconds * 60 + *v;
    }
    if (seconds > kMaxTime / 1000000) {
        return std::nullopt;
    }
    const Micros t = seconds * 1000000 + fraction;
    return t > kMaxTime ? std::nullopt : std::optional<Micros>(t);
}

std::optional<Span> parse_span(std::string_view text)
{
    constexpr std::string_view kNpt = "npt:";
    if (text.substr(0, kNpt.size()) == kNpt) {
        text.remove_prefix(kNpt.size());
    }
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) {
        const auto start = parse_time(text);
        return start ? std::optional<Span>(Span{*start}) : std::nullopt;
    }
    const std::string_view first = text.substr(0, comma);
    const auto start = first.empty() ? std::optional<Micros>(0) : parse_time(first);
    const auto end = parse_time(text.substr(comma + 1));  // a second comma fails here
    if (!start || !end || *end <= *start) {
        return std::nullopt;
    }
    return Span{*start, *end};
}

QueryParam query_param(std::string_view query, std::string_view name)
{
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            const std::string_view raw = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
            QueryParam param;
            param.present = true;
            std::string& value = param.value;
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] != '%') {
                    value.push_back(raw[i] == '+' ? ' ' : raw[i]);
                    continue;
                }
                // A broken escape makes the value malformed.
                const int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
                const int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
                if (hi < 0 || lo < 0) {
                    param.malformed = true;
                    value.clear();
                    return param;
                }
                value.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
            }
            return param;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return {};
}

}  // namespace audio_stream
