#include "audio_layout.h"

#include <algorithm>

namespace audio_stream {

namespace {

constexpr Micros kOneMinute = 60'000'000;

Offset audio_bytes(const AudioLayout& l)
{
    return l.audio_end > l.audio_start ? l.audio_end - l.audio_start : 0;
}

}  // namespace

Offset download_threshold(const AudioLayout& l)
{
    const Offset audio = audio_bytes(l);
    if (l.duration <= kOneMinute || audio == 0) {
        return l.size;
    }
    // ceil(audio * 60 s / duration) in 128 bits: no file is large enough to overflow it.
    const auto num = static_cast<unsigned __int128>(audio) * static_cast<unsigned __int128>(kOneMinute);
    const auto den = static_cast<unsigned __int128>(l.duration);
    const auto minute = static_cast<Offset>((num + den - 1) / den);
    // Every byte that is not audio is header: what comes before it, and what a player may
    // need after it (an MP4 moov at the end of the file).
    return std::min(l.size, l.size - audio + minute);
}

std::optional<Micros> time_at(const AudioLayout& l, Offset offset)
{
    const Offset audio = audio_bytes(l);
    if (l.duration <= 0 || audio == 0) {
        return std::nullopt;
    }
    const Offset into = std::min(audio, offset > l.audio_start ? offset - l.audio_start : 0);
    const auto t = static_cast<unsigned __int128>(into) * static_cast<unsigned __int128>(l.duration) / audio;
    return static_cast<Micros>(t);
}

}  // namespace audio_stream
