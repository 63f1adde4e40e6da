// MP3 cuts. The choices, each for a reason:
// - Bit reservoir: a Layer III frame may take its main data from up to 511 bytes before its
//   header (main_data_begin). The cut starts at frame j, early enough that frame k-1 (just
//   before the frame holding t) finds all its main data: from frame k on, the decoded audio is
//   the original's, overlap-add included. Frames j..k-2 may lack data; decoders play those as
//   silence. At most kMaxLeadIn frames are added, so the cut starts up to ~0.6 s before t.
// - Gapless: when the original's Xing/Info frame carries a LAME extension (LAME, Lavf, Lavc
//   write one), t is read on the trimmed timeline players show, and the new frame carries the
//   encoder delay still to skip and the original end padding.
// - CBR (an "Info" frame whose frame count matches the file size): the frame is found by
//   arithmetic and a resync verified over kSyncFrames headers. Anything else (Xing, VBRI, no
//   header) is walked header by header from the first frame, so frame times are exact.
// - ID3v2 at the start is kept, first, unless it holds frames tied to the original timeline
//   (TLEN, chapters, synced lyrics, iTunSMPB, ...). Trailing ID3v1/APE tags are kept too: the
//   audio extent runs to the end of the file.
#include "mp3.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "mp3_id3.h"
#include "mp3_reader.h"
#include "mp3_walk.h"
#include "mp3_xing.h"

