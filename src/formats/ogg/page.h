// The Ogg page layer (RFC 3533): page headers, their CRC-32, a budgeted page reader, and the
// rewriting of page headers whose new CRC follows from the old one without reading the body.
// Codec-blind: what the packets mean is the business of codec.h and timing.h.
#ifndef AUDIO_STREAM_FORMATS_OGG_PAGE_H
#define AUDIO_STREAM_FORMATS_OGG_PAGE_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "../toolbox.h"

namespace audio_stream {
namespace ogg {

// RFC 3533 §6: a page is a 27-byte header, up to 255 lacing values, up to 255 * 255 bytes.
constexpr std::size_t kFixedHeader = 27;
constexpr std::size_t kMaxHeader = kFixedHeader + 255;
constexpr std::size_t kMaxPage = kMaxHeader + 255 * 255;
// Page headers (and the pages whose CRC is checked) are read through a window of at least this
// many bytes: a walk over pages smaller than it (an empty page is 27 bytes) costs one read per
// window, not one or two per page; a real page (4 KiB or more) still costs one read of its
// header's neighbourhood. A walk over many pages a window grows it, to kMaxWindow: the bytes read
// are then about the bytes walked, in a read per 16 KiB.
constexpr std::size_t kHeaderWindow = 512;
constexpr std::size_t kMaxWindow = 16 * 1024;
constexpr std::size_t kCrcAt = 22;
constexpr Byte kContinued = 0x01;
constexpr Byte kBos = 0x02;
constexpr Byte kEos = 0x04;
// RFC 3533 §6 does not bound a granule position, but one past 2^62 (3 million years at 48 kHz) is
// no stream's: it reads as 2^62, so that sums of granule positions and sample counts (an origin
// plus START's sample and the pre-skip, packet ends counted on from a page's) stay in 64 bits.
constexpr std::int64_t kMaxGranule = std::int64_t{1} << 62;

// RFC 3533 §6: CRC-32, polynomial 0x04C11DB7, MSB first, initial 0, no final xor, continued
// over n bytes.
std::uint32_t crc_update(std::uint32_t crc, const Byte* p, std::size_t n);

struct Page {
    Offset offset = 0;
    Byte header[kMaxHeader] = {};
    std::size_t segments = 0;
    Offset body = 0;

    Byte type() const { return header[5]; }
    // -1 (RFC 3533: no packet ends on this page) for any negative value, kMaxGranule for any above.
    std::int64_t granule() const
    {
        return std::clamp<std::int64_t>(static_cast<std::int64_t>(le(header + 6, 8)), -1, kMaxGranule);
    }
    std::uint32_t serial() const { return static_cast<std::uint32_t>(le(header + 14, 4)); }
    std::uint32_t sequence() const { return static_cast<std::uint32_t>(le(header + 18, 4)); }
    std::uint32_t crc() const { return static_cast<std::uint32_t>(le(header + kCrcAt, 4)); }
    Byte lacing(std::size_t i) const { return header[kFixedHeader + i]; }
    Offset header_length() const { return kFixedHeader + segments; }
    Offset length() const { return header_length() + body; }
    Offset end() const { return offset + length(); }
    // The packet left unfinished at the end of the page, if any: its first segment.
    std::optional<std::size_t> open_packet() const;
    // The first segment of the last packet that ends on the page (0 when it began on an earlier
    // page, or when none ends on it).
    std::size_t last_packet_start() const;
    std::size_t completed_packets() const;
    Offset body_offset(std::size_t segment) const;
};

// A packet's lacing values on a page, [first, stop), and its bytes there (RFC 3533 §6: a lacing
// value below 255 ends a packet). The first packet of a continued page began on an earlier page.
struct Packet {
    std::size_t first = 0;
    std::size_t stop = 0;
    Offset offset = 0;  // in the page body
    Offset length = 0;  // on this page
    bool complete = false;
};

// The packets of the page from lacing value `from` on, in order; the last may be incomplete.
std::vector<Packet> packets(const Page& p, std::size_t from = 0);

// Page access with a search budget. A cut keeps the last two pages it loaded (a cut's first page
// and a clip's last are each read once, while locating and while writing), and one more buffer
// checks the pages a search finds.
class Pages {
public:
    explicit Pages(ByteSource& src);

    Offset size() const { return size_; }
    bool exhausted() const { return budget_ == 0; }

    // The page header at off: capture pattern, version 0, the whole page inside the file.
    bool header_at(Offset off, Page& p);

    // Reads the whole page and keeps it; false if its CRC does not match.
    bool load(const Page& p);

    // Whether the page's CRC matches, keeping nothing.
    bool verify(const Page& p);

    // The body of a page loaded (of the last page loaded if p is not kept).
    const Byte* body(const Page& p) const;

    // n bytes at off, outside the page buffers (a packet's first bytes on an earlier page).
    bool read(Offset off, Byte* out, std::size_t n) { return src_.read(off, out, n); }

    // The first page in [from, to) that `wanted` accepts and whose CRC matches: a capture
    // pattern inside packet data does not pass.
    bool find_page(Offset from, Offset to, const std::function<bool(const Page&)>& wanted, Page& out);

    // The first page of `serial` in [from, to) that carries a granule position (find_page).
    bool find_granule_page(Offset from, Offset to, std::uint32_t serial, Page& out);

private:
    struct Kept {
        Offset offset = 0;
        bool ok = false;
        std::vector<Byte> bytes;
    };

    bool spend(Offset n);
    bool window_bytes(Offset off, Byte* out, std::size_t n);
    bool read_checked(const Page& p, std::vector<Byte>& into);
    bool holds(std::size_t slot, const Page& p) const;

    ByteSource& src_;
    Offset size_;
    Offset budget_;
    Kept kept_[2];
    std::size_t recent_ = 0;  // the slot loaded last
    std::vector<Byte> scratch_;
    std::vector<Byte> scan_;
    std::vector<Byte> headers_;  // the window header_at and the CRC checks read through (kHeaderWindow)
    Offset headers_at_ = 0;
    std::size_t window_ = kHeaderWindow;  // the size of the next read into it
    std::size_t served_ = 0;              // reads from it since it was filled
};

void add_memory(Extents& out, const Byte* p, std::size_t n);

// Bytes [at, at + n) of a page (not overlapping the CRC field) and what replaces them.
struct Patch {
    Offset at = 0;
    const Byte* old_bytes = nullptr;
    const Byte* new_bytes = nullptr;
    std::size_t n = 0;
};

// Emits the page patched: the new CRC is the old one xor the CRC of the difference, shifted over
// the bytes after it.
void emit_patched(Extents& out, const Page& page, const Patch& patch);

// What a rewritten page header says.
struct Fields {
    Byte type = 0;
    std::int64_t granule = -1;
    std::uint32_t sequence = 0;
};

// A header patch: flags, granule position and sequence number (bytes 5..21).
void emit_rebased(Extents& out, const Page& page, const Fields& f);

// Lacing values [from, to) of a page (to <= segments).
struct Lacing {
    std::size_t from = 0;
    std::size_t to = 0;
};

// Lacing values `part` of the page as a page of its own: the packets outside are dropped, and the
// new header has the fields `f` (continued only if the part starts the page and the page was
// continued; granule position -1 when no packet ends in the part), its CRC computed over what
// stays. `body` is the page's body, loaded.
void emit_part(Extents& out, const Page& page, const Byte* body, Lacing part, const Fields& f);

}  // namespace ogg
}  // namespace audio_stream

#endif
