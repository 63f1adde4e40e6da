// MP3 cuts. The choices, each for a reason:
// - Exact start: the cut's timeline begins at t's sample. The cut starts at frame j, a few
//   frames before t, and its LAME tag's encoder delay tells gapless decoders to drop what
//   comes before t: delay = the samples from frame j to t (on the decoded timeline, less the
//   decoder delay of 529 samples that decoders add themselves: ffmpeg skips delay + 529,
//   Firefox delay + 529 after the tag frame). A file without a LAME tag gets one.
// - Bit reservoir: a Layer III frame may take its main data from up to 511 bytes before its
//   header (main_data_begin). Sample t comes out of a granule (576 samples) that overlaps the
//   granule before it, whose synthesis filter overlaps the one before that: the frame W holding
//   that earliest granule must be decoded whole (W = F-1 for MPEG-1, where sample t is in frame
//   F, F-2 for MPEG-2 and 2.5, one granule a frame). So j is early enough that frames j..W-1
//   hold W's main_data_begin bytes: from t on the decoded audio is the original's. Frames
//   before W may lack data; decoders play those as silence, and drop them with the delay. The
//   delay has 12 bits (4095 samples, 93 ms at 44.1 kHz): j is never so early that it would
//   not fit, which leaves at least two frames before W for the reservoir (five for MPEG-2 and
//   2.5) and an exact start; a reservoir that reaches further is cut short there (W then
//   misses some of its main data, and the first milliseconds after t are not the original's).
// - Gapless: when the original's Xing/Info frame carries a LAME extension (LAME, Lavf, Lavc
//   write one), t is read on the trimmed timeline players show, and the new frame carries the
//   original end padding. Without one, the original plays untrimmed (t is on the decoder's
//   timeline), and the new tag's padding is the decoder delay that decoders never flush.
// - CBR (an "Info" frame whose frame count matches the file size): the frame is found by
//   arithmetic and a resync verified over kSyncFrames headers. Anything else (Xing, VBRI, no
//   header) is walked header by header from the first frame, so frame times are exact.
// - ID3v2 at the start is kept, first, unless it holds frames tied to the original timeline
//   (TLEN, chapters, synced lyrics, iTunSMPB, ...). Trailing ID3v1/APE tags are kept too: the
//   audio extent runs to the end of the file.
#include "mp3.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "id3.h"
#include "reader.h"
#include "walk.h"
#include "xing.h"

