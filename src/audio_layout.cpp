#include "audio_layout.h"

#include <algorithm>
#include <limits>

namespace audio_stream {

namespace {

constexpr Micros kOneMinute = 60'000'000;

Offset audio_bytes(const AudioLayout& l)
{
    return l.audio_end > l.audio_start ? l.audio_end - l.audio_start : 0;
}

// ceil(a * b / c) in 128 bits, saturated to an Offset.
Offset mul_div_up(std::uint64_t a, std::uint64_t b, std::uint64_t c)
{
    const auto q = (static_cast<unsigned __int128>(a) * b + c - 1) / c;
    return q > std::numeric_limits<Offset>::max() ? std::numeric_limits<Offset>::max() : static_cast<Offset>(q);
}

}  // namespace

Offset bytes_at_bitrate(std::uint64_t bitrate, Micros t)
{
    return t <= 0 ? 0 : mul_div_up(bitrate, static_cast<std::uint64_t>(t), 8'000'000);
}

Offset download_threshold(const AudioLayout& l)
{
    const Offset audio = audio_bytes(l);
    if (l.duration <= kOneMinute || audio == 0) {
        return l.size;
    }
    // ceil(audio * 60 s / duration): not above the audio, since the duration passes a minute.
    const Offset minute = mul_div_up(audio, kOneMinute, static_cast<std::uint64_t>(l.duration));
    // The floor: a minute of audio is at least a minute at the format's lowest bitrate, so a
    // header claiming hours for a few bytes (an MP4 mvhd of 0xFFFFFFFE) cannot make a request
    // of a few bytes a download. A file with less audio than that is a download when whole.
    const Offset floor = std::min(audio, bytes_at_bitrate(l.floor_bitrate, kOneMinute));
    // Every byte that is not audio is header: what comes before it, and what a player may
    // need after it (an MP4 moov at the end of the file).
    return std::min(l.size, l.size - audio + std::max(minute, floor));
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
