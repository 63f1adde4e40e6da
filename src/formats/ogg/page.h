// The Ogg page layer (RFC 3533): page headers, their CRC-32, a budgeted page reader, and the
// rewriting of page headers whose new CRC follows from the old one without reading the body.
// Codec-blind: what the packets mean is the business of ogg.cpp.
#ifndef AUDIO_STREAM_FORMATS_OGG_PAGE_H
#define AUDIO_STREAM_FORMATS_OGG_PAGE_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../../byte_source.h"
#include "../../representation.h"
#include "../toolbox.h"

namespace audio_stream {
namespace ogg {

// RFC 3533 §6: a page is a 27-byte header, up to 255 lacing values, up to 255 * 255 bytes.
constexpr std::size_t kFixedHeader = 27;
constexpr std::size_t kMaxHeader = kFixedHeader + 255;
constexpr std::size_t kMaxPage = kMaxHeader + 255 * 255;
constexpr std::size_t kCrcAt = 22;
constexpr Byte kContinued = 0x01;
constexpr Byte kBos = 0x02;
constexpr Byte kEos = 0x04;

// RFC 3533 §6: CRC-32, polynomial 0x04C11DB7, MSB first, initial 0, no final xor, continued
// over n bytes.
std::uint32_t crc_update(std::uint32_t crc, const Byte* p, std::size_t n);

struct Page {
    Offset offset = 0;
    Byte header[kMaxHeader] = {};
    std::size_t segments = 0;
    Offset body = 0;

    Byte type() const { return header[5]; }
    // -1 (RFC 3533: no packet ends on this page) for any negative value.
    std::int64_t granule() const { return std::max<std::int64_t>(static_cast<std::int64_t>(le(header + 6, 8)), -1); }
    std::uint32_t serial() const { return static_cast<std::uint32_t>(le(header + 14, 4)); }
    std::uint32_t sequence() const { return static_cast<std::uint32_t>(le(header + 18, 4)); }
    std::uint32_t crc() const { return static_cast<std::uint32_t>(le(header + kCrcAt, 4)); }
    Byte lacing(std::size_t i) const { return header[kFixedHeader + i]; }
    Offset header_length() const { return kFixedHeader + segments; }
    Offset length() const { return header_length() + body; }
    Offset end() const { return offset + length(); }
    // The packet left unfinished at the end of the page, if any: its first segment.
    std::optional<std::size_t> open_packet() const;
    std::size_t completed_packets() const;
    Offset body_offset(std::size_t segment) const;
};

// Page access with a search budget. One page buffer (at most kMaxPage bytes) per cut.
class Pages {
public:
    explicit Pages(ByteSource& src);

    Offset size() const { return size_; }
    bool exhausted() const { return budget_ == 0; }

    // The page header at off: capture pattern, version 0, the whole page inside the file.
    bool header_at(Offset off, Page& p);

    // Reads the whole page into the buffer; false if its CRC does not match.
    bool load(const Page& p);

    const Byte* body(const Page& p) const { return buffer_.data() + p.header_length(); }

    // The first page of `serial` in [from, to) that carries a granule position and whose CRC
    // matches: a capture pattern inside packet data does not pass.
    bool find_granule_page(Offset from, Offset to, std::uint32_t serial, Page& out);

private:
    bool spend(Offset n);

    ByteSource& src_;
    Offset size_;
    Offset budget_;
    std::vector<Byte> buffer_;
    std::vector<Byte> scan_;
};

void add_memory(Extents& out, const Byte* p, std::size_t n);

// Emits the page with bytes [at, at + n) replaced (not overlapping the CRC field): the new CRC is
// the old one xor the CRC of the difference, shifted over the bytes after it.
void emit_patched(Extents& out, const Page& page, Offset at, const Byte* old_bytes, const Byte* new_bytes,
                  std::size_t n);

// A header patch: flags, granule position and sequence number (bytes 5..21).
void emit_rebased(Extents& out, const Page& page, Byte type, std::int64_t granule, std::uint32_t sequence);

// The page from lacing value `segment` on: the packets before it are dropped, and the new header
// has flags `type` (never continued), `granule` (-1 when no packet ends on what stays) and
// `sequence`, its CRC computed over what stays. `body` is the page's body, loaded.
void emit_trimmed(Extents& out, const Page& page, const Byte* body, std::size_t segment, Byte type,
                  std::int64_t granule, std::uint32_t sequence);

// The same for lacing values [from, to) of the page (to <= segments): a page of its own.
void emit_part(Extents& out, const Page& page, const Byte* body, std::size_t from, std::size_t to, Byte type,
               std::int64_t granule, std::uint32_t sequence);

}  // namespace ogg
}  // namespace audio_stream

#endif
