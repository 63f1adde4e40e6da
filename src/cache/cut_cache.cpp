#include "cut_cache.h"

namespace audio_stream {

std::size_t cut_footprint(const Cut& cut)
{
    std::size_t total = sizeof(Cut) + cut.detail.size() + cut.rep.etag_suffix.size();
    for (const auto& e : cut.rep.extents) {
        total += sizeof(Extent);
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            total += m->bytes.size();
        }
    }
    return total;
}

std::size_t CutKeyHash::operator()(const CutKey& k) const
{
    // Three values into one: an odd multiplier spreads each over the word before the next.
    const std::uint64_t spread = 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(
        (static_cast<std::uint64_t>(k.span.start) * spread ^ static_cast<std::uint64_t>(k.span.end)) * spread ^ k.format);
}

}  // namespace audio_stream
