#include "ogg.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace audio_stream {

namespace {

using Byte = std::uint8_t;

// RFC 3533 §6: a page is a 27-byte header, up to 255 lacing values, up to 255 * 255 bytes.
constexpr std::size_t kFixedHeader = 27;
constexpr std::size_t kMaxHeader = kFixedHeader + 255;
constexpr std::size_t kMaxPage = kMaxHeader + 255 * 255;
constexpr std::size_t kCrcAt = 22;
constexpr Byte kContinued = 0x01;
constexpr Byte kBos = 0x02;
constexpr Byte kEos = 0x04;

// Bytes examined while searching (capture-pattern scans, CRC checks) per cut.
constexpr Offset kScanBudget = Offset{16} << 20;
// Below this span the page is found by walking page to page instead of bisecting.
constexpr Offset kWalkSpan = 128 * 1024;
// Every audio page after the cut costs two extents (~110 bytes): this bounds a cut's memory.
constexpr std::size_t kMaxCutPages = std::size_t{1} << 18;
// Times beyond this (about 8.9 years) are past the end of any file and keep the maths in range.
constexpr Micros kLatest = Micros{1} << 48;

constexpr std::uint32_t kOpusRate = 48000;
// RFC 7845 §4.6: decode at least 80 ms before the target after a seek.
constexpr std::int64_t kOpusPreRoll = 3840;
constexpr std::int64_t kMaxPreSkip = 65535;

// RFC 3533 §6: CRC-32, polynomial 0x04C11DB7, MSB first, initial 0, no final xor.
constexpr std::uint32_t kPoly = 0x04C11DB7;

constexpr std::array<std::uint32_t, 256> make_crc_table()
{
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t r = i << 24;
        for (int k = 0; k < 8; ++k) {
            r = (r & 0x80000000u) ? (r << 1) ^ kPoly : (r << 1);
        }
        t[i] = r;
    }
    return t;
}

constexpr auto kCrcTable = make_crc_table();

std::uint32_t crc_update(std::uint32_t crc, const Byte* p, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) {
        crc = (crc << 8) ^ kCrcTable[(crc >> 24) ^ p[i]];
    }
    return crc;
}

// a(x) * b(x) mod P(x), bit 31 the x^31 coefficient.
constexpr std::uint32_t mul_mod(std::uint32_t a, std::uint32_t b)
{
    std::uint32_t r = 0;
    for (int i = 31; i >= 0; --i) {
        r = (r & 0x80000000u) ? (r << 1) ^ kPoly : (r << 1);
        if ((a >> i) & 1) {
            r ^= b;
        }
    }
    return r;
}

// x^(8 * 2^k) mod P: feeding 2^k zero bytes multiplies the CRC register by it.
constexpr std::array<std::uint32_t, 32> make_zero_powers()
{
    std::array<std::uint32_t, 32> p{};
    p[0] = 0x100;
    for (std::size_t k = 1; k < p.size(); ++k) {
        p[k] = mul_mod(p[k - 1], p[k - 1]);
    }
    return p;
}

constexpr auto kZeroPowers = make_zero_powers();

// The register after n more zero bytes, in O(log n): with initial 0 and no final xor the CRC is
// linear, so crc(A xor B) = crc(A) xor crc(B) for equal lengths, and a page whose header changes
// gets its new CRC from the old one without reading its body.
std::uint32_t crc_shift(std::uint32_t crc, std::uint64_t n)
{
    for (std::size_t k = 0; n != 0 && k < kZeroPowers.size(); ++k, n >>= 1) {
        if (n & 1) {
            crc = mul_mod(crc, kZeroPowers[k]);
        }
    }
    return crc;
}

