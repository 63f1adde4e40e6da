#include "audio_types.h"

#include <array>
#include <utility>

#include "ascii.h"

namespace audio_stream {

namespace {

// Registered types (IANA media types; RFC 3003 for MPEG audio: audio/mpeg, never audio/mp3).
constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kTypes{{
    {"mp3", "audio/mpeg"},   {"mpga", "audio/mpeg"}, {"mp2", "audio/mpeg"},
    {"flac", "audio/flac"},  {"ogg", "audio/ogg"},   {"oga", "audio/ogg"},
    {"spx", "audio/ogg"},    {"opus", "audio/opus"}, {"wav", "audio/wav"},
    {"m4a", "audio/mp4"},    {"m4b", "audio/mp4"},   {"mp4a", "audio/mp4"},
    {"aac", "audio/aac"},    {"adts", "audio/aac"},  {"weba", "audio/webm"},
    {"webm", "audio/webm"},  {"aif", "audio/aiff"},  {"aiff", "audio/aiff"},
    {"mka", "audio/x-matroska"}, {"m3u", "audio/x-mpegurl"},
}};

constexpr std::size_t kLongestExtension = [] {
    std::size_t n = 0;
    for (const auto& entry : kTypes) {
        n = entry.first.size() > n ? entry.first.size() : n;
    }
    return n;
}();

}  // namespace

std::string_view audio_type_for_path(std::string_view path)
{
    // From the end: the extension is the part after the last dot of the last path segment.
    const auto dot = path.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == path.size()) {
        return kUnknownType;
    }
    const std::string_view ext = path.substr(dot + 1);
    if (ext.size() > kLongestExtension || ext.find('/') != std::string_view::npos) {
        return kUnknownType;
    }
    for (const auto& [known, type] : kTypes) {
        if (ascii_iequals(ext, known)) {
            return type;
        }
    }
    return kUnknownType;
}

}  // namespace audio_stream
