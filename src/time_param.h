// The ?t= query parameter of a time-seek request: a time, or a span of two.
#ifndef AUDIO_STREAM_TIME_PARAM_H
#define AUDIO_STREAM_TIME_PARAM_H

#include <optional>
#include <string>
#include <string_view>

#include "cut.h"
#include "micros.h"

namespace audio_stream {

// Largest time accepted: 100000 hours, far past any audio file, far below any overflow.
inline constexpr Micros kMaxTime = Micros{100000} * 3600 * 1000000;

// Seconds ("1830", "1830.25"), "mm:ss" or "hh:mm:ss", each with an optional fraction of up
// to 6 digits. Minutes and seconds after a colon are below 60. nullopt if malformed.
std::optional<Micros> parse_time(std::string_view text);

// The value of ?t=, in the temporal form of W3C Media Fragments 1.0 §4.2.1 (npt only): an
// optional "npt:" prefix, then START, "START,END" or ",END", each a parse_time. START left out
// is 0; END left out is the end of the audio. nullopt if malformed, if END is not after START,
// or for "START," and "," (Media Fragments: an END after the comma is not optional).
std::optional<Span> parse_span(std::string_view text);

// The first `name=` parameter of a query string. A broken escape ("%3", "%zz") makes it
// malformed rather than absent: the client asked for something, and must hear it was wrong.
struct QueryParam {
    bool present = false;
    bool malformed = false;
    std::string value;  // percent-decoded, '+' as space; empty when malformed
    bool operator==(const QueryParam& o) const
    {
        return present == o.present && malformed == o.malformed && value == o.value;
    }
};

QueryParam query_param(std::string_view query, std::string_view name);

}  // namespace audio_stream

#endif
