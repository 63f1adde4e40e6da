#include "cut_cache.h"

namespace audio_stream {

namespace {

// The heap bytes a string holds beyond its own object: none while its bytes fit in the object's
// small-string buffer, else its capacity, the terminating zero and malloc's chunk header, rounded
// to malloc's 16 bytes (a rewritten 20-byte Ogg page header costs 32).
std::size_t heap_bytes(const std::string& s)
{
    static const std::size_t inline_capacity = std::string().capacity();
    return s.capacity() <= inline_capacity ? 0 : (s.capacity() + 1 + sizeof(std::size_t) + 15) / 16 * 16;
}

}  // namespace

std::size_t cut_footprint(const Cut& cut)
{
    std::size_t total = sizeof(Cut) + heap_bytes(cut.detail) + heap_bytes(cut.rep.etag_suffix) +
                        (cut.rep.extents.capacity() + cut.rep.source.capacity()) * sizeof(Extent);
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            total += heap_bytes(m->bytes);
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