std::uint64_t le(const Byte* p, int n)
{
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

void put_le(Byte* p, int n, std::uint64_t v)
{
    for (int i = 0; i < n; ++i) {
        p[i] = static_cast<Byte>(v);
        v >>= 8;
    }
}

std::uint64_t sample_at(Micros t, std::uint32_t rate)
{
    const auto u = static_cast<std::uint64_t>(std::clamp<Micros>(t, 0, kLatest));
    return u / 1000000 * rate + u % 1000000 * rate / 1000000;
}

// Saturates: a damaged page may carry a granule near 2^63, whose time overflows 64 bits.
Micros micros_of(std::int64_t samples, std::uint32_t rate)
{
    const auto s = static_cast<std::uint64_t>(std::max<std::int64_t>(samples, 0));
    constexpr std::uint64_t kMaxSeconds = (std::numeric_limits<Micros>::max() - 999999) / 1000000;
    if (s / rate > kMaxSeconds) {
        return std::numeric_limits<Micros>::max();
    }
    return static_cast<Micros>(s / rate * 1000000 + s % rate * 1000000 / rate);
}

Cut malformed(std::string detail)
{
    Cut cut;
    cut.status = Cut::Status::Malformed;
    cut.detail = std::move(detail);
    return cut;
}

Cut past_end()
{
    Cut cut;
    cut.status = Cut::Status::PastEnd;
    return cut;
}

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
    std::optional<std::size_t> open_packet() const
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
    std::size_t completed_packets() const
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < segments; ++i) {
            n += lacing(i) < 255;
        }
        return n;
    }
    Offset body_offset(std::size_t segment) const
    {
        Offset o = 0;
        for (std::size_t i = 0; i < segment; ++i) {
            o += lacing(i);
        }
        return o;
    }
};

// Page access with a search budget. One page buffer (at most kMaxPage bytes) per cut.
class Pages {
public:
    explicit Pages(ByteSource& src) : src_(src), size_(src.size()) {}

    Offset size() const { return size_; }
    bool exhausted() const { return budget_ == 0; }

    // The page header at off: capture pattern, version 0, the whole page inside the file.
    bool header_at(Offset off, Page& p)
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

    // Reads the whole page into the buffer; false if its CRC does not match.
    bool load(const Page& p)
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

    const Byte* body(const Page& p) const { return buffer_.data() + p.header_length(); }

    // The first page of `serial` in [from, to) that carries a granule position and whose CRC
    // matches: a capture pattern inside packet data does not pass.
    bool find_granule_page(Offset from, Offset to, std::uint32_t serial, Page& out)
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

private:
    bool spend(Offset n)
    {
        if (n > budget_) {
            budget_ = 0;
            return false;
        }
        budget_ -= n;
        return true;
    }

    ByteSource& src_;
    Offset size_;
    Offset budget_ = kScanBudget;
    std::vector<Byte> buffer_;
    std::vector<Byte> scan_;
};

void add_memory(Extents& out, const Byte* p, std::size_t n)
{
    out.push_back(MemoryBlock{std::string(reinterpret_cast<const char*>(p), n)});
}

// Emits the page with bytes [at, at + n) replaced (not overlapping the CRC field): the new CRC is
// the old one xor the CRC of the difference, shifted over the bytes after it.
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
    const std::uint32_t crc =
        page.crc() ^ crc_shift(crc_update(0, delta + first, n - first), page.length() - (at + n));
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

// A header patch: flags, granule position and sequence number (bytes 5..21).
void emit_rebased(Extents& out, const Page& page, Byte type, std::int64_t granule, std::uint32_t sequence)
{
    Byte fields[kCrcAt - 5];
    fields[0] = type;
    put_le(fields + 1, 8, static_cast<std::uint64_t>(granule));
    std::copy(page.header + 14, page.header + 18, fields + 9);  // the serial number stays
    put_le(fields + 13, 4, sequence);
    emit_patched(out, page, 5, page.header + 5, fields, sizeof fields);
}

enum class Codec { Vorbis, Opus };

struct StreamHeader {
    Codec codec;
    std::uint32_t rate;         // Vorbis: the sample rate; Opus: 48000 (RFC 7845 §4)
    std::int64_t pre_skip = 0;  // Opus
};

std::optional<StreamHeader> identify(const Byte* p, Offset n)
{
    // Vorbis I §4.2.2: the identification header; RFC 7845 §5.1: OpusHead.
    if (n >= 30 && std::memcmp(p, "\x01vorbis", 7) == 0) {
        const auto rate = static_cast<std::uint32_t>(le(p + 12, 4));
        if (le(p + 7, 4) != 0 || p[11] == 0 || rate == 0 || (p[29] & 1) == 0) {
            return std::nullopt;
        }
        return StreamHeader{Codec::Vorbis, rate, 0};
    }
    if (n >= 19 && std::memcmp(p, "OpusHead", 8) == 0) {
        if ((p[8] >> 4) != 0 || p[9] == 0) {
            return std::nullopt;
        }
        return StreamHeader{Codec::Opus, kOpusRate, static_cast<std::int64_t>(le(p + 10, 2))};
    }
    return std::nullopt;
}

