#include "tables.h"

#include <algorithm>
#include <limits>

namespace audio_stream::mp4 {

namespace {

constexpr std::size_t kSizesWindow = 16 * 1024;  // stsz entries read at once (64 KiB)

std::uint64_t saturated(unsigned __int128 v)
{
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    return v > kMax ? kMax : static_cast<std::uint64_t>(v);
}

}  // namespace

RunsAt runs_at(const Runs& r, std::uint64_t k)
{
    RunsAt at;
    std::uint64_t seen = 0;
    for (; at.entry < r.entries; ++at.entry) {
        const std::uint32_t n = r.count(at.entry);
        if (k < seen + n) {
            at.left = static_cast<std::uint32_t>(seen + n - k);
            at.before += (k - seen) * r.value(at.entry);
            return at;
        }
        seen += n;
        at.before += std::uint64_t{n} * r.value(at.entry);
    }
    return at;
}

// The reader checked that stts sums below 2^63 ticks, so no product or sum here overflows.
std::uint64_t sample_at_tick(const Runs& stts, std::uint64_t m)
{
    std::uint64_t sample = 0;
    std::uint64_t ticks = 0;
    for (std::uint32_t i = 0; i < stts.entries; ++i) {
        const std::uint64_t n = stts.count(i);
        const std::uint64_t d = stts.value(i);
        if (d != 0 && m < ticks + n * d) {
            return sample + (m - ticks) / d;
        }
        sample += n;
        ticks += n * d;
    }
    return sample;
}

std::uint64_t samples_before_tick(const Runs& stts, std::uint64_t m)
{
    std::uint64_t sample = 0;
    std::uint64_t ticks = 0;
    for (std::uint32_t i = 0; i < stts.entries && ticks < m; ++i) {
        const std::uint64_t n = stts.count(i);
        const std::uint64_t d = stts.value(i);
        // A run of samples of no duration all start at `ticks`, before m.
        if (d != 0 && m < ticks + n * d) {
            return sample + (m - ticks + d - 1) / d;
        }
        sample += n;
        ticks += n * d;
    }
    return sample;
}

ChunkOf chunk_of(const Chunks& c, std::uint64_t k)
{
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < c.runs.size(); ++i) {
        const std::uint64_t next = i + 1 < c.runs.size() ? c.runs[i + 1].first_chunk : c.offsets.size();
        const std::uint64_t per = c.runs[i].per_chunk;
        const std::uint64_t in_run = (next - c.runs[i].first_chunk) * per;
        if (k < seen + in_run) {
            const std::uint64_t chunk = (k - seen) / per;
            return {c.runs[i].first_chunk + chunk, seen + chunk * per};
        }
        seen += in_run;
    }
    refuse_malformed("a sample past the chunks");  // read_track checked the counts agree
}

ChunkCursor::ChunkCursor(const Chunks& c, std::uint64_t chunk) : c_(c), chunk_(chunk)
{
    while (run_ + 1 < c_.runs.size() && c_.runs[run_ + 1].first_chunk <= chunk_) {
        ++run_;
    }
}

void ChunkCursor::next()
{
    ++chunk_;
    if (run_ + 1 < c_.runs.size() && c_.runs[run_ + 1].first_chunk <= chunk_) {
        ++run_;
    }
}

Offset SampleSizes::sum(std::uint64_t first, std::uint64_t count)
{
    if (stsz_.fixed != 0) {
        return count * stsz_.fixed;
    }
    Offset total = 0;
    for (std::uint64_t i = first; i < first + count; ++i) {
        const std::uint64_t in = i - window_first_;
        if (i < window_first_ || in >= window_.size() / 4) {
            const std::uint64_t n = std::min<std::uint64_t>(kSizesWindow, stsz_.count - i);
            window_.resize(static_cast<std::size_t>(n * 4));
            if (!src_.read(stsz_.table + i * 4, window_.data(), window_.size())) {
                refuse_malformed("read error in stsz");
            }
            window_first_ = i;
        }
        total += be32(reinterpret_cast<const Byte*>(window_.data()) + (i - window_first_) * 4);
    }
    return total;
}

std::uint64_t rescale(std::uint64_t ticks, std::uint32_t from, std::uint32_t to)
{
    return from == 0 ? 0 : saturated((static_cast<unsigned __int128>(ticks) * to + from / 2) / from);
}

std::uint64_t rescale_up(std::uint64_t ticks, std::uint32_t from, std::uint32_t to)
{
    return from == 0 ? 0 : saturated((static_cast<unsigned __int128>(ticks) * to + from - 1) / from);
}

}  // namespace audio_stream::mp4