namespace audio_stream {
namespace {

// The reader, the ID3v2 and Xing parts and the walk's result (mp3_*.h).
using mp3::FrameIndex;
using mp3::FrameInfo;
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
// Frames walked before k: the cut's first frame is at most 2 before it, and its reservoir lies
// within mp3::kReservoirFrames before that.
constexpr std::uint64_t kBefore = mp3::kReservoirFrames + 3;
constexpr std::uint64_t kRing = 32;            // > kBefore + 1
// What a decoder adds to the LAME tag's encoder delay: the synthesis filterbank's own delay
// (528 samples, plus one, as LAME, ffmpeg and Firefox count it).
constexpr std::uint64_t kDecoderDelay = 529;
constexpr std::uint64_t kMaxDelay = 4095;      // the LAME tag's 12-bit encoder delay
constexpr std::uint64_t kGranule = 576;        // samples per granule: 2 a frame (MPEG-1), else 1
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

FrameInfo frame_info(Reader& r, Offset pos, const Mp3Header& h)
{
    FrameInfo f{pos, 0, 0, static_cast<std::uint16_t>(h.size), 0};
    const unsigned crc = h.crc ? 2 : 0;
    f.main_data = h.size - 4 - crc - h.side_info;
    f.bitrate_index = static_cast<std::uint8_t>(h.bitrate_index);
    if (const unsigned char* p = r.at(pos + 4 + crc, 2)) {
        // ISO 11172-3 §2.4.1.7: main_data_begin is 9 bits (MPEG-1), 8 bits (ISO 13818-3).
        f.main_data_begin = static_cast<std::uint16_t>(h.lsf ? p[0] : (p[0] << 1 | p[1] >> 7));
    }
    return f;
}

// Where the walk goes: frame k (the walk's end when it need not count every frame), and the
// cut's first frame, whole (<= k).
struct Target {
    std::uint64_t k = 0;
    std::uint64_t whole = 0;
};

// Where the main_data_begin bytes of frame `first` lie: the ends of the frames before it, back
// to `from`, the first frame known (what lies before is missing). frame(i): frame i's info.
template <typename FrameAt>
void find_reservoir(FrameAt frame, std::uint64_t from, std::uint64_t first, Walk& w)
{
    std::uint32_t need = frame(first).main_data_begin;
    w.reservoir_bytes = need;
    for (std::uint64_t i = first; need > 0 && i > from && first - i < mp3::kReservoirFrames;) {
        --i;
        const FrameInfo f = frame(i);
        const std::uint32_t take = std::min(need, f.main_data);
        w.reservoir[w.reservoir_pieces++] = {f.offset + f.size - take, take};
        need -= take;
    }
    w.reservoir_missing = need;
}

void note_bitrate(Walk& w, std::uint8_t index)
{
    if (w.bitrate_index == 0) {
        w.bitrate_index = index;
    }
    w.constant = w.constant && w.bitrate_index == index;
}

// The frames of stream `ref` from pos towards end, each given to visit(info, header) until it
// returns false; junk between frames is skipped by a verified resync. Returns the end of the
// last frame visited.
template <typename Visit>
Offset scan_frames(Reader& r, Offset pos, Offset end, std::uint32_t ref, Visit visit)
{
    Offset last_end = pos;
    while (pos < end) {
        std::uint32_t raw = 0;
        const auto h = frame_at(r, pos, end, raw);
        if (!h || !same_stream(ref, raw)) {
            pos = resync(r, pos + 1, end, ref);
            continue;
        }
        const bool more = visit(frame_info(r, pos, *h), *h);
        pos += h->size;
        last_end = pos;
        if (!more) {
            break;
        }
    }
    return last_end;
}

// Walks the frames of stream `ref` from pos (frame number idx) to frame t.k, where it fixes the
// cut's first frame (CBR: a few frames from a computed position).
Walk walk(Reader& r, Offset pos, std::uint64_t idx, Offset end, std::uint32_t ref, const Target& t)
{
    const std::uint64_t k = t.k;
    Walk w;
    FrameInfo ring[kRing];
    const std::uint64_t from = idx;
    w.audio_end = scan_frames(r, pos, end, ref, [&](const FrameInfo& f, const Mp3Header&) {
        ring[idx % kRing] = f;
        if (idx < k) {
            ++idx;
            return true;
        }
        w.reached = true;
        w.first = std::max(t.whole, from);
        find_reservoir([&](std::uint64_t i) { return ring[i % kRing]; }, from, w.first, w);
        w.first_offset = ring[w.first % kRing].offset;
        for (std::uint64_t i = w.first; i <= k; ++i) {
            w.toc.add(i - w.first, ring[i % kRing].offset);
            note_bitrate(w, ring[i % kRing].bitrate_index);
        }
        ++idx;
        return false;
    });
    w.count = idx;
    return w;
}

// The seek index of a stream that is not CBR: every frame from the first audio frame on.
FrameIndex index_stream(Reader& r, Offset audio, Offset end, std::uint32_t ref)
{
    FrameIndex x;
    x.base = audio;
    x.audio_end = scan_frames(r, audio, end, ref, [&](const FrameInfo& f, const Mp3Header& h) {
        if (x.frames.size() == mp3::kMaxIndexFrames || f.offset - audio > 0xFFFFFFFFu) {
            x.error = "MP3 stream too long to index (" + std::to_string(mp3::kMaxIndexFrames) + " frames, 4 GiB)";
            return false;
        }
        x.side_info = static_cast<std::uint8_t>(h.side_info);
        const auto packed = static_cast<std::uint16_t>(h.size | (h.crc ? 1u << 11 : 0) | h.bitrate_index << 12);
        x.frames.push_back({static_cast<std::uint32_t>(f.offset - audio), packed, f.main_data_begin});
        return true;
    });
    if (r.failed()) {
        x.error = "read error";
    }
    if (!x.error.empty()) {
        x.frames.clear();
    }
    x.frames.shrink_to_fit();
    return x;
}

// What walk() finds, from the index: frame t.k, the cut's first frame and its reservoir, every
// frame counted and sampled for the TOC.
Walk walk_index(const FrameIndex& x, const Target& t)
{
    Walk w;
    w.count = x.frames.size();
    w.audio_end = x.audio_end;
    if (t.k >= w.count) {
        return w;
    }
    w.reached = true;
    w.first = t.whole;
    find_reservoir([&](std::uint64_t i) { return x.at(static_cast<std::size_t>(i)); }, 0, w.first, w);
    w.first_offset = x.at(static_cast<std::size_t>(w.first)).offset;
    for (std::uint64_t i = w.first; i < w.count; ++i) {
        const FrameInfo f = x.at(static_cast<std::size_t>(i));
        w.toc.add(i - w.first, f.offset);
        note_bitrate(w, f.bitrate_index);
    }
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
// so jump to a little before the reservoir, resync, and walk a few frames to k.
std::optional<Walk> walk_cbr(Reader& r, const Stream& st, std::uint64_t frames, const Target& t)
{
    const std::uint64_t k = t.k;
    if (k >= frames) {
        Walk past;
        past.count = frames;
        return past;  // t is past the end: no frame k
    }
    const Offset total = st.limit - st.audio;
    const std::uint64_t k0 = k > kBefore ? k - kBefore : 0;
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
    Walk w = walk(r, pos, idx, st.limit, st.ref, t);
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

Cut cut_mp3(ByteSource& src, const Span& span, IndexSource& indexes)
{
    const Micros t = span.start;
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
    NewTag nt{raw, *head, 0, 0, 0, nullptr, &tag, false, 0, 0};
    if (const auto h = frame_at(r, st.audio, st.limit, raw); h && same_stream(st.ref, raw)) {
        nt.audio_raw = raw;
        nt.audio = *h;
    }

    // The sample that t names on the player's timeline; where it is in the stream (e: the
    // encoder's input, where the encoder delay comes first) and where the decoder yields it
    // (m: decoders yield every sample kDecoderDelay later).
    const unsigned rate = head->sample_rate;
    const unsigned spf = head->samples;
    bool gapless = tag.lame;
    unsigned delay = gapless ? tag.delay : 0;
    unsigned padding = gapless ? tag.padding : 0;
    const std::uint64_t sample = sample_at(t, rate);
    auto decoded_at = [&] { return sample + delay + (gapless ? kDecoderDelay : 0); };
    auto target = [&] {
        Target to;
        // Sample m comes out of granule m / 576, which overlaps the one before, whose
        // synthesis overlaps the one before that: the frame holding that granule must be whole.
        const std::uint64_t m = decoded_at();
        const std::uint64_t g = m / kGranule;
        to.k = (sample + delay) / spf;
        to.whole = std::min(g >= 2 ? (g - 2) / (spf / kGranule) : 0, to.k);
        return to;
    };
    const bool cbr = plausible_cbr(r, st, tag);
    std::shared_ptr<const FrameIndex> index;  // made or fetched on first use
    auto walk_to = [&](const Target& to) {
        std::optional<Walk> found;
        if (cbr) {
            found = walk_cbr(r, st, tag.frames, to);
        }
        if (!found) {
            if (!index) {
                index = indexes.get<FrameIndex>(IndexKind::Mp3, [&] {
                    return std::make_shared<const FrameIndex>(index_stream(r, st.audio, st.limit, st.ref));
                });
            }
            if (index->error.empty()) {
                found = walk_index(*index, to);
            }
        }
        return found;
    };

    std::optional<Walk> w = walk_to(target());
    if (r.failed()) {
        return malformed("read error");
    }
    if (!w) {
        return malformed(index->error);
    }
    if (w->count == 0) {
        return malformed("no MPEG audio frames after the header frame");
    }
    const std::uint64_t stream_samples = w->count * spf;
    if (delay + padding >= stream_samples) {
        // Not a gapless description of this stream: t is on the untrimmed timeline, and the
        // frames were found counting the delay. Find them again without.
        if (gapless) {
            gapless = false;
            delay = padding = 0;
            w = walk_to(target());
            if (r.failed() || !w) {
                return malformed("read error");
            }
        }
        delay = padding = 0;
    }
    if (!w->reached || w->first >= w->count || sample >= stream_samples - delay - padding) {
        return past_end();
    }

    // The reservoir frame: a silent frame carrying the main data that frame W takes from the
    // frames before it, so that W decodes whole one frame after the cut's start. None when W
    // needs none, or when none of it is in the file (W is the stream's first frame).
    std::string reservoir;
    if (w->reservoir_missing < w->reservoir_bytes) {
        reservoir.assign(w->reservoir_missing, '\0');
        for (std::size_t i = w->reservoir_pieces; i > 0; --i) {
            const mp3::Piece& piece = w->reservoir[i - 1];
            const unsigned char* p = r.at(piece.offset, piece.length);
            if (!p) {
                return malformed("read error");
            }
            reservoir.append(reinterpret_cast<const char*>(p), piece.length);
        }
    }
    std::string lead;
    if (!reservoir.empty()) {
        auto frame = mp3::reservoir_frame(nt.audio_raw, reservoir);
        if (!frame) {
            return malformed("no bitrate holds the bit reservoir");
        }
        lead = std::move(*frame);
    }

    // The new tag's delay: what decoders drop before t, less what they add themselves. A file
    // without a LAME tag gets one, with the decoder delay as padding (decoders never flush it,
    // so its duration is what they yield), unless t is within the decoder delay of the start:
    // then the cut is the whole stream, untrimmed, as the original plays.
    const std::uint64_t skipped = (w->first - (lead.empty() ? 0 : 1)) * spf;
    const std::uint64_t before_t = decoded_at() - skipped;
    nt.lame = gapless || before_t >= kDecoderDelay;
    nt.delay = nt.lame ? static_cast<unsigned>(std::min(before_t - kDecoderDelay, kMaxDelay)) : 0;
    nt.padding = gapless ? padding : nt.lame ? static_cast<unsigned>(kDecoderDelay) : 0;
    nt.frames = w->count - w->first + (lead.empty() ? 0 : 1);
    nt.lead = lead.size();
    nt.audio_bytes = lead.size() + (w->audio_end - w->first_offset);
    nt.walk = &*w;
    auto frame = xing_frame(nt);
    if (!frame) {
        return malformed("stream too long for a Xing header");
    }

    Cut cut;
    cut.status = Cut::Status::Ok;
    if (id3.keep) {
        cut.rep.extents.push_back(FileExtent{0, id3.end});
    }
    cut.rep.extents.push_back(MemoryBlock{std::move(*frame) + lead});
    cut.rep.extents.push_back(FileExtent{w->first_offset, r.size() - w->first_offset});
    cut.rep.length = extents_length(cut.rep.extents);
    cut.start = nt.lame ? samples_to_micros(sample, rate) : 0;
    const std::uint64_t frames_samples = nt.frames * spf;
    const std::uint64_t trimmed = std::uint64_t{nt.delay} + nt.padding;
    cut.duration = samples_to_micros(frames_samples > trimmed ? frames_samples - trimmed : 0, rate);
    return cut;
}

Cut cut_mp3(ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_mp3(src, span, none);
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