// RFC 6716 §3.1: samples (at 48 kHz) in an Opus packet, from its TOC byte and, for code 3, its
// frame count byte. 0 when the packet is not a valid one.
std::int64_t opus_samples(const Byte* p, Offset n)
{
    if (n == 0) {
        return 0;
    }
    const unsigned config = p[0] >> 3;
    static constexpr std::int64_t kSilk[4] = {480, 960, 1920, 2880};
    static constexpr std::int64_t kCelt[4] = {120, 240, 480, 960};
    const std::int64_t frame = config < 12 ? kSilk[config & 3] : config < 16 ? 480 << (config & 1) : kCelt[config & 3];
    std::int64_t frames = 1;
    switch (p[0] & 3) {
    case 0: frames = 1; break;
    case 1:
    case 2: frames = 2; break;
    default: frames = n >= 2 ? (p[1] & 0x3F) : 0; break;
    }
    const std::int64_t total = frame * frames;
    return total <= 5760 ? total : 0;
}

// Where a cut begins: a packet that starts fresh in `page`, at lacing value `segment`, whose
// first sample has granule position `granule`.
struct CutPoint {
    Page page;
    std::size_t segment = 0;
    std::int64_t granule = 0;
};

// The packets of a page from lacing value `from` on: calls f(first segment, body offset, length,
// complete) for each, in order, until f returns false.
template <typename F>
void for_each_packet(const Page& page, std::size_t from, F f)
{
    Offset offset = page.body_offset(from);
    for (std::size_t seg = from; seg < page.segments;) {
        std::size_t end = seg;
        Offset length = 0;
        while (end < page.segments && page.lacing(end) == 255) {
            length += 255;
            ++end;
        }
        const bool complete = end < page.segments;
        length += complete ? page.lacing(end) : 0;
        if (!f(seg, offset, length, complete)) {
            return;
        }
        offset += length;
        seg = end + 1;
    }
}

// Opus: samples in the packets that end on the loaded page, from lacing value `from` on;
// nullopt if one of them is not a valid Opus packet.
std::optional<std::int64_t> opus_page_samples(const Pages& pages, const Page& page, std::size_t from)
{
    std::int64_t sum = 0;
    bool valid = true;
    for_each_packet(page, from, [&](std::size_t, Offset offset, Offset length, bool complete) {
        if (complete) {
            const std::int64_t d = opus_samples(pages.body(page) + offset, length);
            valid = valid && d != 0;
            sum += d;
        }
        return valid;
    });
    return valid ? std::optional<std::int64_t>(sum) : std::nullopt;
}

// Opus: moves the cut to the last packet of the loaded page, from at.segment on, that starts at
// or before `want`. Starts add up packet durations (RFC 6716 §3.1); when they do not add up to
// the page's granule position the cut stays where it is, only further from the target.
void refine_opus(const Pages& pages, CutPoint& at, std::int64_t want)
{
    const Page& page = at.page;
    const auto samples = opus_page_samples(pages, page, at.segment);
    if (!samples || (page.granule() >= 0 && at.granule + *samples != page.granule())) {
        return;
    }
    std::int64_t start = at.granule;
    for_each_packet(page, at.segment, [&](std::size_t seg, Offset offset, Offset length, bool complete) {
        if (start > want) {
            return false;
        }
        at.segment = seg;
        at.granule = start;
        start += complete ? opus_samples(pages.body(page) + offset, length) : 0;
        return complete;
    });
}

}  // namespace

