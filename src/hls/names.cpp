#include "names.h"

namespace audio_stream::hls {

namespace {

constexpr std::string_view kSegmentPrefix = "seg-";

// A segment number: decimal digits, no sign, no leading zero (but "0" itself).
std::optional<std::uint64_t> parse_number(std::string_view digits)
{
    if (digits.empty() || digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) {
        return std::nullopt;
    }
    std::uint64_t n = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n <= kMaxSegmentNumber ? std::optional<std::uint64_t>(n) : std::nullopt;
}

}  // namespace

std::optional<Name> parse_name(std::string_view path, SegmentForm form, std::string_view extension)
{
    if (path.empty() || path[0] != '/') {
        return std::nullopt;
    }
    path.remove_prefix(1);
    if (path == kMasterName) {
        return Name{Resource::Master, 0};
    }
    if (path == kMediaName) {
        return Name{Resource::Media, 0};
    }
    if (path == kInitName) {
        return form == SegmentForm::Fmp4 ? std::optional<Name>(Name{Resource::Init, 0}) : std::nullopt;
    }
    if (path.substr(0, kSegmentPrefix.size()) != kSegmentPrefix) {
        return std::nullopt;
    }
    path.remove_prefix(kSegmentPrefix.size());
    const std::size_t dot = path.find('.');
    if (dot == std::string_view::npos || path.substr(dot + 1) != extension) {
        return std::nullopt;
    }
    const auto n = parse_number(path.substr(0, dot));
    return n ? std::optional<Name>(Name{Resource::Segment, *n}) : std::nullopt;
}

std::string segment_name(std::uint64_t n, std::string_view extension)
{
    std::string name(kSegmentPrefix);
    name += std::to_string(n);
    name += '.';
    name += extension;
    return name;
}

}  // namespace audio_stream::hls
