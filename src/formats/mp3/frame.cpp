#include "frame.h"

#include <algorithm>
#include <cstring>

namespace audio_stream {

namespace {

// What all frames of one stream share: sync, version, layer, sample rate (ISO/IEC 11172-3
// §2.4.2.3); the mode's mono bit is compared on its own.
constexpr std::uint32_t kStreamMask = 0xFFFE0C00;
constexpr std::size_t kLookahead = 8 * 1024;  // holds kSyncFrames of the largest frame (1441 B)
constexpr int kSyncFrames = 4;

bool is_mono(std::uint32_t raw) { return (raw >> 6 & 3) == 3; }

// A frame of stream `ref` (0: any) starts at pos, followed by kSyncFrames - 1 more of the same
// stream or by the end of the audio.
bool verified(mp3::Reader& r, Offset pos, Offset end, std::uint32_t ref)
{
    for (int i = 0; i < kSyncFrames; ++i) {
        if (i > 0 && pos == end) {
            return true;
        }
        const auto at = mp3::frame_at(r, pos, end);
        if (!at || (ref != 0 && !mp3::same_stream(ref, at->raw))) {
            return false;
        }
        ref = at->raw;
        pos += at->header.size;
    }
    return true;
}

// The first verified frame start among the candidates [pos, limit), all in the reader's window
// with their lookahead (verified() then reads inside it, and p stays valid).
std::optional<Offset> first_verified(mp3::Reader& r, Offset pos, Offset limit, Offset end, std::uint32_t ref)
{
    const auto n = static_cast<std::size_t>(limit - pos);
    const unsigned char* p = r.at(pos, n);
    const unsigned char* q = p ? static_cast<const unsigned char*>(std::memchr(p, 0xFF, n)) : nullptr;
    for (; q; q = static_cast<const unsigned char*>(std::memchr(q + 1, 0xFF, n - (q + 1 - p)))) {
        // 11 sync bits: 0xFF, then three set bits.
        const Offset c = pos + static_cast<Offset>(q - p);
        if ((q[1] & 0xE0) == 0xE0 && verified(r, c, end, ref)) {
            return c;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<Mp3Header> parse_mp3_header(std::uint32_t h)
{
    // ISO/IEC 11172-3 Table 3-B.2 and ISO/IEC 13818-3 Table 2.4.2.3 (Layer III).
    static const unsigned kBitrates[2][15] = {
        {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},  // MPEG-1 Layer III
        {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},      // MPEG-2/2.5 Layer III
    };
    static const unsigned kRates[3] = {44100, 48000, 32000};
    const unsigned version = h >> 19 & 3;  // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    const unsigned layer = h >> 17 & 3;    // 1: Layer III
    const unsigned bitrate_index = h >> 12 & 15;
    const unsigned rate_index = h >> 10 & 3;
    // Bitrate index 0 is free format: its frame size is not in the header, so it is refused.
    if ((h & 0xFFE00000) != 0xFFE00000 || version == 1 || layer != 1 || bitrate_index == 0 ||
        bitrate_index == 15 || rate_index == 3) {
        return std::nullopt;
    }
    Mp3Header m;
    m.lsf = version != 3;
    m.crc = !(h >> 16 & 1);
    m.mono = is_mono(h);
    m.bitrate_index = bitrate_index;
    m.bitrate = kBitrates[m.lsf][bitrate_index];
    m.sample_rate = kRates[rate_index] >> (version == 3 ? 0 : version == 2 ? 1 : 2);
    m.samples = m.lsf ? 576 : 1152;
    m.size = (m.lsf ? 72000 : 144000) * m.bitrate / m.sample_rate + (h >> 9 & 1);
    m.side_info = m.lsf ? (m.mono ? 9 : 17) : (m.mono ? 17 : 32);
    return m;
}

namespace mp3 {

bool same_stream(std::uint32_t a, std::uint32_t b)
{
    return (a & kStreamMask) == (b & kStreamMask) && is_mono(a) == is_mono(b);
}

std::optional<Head> frame_at(Reader& r, Offset pos, Offset end)
{
    if (pos > end || end - pos < 4) {
        return std::nullopt;
    }
    const unsigned char* p = r.at(pos, 4);
    if (!p) {
        return std::nullopt;
    }
    const std::uint32_t raw = be32(p);
    const auto h = parse_mp3_header(raw);
    if (!h || h->size > end - pos) {
        return std::nullopt;
    }
    return Head{raw, *h};
}

Offset resync(Reader& r, Offset from, Offset end, std::uint32_t ref)
{
    Offset pos = from;
    while (pos < end && end - pos >= 4) {
        // Load the window so that every candidate below has its lookahead in memory: each
        // refill then moves forward by at least kWindow - kLookahead bytes.
        const auto want = static_cast<std::size_t>(std::min<Offset>(kLookahead, end - pos));
        if (!r.at(pos, want)) {
            return end;
        }
        const Offset wend = r.window_end();
        const Offset limit = std::max(wend >= end ? end - 3 : wend - kLookahead + 1, pos + 1);
        if (const auto found = first_verified(r, pos, limit, end, ref)) {
            return *found;
        }
        pos = limit;
    }
    return end;
}

FrameInfo frame_info(Reader& r, Offset pos, const Mp3Header& h)
{
    const unsigned crc = h.crc ? 2 : 0;
    FrameInfo f{pos, h.size - 4 - crc - h.side_info, 0, static_cast<std::uint16_t>(h.size),
                static_cast<std::uint8_t>(h.bitrate_index)};
    if (const unsigned char* p = r.at(pos + 4 + crc, 2)) {
        // ISO 11172-3 §2.4.1.7: main_data_begin is 9 bits (MPEG-1), 8 bits (ISO 13818-3).
        f.main_data_begin = static_cast<std::uint16_t>(h.lsf ? p[0] : (p[0] << 1 | p[1] >> 7));
    }
    return f;
}

std::optional<Scanned> FrameScanner::next()
{
    while (pos_ < end_) {
        const auto at = frame_at(r_, pos_, end_);
        if (at && same_stream(ref_, at->raw)) {
            const Scanned f{frame_info(r_, pos_, at->header), at->header};
            pos_ += at->header.size;
            last_end_ = pos_;
            return f;
        }
        pos_ = resync(r_, pos_ + 1, end_, ref_);
    }
    return std::nullopt;
}

std::uint32_t header_like(std::uint32_t audio_raw, unsigned index)
{
    // Keeps sync, version, layer, sample rate, mode, copyright, original, emphasis; sets the
    // protection bit (no CRC) and the bitrate index.
    return (audio_raw & 0xFFFE0CCF) | 0x00010000u | index << 12;
}

unsigned size_like(std::uint32_t audio_raw, unsigned index)
{
    const auto h = parse_mp3_header(header_like(audio_raw, index));
    return h ? h->size : 0u;
}

bool holds(std::uint32_t audio_raw, unsigned index, std::size_t bytes)
{
    const auto h = parse_mp3_header(header_like(audio_raw, index));
    return h && h->size >= 4 + h->side_info + bytes;
}

unsigned bitrate_for(std::uint32_t audio_raw, unsigned prefer, std::size_t bytes)
{
    if (prefer != 0 && holds(audio_raw, prefer, bytes)) {
        return prefer;
    }
    unsigned index = 1;
    while (index < 15 && !holds(audio_raw, index, bytes)) {
        ++index;
    }
    return index < 15 ? index : 0;
}

}  // namespace mp3
}  // namespace audio_stream
