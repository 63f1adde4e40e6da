// ASCII case folding for the tokens we compare case-insensitively: range units (RFC 9110
// §14.1), media types (RFC 9110 §8.3.1), file extensions and directive keywords. Locale-free
// on purpose: std::tolower depends on the process locale, and these tokens are ASCII by rule.
#ifndef AUDIO_STREAM_ASCII_H
#define AUDIO_STREAM_ASCII_H

#include <cstddef>
#include <string_view>

namespace audio_stream {

// 'A'-'Z' to 'a'-'z'; every other byte as it is.
constexpr char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// a and b are the same bytes but for the case of ASCII letters.
constexpr bool ascii_iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace audio_stream

#endif