Cut cut_ogg(ByteSource& src, Micros t)
{
    Pages pages(src);
    Page first;
    if (!pages.header_at(0, first) || (first.type() & kBos) == 0) {
        return malformed("not an Ogg stream");
    }
    // RFC 7845 §3 and Vorbis I §A.2: the first page holds the identification packet alone.
    if (first.segments == 0 || first.completed_packets() != 1 || first.open_packet() || !pages.load(first)) {
        return malformed("bad first Ogg page");
    }
    const auto stream = identify(pages.body(first), first.body);
    if (!stream) {
        return malformed("unsupported Ogg codec");
    }
    const std::uint32_t serial = first.serial();
    const bool opus = stream->codec == Codec::Opus;

    // The header packets (Vorbis: identification, comment, setup; Opus: OpusHead, OpusTags) end
    // a page, and audio starts on the next one (Vorbis I §A.2, RFC 7845 §3).
    const std::size_t needed = opus ? 2 : 3;
    std::size_t done = 1;
    Page last_header = first;
    while (done < needed) {
        Page p;
        if (!pages.header_at(last_header.end(), p)) {
            return malformed("Ogg headers truncated");
        }
        if (p.serial() != serial) {
            return malformed("multiplexed Ogg");
        }
        done += p.completed_packets();
        if (done > needed || (done == needed && p.open_packet())) {
            return malformed("Ogg audio shares a page with headers");
        }
        last_header = p;
    }
    const Offset audio_start = last_header.end();

    // The first audio page: its granule position less its packets' samples is the granule of the
    // stream's first sample (RFC 7845 §4.3; 0 unless the file was itself cut from a stream).
    // Vorbis packets' durations need the setup header's modes, so Vorbis streams start at 0.
    Page audio;
    if (!pages.header_at(audio_start, audio) || audio.serial() != serial) {
        return pages.header_at(audio_start, audio) ? malformed("multiplexed Ogg") : past_end();
    }
    std::int64_t origin = 0;
    if (opus) {
        if (!pages.load(audio)) {
            return malformed("bad Ogg page CRC");
        }
        const auto samples = opus_page_samples(pages, audio, 0);
        if (samples && audio.granule() >= *samples) {
            origin = audio.granule() - *samples;
        }
    }

    // Targets as granule positions. Opus: RFC 7845 §4 counts pre-skip in granules, and the cut
    // starts one pre-roll earlier.
    const auto target = origin + static_cast<std::int64_t>(sample_at(t, stream->rate)) + stream->pre_skip;
    const std::int64_t want = opus ? target - kOpusPreRoll : target;

    // L: the last page with a granule position <= want. Bisect while the span is large
    // (lo is always a page boundary after L, pages from hi on are all past want), then walk.
    std::optional<Page> before;
    Offset lo = audio_start;
    Offset hi = pages.size();
    while (hi - lo > kWalkSpan) {
        const Offset mid = lo + (hi - lo) / 2;
        Page q;
        if (!pages.find_granule_page(mid, hi, serial, q) || q.granule() > want) {
            hi = mid;
        }
        else {
            before = q;
            lo = q.end();
        }
    }
    if (pages.exhausted()) {
        return malformed("Ogg scan budget exhausted");
    }
    for (Offset pos = lo;;) {
        Page q;
        if (!pages.header_at(pos, q) || q.serial() != serial || q.granule() > want) {
            break;
        }
        if (q.granule() >= 0) {
            before = q;
        }
        if (q.type() & kEos) {
            break;
        }
        pos = q.end();
    }

    // The cut point: the page after L if it starts a fresh packet, else the packet that L left
    // open (RFC 3533 §6: a continued packet cannot start a stream). Either starts at granule(L).
    CutPoint at;
    if (!before) {
        at.page = audio;
        at.granule = origin;
        if (opus) {
            if (!pages.load(audio)) {
                return malformed("bad Ogg page CRC");
            }
            refine_opus(pages, at, want);
        }
    }
    else {
        Page next;
        if (!pages.header_at(before->end(), next) || next.serial() != serial || (before->type() & kEos)) {
            return past_end();
        }
        at.granule = before->granule();
        if ((next.type() & kContinued) == 0) {
            at.page = next;
            if (opus) {
                if (!pages.load(next)) {
                    return malformed("bad Ogg page CRC");
                }
                refine_opus(pages, at, want);
            }
        }
        else {
            const auto open = before->open_packet();
            if (!open) {
                return malformed("Ogg continued packet without a start");
            }
            at.page = *before;
            at.segment = *open;
            if (!pages.load(*before)) {
                return malformed("bad Ogg page CRC");
            }
            if (opus) {
                // The open packet may end early in the next page; a later packet there may be closer.
                const Offset x = before->body_offset(*open);
                const std::int64_t d = opus_samples(pages.body(*before) + x, before->body - x);
                if (d != 0 && at.granule + d <= want) {
                    std::size_t seg = 0;
                    while (seg < next.segments && next.lacing(seg) == 255) {
                        ++seg;
                    }
                    if (seg + 1 < next.segments) {
                        if (!pages.load(next)) {
                            return malformed("bad Ogg page CRC");
                        }
                        at.page = next;
                        at.segment = seg + 1;
                        at.granule += d;
                        refine_opus(pages, at, want);
                    }
                }
            }
        }
    }

    // Opus: the new pre-skip discards the pre-roll so that output starts at the target.
    const std::int64_t base = at.granule;
    const std::int64_t pre_skip = opus ? std::clamp<std::int64_t>(target - base, 0, kMaxPreSkip) : 0;

    Cut cut;
    Extents& out = cut.rep.extents;
    if (opus) {
        // RFC 7845 §5.1: the pre-skip is bytes 10-11 of OpusHead, the first page's only packet.
        Byte old_skip[2];
        Byte new_skip[2];
        if (!src.read(first.header_length() + 10, old_skip, 2)) {
            return malformed("Ogg headers truncated");
        }
        put_le(new_skip, 2, static_cast<std::uint64_t>(pre_skip));
        emit_patched(out, first, first.header_length() + 10, old_skip, new_skip, 2);
        append_file(out, first.end(), audio_start - first.end());
    }
    else {
        append_file(out, 0, audio_start);
    }

    // Audio pages: rebased, renumbered after the headers, the last one flagged end-of-stream.
    // Emission lags one page behind the walk so that the last page is known when it is emitted.
    std::uint32_t sequence = last_header.sequence() + 1;
    std::int64_t last_granule = -1;
    std::size_t count = 0;
    std::optional<Page> pending;
    auto emit = [&](const Page& p, bool last) {
        Byte type = static_cast<Byte>((p.type() & ~kBos) | (last ? kEos : 0));
        const std::int64_t g = p.granule() < 0 ? -1 : std::max<std::int64_t>(p.granule() - base, 0);
        if (p.offset == at.page.offset && at.segment > 0) {
            // The cut page loses the packets before the cut: a new header, its CRC over what
            // stays (the page is still in the buffer: nothing is loaded after the cut is chosen).
            const Offset skip = at.page.body_offset(at.segment);
            const std::size_t kept = p.segments - at.segment;
            Byte h[kMaxHeader];
            std::copy(p.header, p.header + kFixedHeader, h);
            std::copy(p.header + kFixedHeader + at.segment, p.header + kFixedHeader + p.segments, h + kFixedHeader);
            h[5] = static_cast<Byte>(type & ~kContinued);
            bool completes = false;
            for (std::size_t i = at.segment; i < p.segments; ++i) {
                completes = completes || p.lacing(i) < 255;
            }
            put_le(h + 6, 8, static_cast<std::uint64_t>(completes ? g : -1));
            put_le(h + 18, 4, sequence);
            h[26] = static_cast<Byte>(kept);
            std::memset(h + kCrcAt, 0, 4);
            const Offset tail = p.body - skip;
            std::uint32_t crc = crc_update(0, h, kFixedHeader + kept);
            crc = crc_update(crc, pages.body(p) + skip, static_cast<std::size_t>(tail));
            put_le(h + kCrcAt, 4, crc);
            add_memory(out, h, kFixedHeader + kept);
            append_file(out, p.offset + p.header_length() + skip, tail);
        }
        else {
            emit_rebased(out, p, type, g, sequence);
        }
        ++sequence;
        if (p.granule() >= 0) {
            last_granule = p.granule();
        }
    };
    for (Offset pos = at.page.offset;;) {
        Page p;
        if (!pages.header_at(pos, p)) {
            break;  // end of file, a truncated page or trailing bytes: the stream ends here
        }
        if (p.serial() != serial) {
            if ((p.type() & kBos) == 0) {
                return malformed("multiplexed Ogg");
            }
            break;  // a chained stream: keep the first
        }
        if (pending) {
            emit(*pending, false);
        }
        if (++count > kMaxCutPages) {
            return malformed("Ogg cut needs too many pages");
        }
        pending = p;
        if (p.type() & kEos) {
            break;
        }
        pos = p.end();
    }
    if (!pending) {
        return past_end();
    }
    emit(*pending, true);
    if (last_granule < 0 || target >= last_granule) {
        return past_end();
    }

    cut.status = Cut::Status::Ok;
    cut.rep.length = extents_length(out);
    const std::int64_t first_output = base + pre_skip - stream->pre_skip - origin;
    cut.start = micros_of(first_output, stream->rate);
    cut.duration = micros_of(last_granule - base - pre_skip, stream->rate);
    cut.rep.etag_suffix = "-t" + std::to_string(cut.start);
    return cut;
}

}  // namespace audio_stream