namespace audio_stream {
namespace {

// The reader, the ID3v2 and Xing parts and the walk's result (mp3_*.h).
using mp3::Id3;
using mp3::mul_div;
using mp3::NewTag;
using mp3::Reader;
using mp3::VbrTag;
using mp3::Walk;
using mp3::read_id3v2;
using mp3::read_vbr_tag;
using mp3::xing_frame;

constexpr std::size_t kLookahead = 8 * 1024;  // holds kSyncFrames of the largest frame (1441 B)
constexpr int kSyncFrames = 4;
constexpr std::uint64_t kMaxLeadIn = 24;       // frames added before t for the bit reservoir
constexpr std::uint64_t kRing = 32;            // > kMaxLeadIn + 1
// What all frames of one stream share: sync, version, layer, sample rate.
constexpr std::uint32_t kStreamMask = 0xFFFE0C00;

bool is_mono(std::uint32_t raw) { return (raw >> 6 & 3) == 3; }

bool same_stream(std::uint32_t a, std::uint32_t b)
{
    return (a & kStreamMask) == (b & kStreamMask) && is_mono(a) == is_mono(b);
}

// The frame header at pos if a whole frame fits before end.
std::optional<Mp3Header> frame_at(Reader& r, Offset pos, Offset end, std::uint32_t& raw)
{
    if (pos > end || end - pos < 4) {
        return std::nullopt;
    }
    const unsigned char* p = r.at(pos, 4);
    if (!p) {
        return std::nullopt;
    }
    raw = be32(p);
    auto h = parse_mp3_header(raw);
    if (!h || h->size > end - pos) {
        return std::nullopt;
    }
    return h;
}

// A frame of stream `ref` (0: any) starts at pos, followed by kSyncFrames - 1 more of the same
// stream or by the end of the audio: one header can be chance, four in a row are not.
bool verified(Reader& r, Offset pos, Offset end, std::uint32_t ref)
{
    for (int i = 0; i < kSyncFrames; ++i) {
        if (i > 0 && pos == end) {
            return true;
        }
        std::uint32_t raw = 0;
        const auto h = frame_at(r, pos, end, raw);
        if (!h || (ref != 0 && !same_stream(ref, raw))) {
            return false;
        }
        ref = raw;
        pos += h->size;
    }
    return true;
}

// The first verified frame start in [from, end), or end.
Offset resync(Reader& r, Offset from, Offset end, std::uint32_t ref)
{
    Offset pos = from;
    while (pos < end && end - pos >= 4) {
        // Load the window so that every candidate below has its lookahead in memory: each
        // refill then moves forward by at least kWindow - kLookahead bytes.
        const auto want = static_cast<std::size_t>(std::min<Offset>(kLookahead, end - pos));
        const unsigned char* p = r.at(pos, want);
        if (!p) {
            return end;
        }
        const Offset wend = r.window_end();
        Offset limit = wend >= end ? end - 3 : wend - kLookahead + 1;
        limit = std::max(limit, pos + 1);
        for (Offset c = pos; c < limit;) {
            const auto* q = static_cast<const unsigned char*>(
                std::memchr(p + (c - pos), 0xFF, static_cast<std::size_t>(limit - c)));
            if (!q) {
                break;
            }
            c = pos + static_cast<Offset>(q - p);
            if ((q[1] & 0xE0) == 0xE0 && verified(r, c, end, ref)) {
                return c;
            }
            p = r.at(pos, want);  // verified() reads inside the window; this is a no-op
            ++c;
        }
        pos = limit;
    }
    return end;
}

struct FrameInfo {
    Offset offset;
    std::uint32_t main_data;        // bytes of main data this frame carries
    std::uint16_t main_data_begin;  // bytes its own main data starts before its header
    std::uint8_t bitrate_index;
};

FrameInfo frame_info(Reader& r, Offset pos, const Mp3Header& h)
{
    FrameInfo f{pos, 0, 0, 0};
    const unsigned crc = h.crc ? 2 : 0;
    f.main_data = h.size - 4 - crc - h.side_info;
    f.bitrate_index = static_cast<std::uint8_t>(h.bitrate_index);
    if (const unsigned char* p = r.at(pos + 4 + crc, 2)) {
        // ISO 11172-3 §2.4.1.7: main_data_begin is 9 bits (MPEG-1), 8 bits (ISO 13818-3).
        f.main_data_begin = static_cast<std::uint16_t>(h.lsf ? p[0] : (p[0] << 1 | p[1] >> 7));
    }
    return f;
}

// The first frame of the cut for target frame k: frames ring[j..k-2] must hold the
// main_data_begin bytes of frame k-1. `from` is the first frame the ring has seen.
std::uint64_t lead_in(const FrameInfo* ring, std::uint64_t from, std::uint64_t k)
{
    if (k == 0 || k - 1 < from) {
        return k;
    }
    std::uint64_t j = k - 1;
    std::uint32_t have = 0;
    const std::uint32_t need = ring[j % kRing].main_data_begin;
    while (have < need && j > from && k - j < kMaxLeadIn) {
        --j;
        have += ring[j % kRing].main_data;
    }
    return j;
}

void note_bitrate(Walk& w, std::uint8_t index)
{
    if (w.bitrate_index == 0) {
        w.bitrate_index = index;
    }
    w.constant = w.constant && w.bitrate_index == index;
}

// Walks the frames of stream `ref` from pos (frame number idx) towards end. At frame k it
// fixes the cut's first frame; with to_end it goes on to count every frame, sampling offsets
// for the TOC. Junk between frames is skipped by a verified resync.
Walk walk(Reader& r, Offset pos, std::uint64_t idx, Offset end, std::uint32_t ref,
          std::uint64_t k, bool to_end)
{
    Walk w;
    FrameInfo ring[kRing];
    const std::uint64_t from = idx;
    w.audio_end = pos;
    while (pos < end) {
        std::uint32_t raw = 0;
        const auto h = frame_at(r, pos, end, raw);
        if (!h || !same_stream(ref, raw)) {
            pos = resync(r, pos + 1, end, ref);
            continue;
        }
        const FrameInfo f = frame_info(r, pos, *h);
        if (idx < k) {
            ring[idx % kRing] = f;
        }
        else if (idx == k) {
            ring[idx % kRing] = f;
            w.reached = true;
            w.first = lead_in(ring, from, k);
            w.first_offset = ring[w.first % kRing].offset;
            for (std::uint64_t i = w.first; i <= k; ++i) {
                w.toc.add(i - w.first, ring[i % kRing].offset);
                note_bitrate(w, ring[i % kRing].bitrate_index);
            }
            if (!to_end) {
                w.count = idx + 1;
                w.audio_end = pos + h->size;
                return w;
            }
        }
        else {
            w.toc.add(idx - w.first, pos);
            note_bitrate(w, f.bitrate_index);
        }
        pos += h->size;
        ++idx;
        w.audio_end = pos;
    }
    w.count = idx;
    return w;
}

// Where the audio ends: before an ID3v1 tag and an APEv2 tag, if any.
Offset audio_limit(Reader& r, Offset start)
{
    Offset end = r.size();
    if (end - start >= 128) {
        const unsigned char* p = r.at(end - 128, 3);
        if (p && std::memcmp(p, "TAG", 3) == 0) {
            end -= 128;
        }
    }
    if (end - start >= 32) {
        const unsigned char* p = r.at(end - 32, 32);
        if (p && std::memcmp(p, "APETAGEX", 8) == 0) {
            // APEv2 footer: size (items + footer, little-endian), flags bit 31: a header too.
            const std::uint32_t size = le32(p + 12);
            const bool header = p[23] & 0x80;
            const Offset total = Offset{size} + (header ? 32 : 0);
            if (size >= 32 && total <= end - start) {
                end -= total;
            }
        }
    }
    return end;
}

struct Stream {
    std::uint32_t ref = 0;    // header of the first frame: what every frame shares with it
    Offset audio = 0;         // first audio frame (after the Xing/Info/VBRI frame)
    Offset limit = 0;         // end of the audio region (before trailing tags)
};

// CBR: frame offsets grow linearly with the index (encoders spread the padding bytes evenly),
// so jump to a little before the lead-in, resync, and walk a few frames to k.
std::optional<Walk> walk_cbr(Reader& r, const Stream& st, std::uint64_t frames, std::uint64_t k)
{
    if (k >= frames) {
        Walk past;
        past.count = frames;
        return past;  // t is past the end: no frame k
    }
    const Offset total = st.limit - st.audio;
    const std::uint64_t k0 = k > kMaxLeadIn + 1 ? k - kMaxLeadIn - 1 : 0;
    const Offset estimate = st.audio + mul_div(k0, total, frames);
    const Offset from = k0 == 0 ? st.audio : std::max(st.audio, estimate - std::min<Offset>(estimate, 8));
    const Offset pos = resync(r, from, st.limit, st.ref);
    if (pos >= st.limit) {
        return std::nullopt;
    }
    const std::uint64_t idx = mul_div(2 * (pos - st.audio) + total / frames, frames, 2 * total);
    if (idx > k) {
        return std::nullopt;
    }
    Walk w = walk(r, pos, idx, st.limit, st.ref, k, false);
    if (!w.reached) {
        return std::nullopt;
    }
    w.count = frames;
    w.audio_end = st.limit;
    w.constant = true;
    return w;
}

// An "Info" frame is trusted for arithmetic when its frame count matches the bytes within 1%.
bool plausible_cbr(Reader& r, const Stream& st, const VbrTag& tag)
{
    std::uint32_t raw = 0;
    const auto h = frame_at(r, st.audio, st.limit, raw);
    if (!tag.info || tag.frames == 0 || !h || !same_stream(st.ref, raw)) {
        return false;
    }
    const double per_frame = (h->lsf ? 72000.0 : 144000.0) * h->bitrate / h->sample_rate;
    const double actual = static_cast<double>(st.limit - st.audio) / tag.frames;
    return actual > per_frame * 0.99 && actual < per_frame * 1.01;
}

}  // namespace

std::optional<Mp3Header> parse_mp3_header(std::uint32_t h)
{
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
    m.mono = (h >> 6 & 3) == 3;
    m.bitrate_index = bitrate_index;
    m.bitrate = kBitrates[m.lsf][bitrate_index];
    m.sample_rate = kRates[rate_index] >> (version == 3 ? 0 : version == 2 ? 1 : 2);
    m.samples = m.lsf ? 576 : 1152;
    m.size = (m.lsf ? 72000 : 144000) * m.bitrate / m.sample_rate + (h >> 9 & 1);
    m.side_info = m.lsf ? (m.mono ? 9 : 17) : (m.mono ? 17 : 32);
    return m;
}

Cut cut_mp3(ByteSource& src, Micros t)
{
    Reader r(src);
    const Id3 id3 = read_id3v2(r);
    if (id3.error) {
        return malformed(id3.error);
    }
    Stream st;
    st.limit = audio_limit(r, id3.end);
    const Offset first = resync(r, id3.end, st.limit, 0);
    std::uint32_t raw = 0;
    const auto head = frame_at(r, first, st.limit, raw);
    if (!head) {
        return malformed(r.failed() ? "read error" : "no MPEG Layer III frames");
    }
    st.ref = raw;
    const VbrTag tag = read_vbr_tag(r, first, *head);
    st.audio = tag.found ? first + head->size : first;
    NewTag nt{raw, *head, 0, 0, nullptr, &tag, 0, 0};
    if (const auto h = frame_at(r, st.audio, st.limit, raw); h && same_stream(st.ref, raw)) {
        nt.audio_raw = raw;
        nt.audio = *h;
    }

    // The sample that t names on the player's timeline, then the frame holding it in the
    // stream, where the encoder delay comes first.
    const unsigned rate = head->sample_rate;
    const unsigned spf = head->samples;
    unsigned delay = tag.lame ? tag.delay : 0;
    unsigned padding = tag.lame ? tag.padding : 0;
    const std::uint64_t sample = sample_at(t, rate);
    const bool cbr = plausible_cbr(r, st, tag);
    auto walk_to = [&](std::uint64_t k) {
        std::optional<Walk> found;
        if (cbr) {
            found = walk_cbr(r, st, tag.frames, k);
        }
        return found ? found : walk(r, st.audio, 0, st.limit, st.ref, k, true);
    };

    std::optional<Walk> w = walk_to((sample + delay) / spf);
    if (r.failed()) {
        return malformed("read error");
    }
    if (w->count == 0) {
        return malformed("no MPEG audio frames after the header frame");
    }
    const std::uint64_t stream_samples = w->count * spf;
    if (delay + padding >= stream_samples) {
        // Not a gapless description of this stream. The frame was found counting the delay:
        // find it again without, or the cut would start after t.
        if (delay != 0) {
            w = walk_to(sample / spf);
            if (r.failed()) {
                return malformed("read error");
            }
        }
        delay = padding = 0;
    }
    if (!w->reached || w->first >= w->count || sample >= stream_samples - delay - padding) {
        return past_end();
    }

    const std::uint64_t skipped = w->first * spf;
    nt.frames = w->count - w->first;
    nt.audio_bytes = w->audio_end - w->first_offset;
    nt.walk = &*w;
    nt.delay = skipped < delay ? static_cast<unsigned>(delay - skipped) : 0;
    nt.padding = padding;
    auto frame = xing_frame(nt);
    if (!frame) {
        return malformed("stream too long for a Xing header");
    }

    Cut cut;
    cut.status = Cut::Status::Ok;
    if (id3.keep) {
        cut.rep.extents.push_back(FileExtent{0, id3.end});
    }
    cut.rep.extents.push_back(MemoryBlock{std::move(*frame)});
    cut.rep.extents.push_back(FileExtent{w->first_offset, r.size() - w->first_offset});
    cut.rep.length = extents_length(cut.rep.extents);
    cut.start = samples_to_micros(skipped > delay ? skipped - delay : 0, rate);
    cut.duration = samples_to_micros(nt.frames * spf - nt.delay - padding, rate);
    return cut;
}

AudioLayout layout_mp3(ByteSource& src)
{
    Reader r(src);
    AudioLayout l{src.size(), 0, src.size(), 0};
    const Id3 id3 = read_id3v2(r);
    if (id3.error) {
        return l;
    }
    l.audio_start = id3.end;
    l.audio_end = audio_limit(r, id3.end);
    const Offset first = resync(r, id3.end, l.audio_end, 0);
    std::uint32_t raw = 0;
    const auto head = frame_at(r, first, l.audio_end, raw);
    if (!head) {
        return l;
    }
    const VbrTag tag = read_vbr_tag(r, first, *head);
    if (tag.frames > 0) {
        const std::uint64_t samples = std::uint64_t{tag.frames} * head->samples;
        const std::uint64_t trim = tag.lame ? std::uint64_t{tag.delay} + tag.padding : 0;
        l.duration = samples_to_micros(trim < samples ? samples - trim : samples, head->sample_rate);
        return l;
    }
    // No frame count: the first audio frame's bitrate (exact for CBR, an estimate for VBR).
    const Offset audio = tag.found ? first + head->size : first;
    const auto h = frame_at(r, audio, l.audio_end, raw);
    const unsigned kbps = h ? h->bitrate : head->bitrate;
    l.duration = static_cast<Micros>(mul_div(l.audio_end - audio, 8000, kbps));
    return l;
}

}  // namespace audio_stream
