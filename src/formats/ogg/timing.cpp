#include "timing.h"

namespace audio_stream {
namespace ogg {

namespace {

using Durations = std::vector<std::optional<std::int64_t>>;

// Where the first packet that ends on `page` starts when the page continues it (RFC 3533 §6):
// the packet `before` leaves open, or else the one that starts the page after `before` (pages
// between carry no granule position, so no packet ends on them). Without `before`, the stream's
// first audio packet.
std::optional<Offset> continued_start(Pages& pages, const Stream& s, const Page& page,
                                      const std::optional<Page>& before)
{
    if (!before) {
        return s.audio.offset != page.offset ? std::optional<Offset>(s.audio.offset + s.audio.header_length())
                                             : std::nullopt;
    }
    if (const auto open = before->open_packet()) {
        return before->offset + before->header_length() + before->body_offset(*open);
    }
    Page next;
    if (!pages.header_at(before->end(), next) || next.serial() != s.serial || (next.type() & kContinued) ||
        next.offset == page.offset || next.segments == 0) {
        return std::nullopt;
    }
    return next.offset + next.header_length();
}

// Where the last packet that ends on `before` starts, when it starts there.
std::optional<Offset> last_start(const Page& before)
{
    const std::size_t first = before.last_packet_start();
    if (before.completed_packets() == 0 || (first == 0 && (before.type() & kContinued))) {
        return std::nullopt;
    }
    return before.offset + before.header_length() + before.body_offset(first);
}

// The first n bytes of a packet at a file offset (an Opus TOC and frame count: 2; a Vorbis
// mode: 1). A packet left open at a page's end has at least 255 bytes there.
bool read_head(Pages& pages, std::optional<Offset> at, Byte* head, std::size_t n)
{
    return at && pages.read(*at, head, n);
}

std::optional<VorbisBlock> block_at(Pages& pages, const VorbisModes& m, std::optional<Offset> at)
{
    Byte mode = 0;
    return read_head(pages, at, &mode, 1) ? vorbis_block(m, &mode, 1) : std::nullopt;
}

// RFC 6716 §3.1: each packet's samples from its TOC (the first one's from its start).
Durations opus_durations(Pages& pages, const Stream& s, const Page& page, const std::vector<Packet>& list,
                         const std::optional<Page>& before)
{
    Durations d;
    for (const Packet& k : list) {
        const std::int64_t n = opus_samples(pages.body(page) + k.offset, k.length);
        d.push_back(n > 0 ? std::optional<std::int64_t>(n) : std::nullopt);
    }
    if (page.type() & kContinued) {
        Byte head[2];
        const bool read = read_head(pages, continued_start(pages, s, page, before), head, 2);
        const std::int64_t first = read ? opus_samples(head, 2) : 0;
        d[0] = first > 0 ? std::optional<std::int64_t>(first) : std::nullopt;
    }
    return d;
}

// Vorbis I §1.3.2: a packet adds (previous block + its block) / 4 samples. A block's size comes
// from its first byte (Vorbis I §4.3.1), the previous one's from that packet or, for a long
// block, from its own previous-window flag. The stream's first packet adds none (Vorbis I §A.2).
Durations vorbis_durations(Pages& pages, const Stream& s, const Page& page, const std::vector<Packet>& list,
                           const std::optional<Page>& before)
{
    const VorbisModes& m = *s.modes;
    std::vector<std::optional<VorbisBlock>> blocks;
    for (const Packet& k : list) {
        blocks.push_back(vorbis_block(m, pages.body(page) + k.offset, k.length));
    }
    if (page.type() & kContinued) {
        blocks[0] = block_at(pages, m, continued_start(pages, s, page, before));
    }
    std::optional<std::int64_t> previous;
    if (before) {
        if (const auto b = block_at(pages, m, last_start(*before))) {
            previous = b->size;
        }
    }
    Durations d;
    for (std::size_t j = 0; j < blocks.size(); ++j) {
        const auto& b = blocks[j];
        const auto prior = b && b->previous ? b->previous : previous;
        d.push_back(b && prior ? std::optional<std::int64_t>((*prior + b->size) / 4) : std::nullopt);
        if (j == 0 && !before) {
            d[0] = 0;
        }
        previous = b ? std::optional<std::int64_t>(b->size) : std::nullopt;
    }
    return d;
}

// Back from the page's granule position: needs every duration but the first.
std::optional<std::vector<PacketEnd>> count_back(const std::vector<Packet>& list, const Durations& d,
                                                 std::int64_t granule)
{
    std::vector<PacketEnd> ends(list.size());
    std::int64_t end = granule;
    for (std::size_t j = list.size(); j-- > 0;) {
        ends[j] = PacketEnd{list[j], end};
        if (j > 0) {
            if (!d[j]) {
                return std::nullopt;
            }
            end -= *d[j];
        }
    }
    return ends;
}

// Forward from where the first packet starts: needs every duration.
std::optional<std::vector<PacketEnd>> count_forward(const std::vector<Packet>& list, const Durations& d,
                                                    std::int64_t start)
{
    std::vector<PacketEnd> ends;
    std::int64_t end = start;
    for (std::size_t j = 0; j < list.size(); ++j) {
        if (!d[j]) {
            return std::nullopt;
        }
        end += *d[j];
        ends.push_back(PacketEnd{list[j], end});
    }
    return ends;
}

}  // namespace

std::optional<std::vector<PacketEnd>> packet_ends(Pages& pages, const Stream& s, const Page& page,
                                                  const std::optional<Page>& before)
{
    if (page.granule() < 0 || (!s.opus && !s.modes) || !pages.load(page)) {
        return std::nullopt;
    }
    std::vector<Packet> list;
    for (const Packet& k : packets(page)) {
        if (k.complete) {
            list.push_back(k);
        }
    }
    if (list.empty()) {
        return std::nullopt;
    }
    const Durations d = s.opus ? opus_durations(pages, s, page, list, before) : vorbis_durations(pages, s, page, list, before);
    if ((page.type() & kEos) == 0) {
        return count_back(list, d, page.granule());
    }
    // The end-of-stream page, perhaps end-trimmed: from the end of the page before, or the
    // stream's start. When the block before its first packet is unknown (a short first block
    // after a packet that began on an earlier page than `before`), nothing is placed inside it.
    return count_forward(list, d, before ? before->granule() : s.origin);
}

}  // namespace ogg
}  // namespace audio_stream
