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

std::size_t SpanHash::operator()(const Span& s) const
{
    // Two 64-bit values into one: an odd multiplier spreads the start over the word.
    return static_cast<std::size_t>(static_cast<std::uint64_t>(s.start) * 0x9E3779B97F4A7C15ull ^
                                    static_cast<std::uint64_t>(s.end));
}

}  // namespace audio_stream
