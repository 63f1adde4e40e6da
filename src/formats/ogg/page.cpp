#include "page.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "../crc.h"

namespace audio_stream {
namespace ogg {

namespace {

// Bytes examined while searching (capture-pattern scans, CRC checks) per cut.
constexpr Offset kScanBudget = Offset{16} << 20;

// RFC 3533 §6: CRC-32, polynomial 0x04C11DB7, MSB first, initial 0, no final xor.
constexpr std::uint32_t kPoly = 0x04C11DB7;

}  // namespace

std::uint32_t crc_update(std::uint32_t crc, const Byte* p, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) {
        crc = crc::update<std::uint32_t, kPoly>(crc, p[i]);
    }
    return crc;
}

std::optional<std::size_t> Page::open_packet() const
{
    if (segments == 0 || lacing(segments - 1) != 255) {
        return std::nullopt;
    }
    std::size_t i = segments;
    while (i > 0 && lacing(i - 1) == 255) {
        --i;
    }
    return i;
}

std::size_t Page::completed_packets() const
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < segments; ++i) {
        n += lacing(i) < 255;
    }
    return n;
}

Offset Page::body_offset(std::size_t segment) const
{
    Offset o = 0;
    for (std::size_t i = 0; i < segment; ++i) {
        o += lacing(i);
    }
    return o;
}

Pages::Pages(ByteSource& src) : src_(src), size_(src.size()), budget_(kScanBudget) {}

bool Pages::header_at(Offset off, Page& p)
{
    if (off >= size_ || size_ - off < kFixedHeader) {
        return false;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<Offset>(kMaxHeader, size_ - off));
    if (!src_.read(off, p.header, n) || std::memcmp(p.header, "OggS", 4) != 0 || p.header[4] != 0) {
        return false;
    }
    p.offset = off;
    p.segments = p.header[26];
    if (kFixedHeader + p.segments > n) {
        return false;
    }
    p.body = 0;
    for (std::size_t i = 0; i < p.segments; ++i) {
        p.body += p.lacing(i);
    }
    return p.length() <= size_ - off;
}

bool Pages::load(const Page& p)
{
    buffer_.resize(kMaxPage);
    const auto n = static_cast<std::size_t>(p.length());
    if (!spend(n) || !src_.read(p.offset, buffer_.data(), n)) {
        return false;
    }
    std::memset(buffer_.data() + kCrcAt, 0, 4);
    const bool ok = crc_update(0, buffer_.data(), n) == p.crc();
    put_le(buffer_.data() + kCrcAt, 4, p.crc());
    return ok;
}

bool Pages::find_granule_page(Offset from, Offset to, std::uint32_t serial, Page& out)
{
    to = std::min(to, size_);
    scan_.resize(64 * 1024);
    for (Offset at = from; at < to;) {
        const auto n = static_cast<std::size_t>(std::min<Offset>(scan_.size(), size_ - at));
        if (n < 4 || !spend(n) || !src_.read(at, scan_.data(), n)) {
            return false;
        }
        for (std::size_t i = 0; i + 4 <= n && at + i < to; ++i) {
            if (std::memcmp(scan_.data() + i, "OggS", 4) != 0) {
                continue;
            }
            Page p;
            if (header_at(at + i, p) && p.serial() == serial && p.granule() >= 0 && load(p)) {
                out = p;
                return true;
            }
            if (exhausted()) {
                return false;
            }
        }
        at += n - 3;  // the pattern may straddle two reads
    }
    return false;
}

bool Pages::spend(Offset n)
{
    if (n > budget_) {
        budget_ = 0;
        return false;
    }
    budget_ -= n;
    return true;
}

void add_memory(Extents& out, const Byte* p, std::size_t n)
{
    out.push_back(MemoryBlock{std::string(reinterpret_cast<const char*>(p), n)});
}

void emit_patched(Extents& out, const Page& page, Offset at, const Byte* old_bytes, const Byte* new_bytes,
                  std::size_t n)
{
    std::size_t first = 0;
    while (first < n && old_bytes[first] == new_bytes[first]) {
        ++first;
    }
    if (first == n) {
        append_file(out, page.offset, page.length());
        return;
    }
    Byte delta[kMaxHeader];
    for (std::size_t i = first; i < n; ++i) {
        delta[i] = old_bytes[i] ^ new_bytes[i];
    }
    const std::uint32_t diff = crc_update(0, delta + first, n - first);
    const std::uint32_t crc = page.crc() ^ crc::feed_zeros<std::uint32_t, kPoly>(diff, page.length() - (at + n));
    Byte crc_bytes[4];
    put_le(crc_bytes, 4, crc);
    const Offset from = at + first;
    if (at + n == kCrcAt) {
        // A header patch ends at the CRC field: one block holds both.
        Byte block[kCrcAt + 4];
        std::copy(new_bytes + first, new_bytes + n, block);
        std::copy(crc_bytes, crc_bytes + 4, block + (n - first));
        append_file(out, page.offset, from);
        add_memory(out, block, n - first + 4);
        append_file(out, page.offset + kCrcAt + 4, page.length() - kCrcAt - 4);
        return;
    }
    append_file(out, page.offset, kCrcAt);
    add_memory(out, crc_bytes, 4);
    append_file(out, page.offset + kCrcAt + 4, from - kCrcAt - 4);
    add_memory(out, new_bytes + first, n - first);
    append_file(out, page.offset + from + (n - first), page.length() - from - (n - first));
}

void emit_rebased(Extents& out, const Page& page, Byte type, std::int64_t granule, std::uint32_t sequence)
{
    Byte fields[kCrcAt - 5];
    fields[0] = type;
    put_le(fields + 1, 8, static_cast<std::uint64_t>(granule));
    std::copy(page.header + 14, page.header + 18, fields + 9);  // the serial number stays
    put_le(fields + 13, 4, sequence);
    emit_patched(out, page, 5, page.header + 5, fields, sizeof fields);
}

void emit_part(Extents& out, const Page& page, const Byte* body, std::size_t from, std::size_t to, Byte type,
               std::int64_t granule, std::uint32_t sequence)
{
    const Offset skip = page.body_offset(from);
    const std::size_t kept = to - from;
    Byte h[kMaxHeader];
    std::copy(page.header, page.header + kFixedHeader, h);
    std::copy(page.header + kFixedHeader + from, page.header + kFixedHeader + to, h + kFixedHeader);
    h[5] = static_cast<Byte>(type & ~kContinued);
    bool completes = false;
    for (std::size_t i = from; i < to; ++i) {
        completes = completes || page.lacing(i) < 255;
    }
    put_le(h + 6, 8, static_cast<std::uint64_t>(completes ? granule : -1));
    put_le(h + 18, 4, sequence);
    h[26] = static_cast<Byte>(kept);
    std::memset(h + kCrcAt, 0, 4);
    const Offset length = page.body_offset(to) - skip;
    std::uint32_t crc = crc_update(0, h, kFixedHeader + kept);
    crc = crc_update(crc, body + skip, static_cast<std::size_t>(length));
    put_le(h + kCrcAt, 4, crc);
    add_memory(out, h, kFixedHeader + kept);
    append_file(out, page.offset + page.header_length() + skip, length);
}

void emit_trimmed(Extents& out, const Page& page, const Byte* body, std::size_t segment, Byte type,
                  std::int64_t granule, std::uint32_t sequence)
{
    emit_part(out, page, body, segment, page.segments, type, granule, sequence);
}

}  // namespace ogg
}  // namespace audio_stream
