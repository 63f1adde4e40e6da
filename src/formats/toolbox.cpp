#include "toolbox.h"

#include <limits>
#include <utility>

namespace audio_stream {

namespace {

constexpr std::uint64_t kMicrosPerSecond = 1000000;

}  // namespace

void refuse_malformed(std::string detail)
{
    throw Refusal{Cut::Status::Malformed, std::move(detail)};
}

void refuse_unsupported(std::string detail)
{
    throw Refusal{Cut::Status::Unsupported, std::move(detail)};
}

void refuse_over_budget(std::string detail)
{
    throw Refusal{Cut::Status::OverBudget, std::move(detail)};
}

void refuse_past_end()
{
    throw Refusal{Cut::Status::PastEnd, {}};
}

std::uint64_t sample_at(Micros t, std::uint32_t rate)
{
    if (t <= 0) {
        return 0;
    }
    // 128 bits hold t * rate exactly for any t and rate: no split, no rounding to get wrong.
    const unsigned __int128 sample = static_cast<unsigned __int128>(t) * rate / kMicrosPerSecond;
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    return sample > kMax ? kMax : static_cast<std::uint64_t>(sample);
}

std::uint64_t samples_before(Micros t, std::uint32_t rate)
{
    if (t <= 0) {
        return 0;
    }
    const unsigned __int128 sample = (static_cast<unsigned __int128>(t) * rate + kMicrosPerSecond - 1) / kMicrosPerSecond;
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    return sample > kMax ? kMax : static_cast<std::uint64_t>(sample);
}

Micros samples_to_micros(std::uint64_t samples, std::uint32_t rate)
{
    if (rate == 0) {
        return 0;
    }
    const unsigned __int128 micros = static_cast<unsigned __int128>(samples) * kMicrosPerSecond / rate;
    constexpr auto kMax = std::numeric_limits<Micros>::max();
    return micros > static_cast<unsigned __int128>(kMax) ? kMax : static_cast<Micros>(micros);
}

}  // namespace audio_stream
