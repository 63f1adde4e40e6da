#include "ogg.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "ogg_page.h"

namespace audio_stream {
namespace ogg {

namespace {

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
}  // namespace ogg

Cut cut_ogg(ByteSource& src, Micros t)
{
    using namespace ogg;
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
