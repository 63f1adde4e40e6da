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
// A search reads this much at a time: a page (4 to 20 KiB as encoders write them) usually starts
// within the first read, and a bisection makes one search per step.
constexpr std::size_t kScanChunk = 4 * 1024;

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

std::size_t Page::last_packet_start() const
{
    std::size_t i = segments;
    while (i > 0 && lacing(i - 1) == 255) {
        --i;
    }
    // i - 1 is the last packet's final segment; its start follows the packet before it.
    std::size_t start = i > 0 ? i - 1 : 0;
    while (start > 0 && lacing(start - 1) == 255) {
        --start;
    }
    return start;
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

std::vector<Packet> packets(const Page& p, std::size_t from)
{
    std::vector<Packet> out;
    Offset offset = p.body_offset(from);
    for (std::size_t seg = from; seg < p.segments;) {
        Packet k;
        k.first = seg;
        k.offset = offset;
        while (seg < p.segments && p.lacing(seg) == 255) {
            k.length += 255;
            ++seg;
        }
        k.complete = seg < p.segments;
        if (k.complete) {
            k.length += p.lacing(seg);
            ++seg;
        }
        k.stop = seg;
        offset += k.length;
        out.push_back(k);
    }
    return out;
}

Pages::Pages(ByteSource& src) : src_(src), size_(src.size()), budget_(kScanBudget) {}

bool Pages::header_at(Offset off, Page& p)
{
    // The fixed header, then its lacing values: a page's header is read as far as it goes, so a
    // window of tiny pages serves as many as it holds.
    if (!window_bytes(off, p.header, kFixedHeader) || std::memcmp(p.header, "OggS", 4) != 0 || p.header[4] != 0) {
        return false;
    }
    p.offset = off;
    p.segments = p.header[26];
    if (!window_bytes(off + kFixedHeader, p.header + kFixedHeader, p.segments)) {
        return false;
    }
    p.body = 0;
    for (std::size_t i = 0; i < p.segments; ++i) {
        p.body += p.lacing(i);
    }
    return p.length() <= size_ - off;
}

bool Pages::window_bytes(Offset off, Byte* out, std::size_t n)
{
    if (off > size_ || n > size_ - off) {
        return false;
    }
    if (off < headers_at_ || off - headers_at_ > headers_.size() || n > headers_.size() - (off - headers_at_)) {
        // A walk that found several pages in the window it leaves, and goes on where it ended,
        // reads twice as much the next time (to kMaxWindow); anything else reads kHeaderWindow.
        const bool walking = served_ >= 4 && off >= headers_at_ && off - headers_at_ <= headers_.size() + kFixedHeader;
        window_ = walking ? std::min(2 * window_, kMaxWindow) : kHeaderWindow;
        served_ = 0;
        headers_.resize(static_cast<std::size_t>(std::min<Offset>(std::max(window_, n), size_ - off)));
        if (!src_.read(off, headers_.data(), headers_.size())) {
            headers_.clear();
            return false;
        }
        headers_at_ = off;
    }
    ++served_;
    std::memcpy(out, headers_.data() + (off - headers_at_), n);
    return true;
}

bool Pages::read_checked(const Page& p, std::vector<Byte>& into)
{
    const auto n = static_cast<std::size_t>(p.length());
    into.resize(n);
    if (!spend(n) || !window_bytes(p.offset, into.data(), n)) {
        return false;
    }
    std::memset(into.data() + kCrcAt, 0, 4);
    const bool ok = crc_update(0, into.data(), n) == p.crc();
    put_le(into.data() + kCrcAt, 4, p.crc());
    return ok;
}

bool Pages::holds(std::size_t slot, const Page& p) const
{
    return kept_[slot].offset == p.offset && kept_[slot].bytes.size() == p.length();
}

bool Pages::load(const Page& p)
{
    if (!holds(recent_, p)) {
        recent_ = 1 - recent_;
        if (!holds(recent_, p)) {
            kept_[recent_].offset = p.offset;
            kept_[recent_].ok = read_checked(p, kept_[recent_].bytes);
        }
    }
    return kept_[recent_].ok;
}

bool Pages::verify(const Page& p)
{
    return read_checked(p, scratch_);
}

const Byte* Pages::body(const Page& p) const
{
    const std::size_t slot = !holds(recent_, p) && holds(1 - recent_, p) ? 1 - recent_ : recent_;
    return kept_[slot].bytes.data() + p.header_length();
}

bool Pages::find_granule_page(Offset from, Offset to, std::uint32_t serial, Page& out)
{
    return find_page(from, to, [serial](const Page& p) { return p.serial() == serial && p.granule() >= 0; }, out);
}

bool Pages::find_page(Offset from, Offset to, const std::function<bool(const Page&)>& wanted, Page& out)
{
    to = std::min(to, size_);
    scan_.resize(kScanChunk);
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
            if (header_at(at + i, p) && wanted(p) && verify(p)) {
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

void emit_patched(Extents& out, const Page& page, const Patch& patch)
{
    const Offset at = patch.at;
    const Byte* old_bytes = patch.old_bytes;
    const Byte* new_bytes = patch.new_bytes;
    const std::size_t n = patch.n;
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

void emit_rebased(Extents& out, const Page& page, const Fields& f)
{
    Byte fields[kCrcAt - 5];
    fields[0] = f.type;
    put_le(fields + 1, 8, static_cast<std::uint64_t>(f.granule));
    std::copy(page.header + 14, page.header + 18, fields + 9);  // the serial number stays
    put_le(fields + 13, 4, f.sequence);
    emit_patched(out, page, Patch{5, page.header + 5, fields, sizeof fields});
}

void emit_part(Extents& out, const Page& page, const Byte* body, Lacing part, const Fields& f)
{
    const Offset skip = page.body_offset(part.from);
    const std::size_t kept = part.to - part.from;
    Byte h[kMaxHeader];
    std::copy(page.header, page.header + kFixedHeader, h);
    std::copy(page.header + kFixedHeader + part.from, page.header + kFixedHeader + part.to, h + kFixedHeader);
    // RFC 3533 §6: a part that starts after a packet's end starts fresh.
    const Byte continued = part.from == 0 ? page.type() & kContinued : 0;
    h[5] = static_cast<Byte>((f.type & ~kContinued) | continued);
    bool completes = false;
    for (std::size_t i = part.from; i < part.to; ++i) {
        completes = completes || page.lacing(i) < 255;
    }
    put_le(h + 6, 8, static_cast<std::uint64_t>(completes ? f.granule : -1));
    put_le(h + 18, 4, f.sequence);
    h[26] = static_cast<Byte>(kept);
    std::memset(h + kCrcAt, 0, 4);
    const Offset length = page.body_offset(part.to) - skip;
    std::uint32_t crc = crc_update(0, h, kFixedHeader + kept);
    crc = crc_update(crc, body + skip, static_cast<std::size_t>(length));
    put_le(h + kCrcAt, 4, crc);
    add_memory(out, h, kFixedHeader + kept);
    append_file(out, page.offset + page.header_length() + skip, length);
}

}  // namespace ogg
}  // namespace audio_stream
