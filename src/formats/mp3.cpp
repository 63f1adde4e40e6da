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
#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace audio_stream {
namespace {

constexpr std::size_t kWindow = 64 * 1024;    // bytes read from the source at a time
constexpr std::size_t kLookahead = 8 * 1024;  // holds kSyncFrames of the largest frame (1441 B)
constexpr int kSyncFrames = 4;
constexpr std::uint64_t kMaxLeadIn = 24;       // frames added before t for the bit reservoir
constexpr std::uint64_t kRing = 32;            // > kMaxLeadIn + 1
constexpr std::size_t kTocPoints = 256;        // frame offsets kept to write the TOC
constexpr unsigned kMaxId3Frames = 4096;
constexpr std::size_t kLameSize = 36;          // LAME extension: version string .. tag CRC
constexpr std::size_t kLameCrcAt = 34;
// What all frames of one stream share: sync, version, layer, sample rate.
constexpr std::uint32_t kStreamMask = 0xFFFE0C00;
constexpr std::uint32_t kXingFrames = 1, kXingBytes = 2, kXingToc = 4, kXingQuality = 8;

std::uint32_t be32(const unsigned char* p)
{
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

void put_be32(unsigned char* p, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i) {
        p[i] = static_cast<unsigned char>(v >> (24 - 8 * i));
    }
}

// a * b / c without overflow (c > 0).
std::uint64_t mul_div(std::uint64_t a, std::uint64_t b, std::uint64_t c)
{
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(a) * b / c);
}

Micros samples_to_micros(std::uint64_t samples, unsigned rate)
{
    return static_cast<Micros>(samples / rate * 1000000 + samples % rate * 1000000 / rate);
}

Cut malformed(const char* why)
{
    Cut cut;
    cut.status = Cut::Status::Malformed;
    cut.detail = why;
    return cut;
}

// A window of the file, read kWindow bytes at a time: the walk over frame headers costs one
// read per 64 KiB, and memory stays constant whatever the file.
class Reader {
public:
    explicit Reader(ByteSource& src) : src_(src), size_(src.size()), buf_(kWindow) {}
    Offset size() const { return size_; }
    Offset window_end() const { return base_ + len_; }
    bool failed() const { return failed_; }

    // The n bytes at pos (n <= kWindow), or nullptr when they are not all in the file.
    const unsigned char* at(Offset pos, std::size_t n)
    {
        if (pos >= base_ && pos - base_ <= len_ && n <= len_ - (pos - base_)) {
            return buf_.data() + (pos - base_);
        }
        if (pos > size_ || n > size_ - pos || n > buf_.size()) {
            return nullptr;
        }
        const auto len = static_cast<std::size_t>(std::min<Offset>(buf_.size(), size_ - pos));
        if (!src_.read(pos, buf_.data(), len)) {
            failed_ = true;
            len_ = 0;
            return nullptr;
        }
        base_ = pos;
        len_ = len;
        return buf_.data();
    }

private:
    ByteSource& src_;
    Offset size_;
    std::vector<unsigned char> buf_;
    Offset base_ = 0;
    std::size_t len_ = 0;
    bool failed_ = false;
};

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

// Offsets of frames first, first + stride, ... in a fixed array; the stride doubles when it
// fills, so the memory is constant for any number of frames.
class OffsetSampler {
public:
    void add(std::uint64_t rel, Offset offset)
    {
        if (rel % stride_ != 0) {
            return;
        }
        if (n_ == points_.size()) {
            for (std::size_t i = 0; i < n_ / 2; ++i) {
                points_[i] = points_[2 * i];
            }
            n_ /= 2;
            stride_ *= 2;
            if (rel % stride_ != 0) {
                return;
            }
        }
        points_[n_++] = offset;
    }
    // The offset of frame `rel`, interpolated between the kept points.
    Offset at(std::uint64_t rel) const
    {
        const std::uint64_t i = rel / stride_;
        if (n_ == 0) {
            return 0;
        }
        if (i + 1 >= n_) {
            return points_[n_ - 1];
        }
        return points_[i] + mul_div(points_[i + 1] - points_[i], rel % stride_, stride_);
    }

private:
    std::array<Offset, kTocPoints> points_{};
    std::size_t n_ = 0;
    std::uint64_t stride_ = 1;
};

struct Walk {
    bool reached = false;       // frame k was found
    std::uint64_t first = 0;    // j: the first frame of the cut
    Offset first_offset = 0;
    std::uint64_t count = 0;    // frames in the stream
    Offset audio_end = 0;       // end of the last whole frame
    bool constant = true;       // every frame from j on has the same bitrate
    std::uint8_t bitrate_index = 0;
    OffsetSampler toc;
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

struct VbrTag {
    bool found = false;        // Xing, Info or VBRI: the first frame carries no audio
    bool info = false;         // "Info": the encoder wrote a constant bitrate
    std::uint32_t frames = 0;  // 0: not given
    bool lame = false;         // a LAME extension with encoder delay and padding
    std::array<unsigned char, kLameSize> lame_ext{};
    std::uint32_t quality = 0;
    unsigned delay = 0;
    unsigned padding = 0;
};

VbrTag read_vbr_tag(Reader& r, Offset pos, const Mp3Header& h)
{
    VbrTag tag;
    const unsigned char* f = r.at(pos, h.size);
    if (!f) {
        return tag;
    }
    // The Xing tag follows the side information (its frame has no CRC), VBRI is at 36.
    std::size_t p = 4 + h.side_info;
    if (h.size >= p + 8 && (std::memcmp(f + p, "Xing", 4) == 0 || std::memcmp(f + p, "Info", 4) == 0)) {
        tag.found = true;
        tag.info = f[p] == 'I';
        const std::uint32_t flags = be32(f + p + 4);
        p += 8;
        if (flags & kXingFrames) {
            if (h.size < p + 4) {
                return tag;
            }
            tag.frames = be32(f + p);
            p += 4;
        }
        p += (flags & kXingBytes ? 4 : 0) + (flags & kXingToc ? 100 : 0);
        if (flags & kXingQuality) {
            if (h.size < p + 4) {
                return tag;
            }
            tag.quality = be32(f + p);
            p += 4;
        }
        if (h.size >= p + kLameSize &&
            (std::memcmp(f + p, "LAME", 4) == 0 || std::memcmp(f + p, "Lavf", 4) == 0 ||
             std::memcmp(f + p, "Lavc", 4) == 0)) {
            tag.lame = true;
            std::memcpy(tag.lame_ext.data(), f + p, kLameSize);
            // LAME tag bytes 21-23: encoder delay (12 bits), end padding (12 bits).
            const unsigned v = f[p + 21] << 16 | f[p + 22] << 8 | f[p + 23];
            tag.delay = v >> 12;
            tag.padding = v & 0xFFF;
        }
    }
    else if (h.size >= 36 + 18 && std::memcmp(f + 36, "VBRI", 4) == 0) {
        tag.found = true;
        tag.frames = be32(f + 36 + 14);
    }
    return tag;
}

// ID3v2 frames that describe the original's timeline or byte layout; a tag holding one would
// mislead players about the cut.
bool tied_to_timeline(const unsigned char* id, std::size_t len)
{
    static const char* const kIds4[] = {"TLEN", "CHAP", "CTOC", "SYLT", "ETCO", "SYTC",
                                        "POSS", "MLLT", "ASPI", "SEEK"};
    static const char* const kIds3[] = {"TLE", "SLT", "ETC", "STC", "MLL"};
    if (len == 4) {
        return std::any_of(std::begin(kIds4), std::end(kIds4),
                           [&](const char* s) { return std::memcmp(id, s, 4) == 0; });
    }
    return std::any_of(std::begin(kIds3), std::end(kIds3),
                       [&](const char* s) { return std::memcmp(id, s, 3) == 0; });
}

std::uint32_t syncsafe(const unsigned char* p)
{
    return static_cast<std::uint32_t>(p[0]) << 21 | p[1] << 14 | p[2] << 7 | p[3];
}

// Whether the ID3v2 tag at pos (header h, body of `size` bytes) can be kept in a cut.
// Anything unclear says no: the tag is then left out, which costs only metadata.
bool id3_keepable(Reader& r, Offset pos, const unsigned char* h, std::uint32_t size)
{
    const unsigned major = h[3];
    const unsigned flags = h[5];
    // v2.2/2.3 unsynchronisation may have altered frame headers; v2.2 bit 6 is compression.
    if (major < 2 || major > 4 || (major < 4 && (flags & 0x80)) || (major == 2 && (flags & 0x40))) {
        return false;
    }
    Offset p = pos + 10;
    const Offset end = p + size;
    if (flags & 0x40) {
        const unsigned char* e = end - p >= 4 ? r.at(p, 4) : nullptr;
        if (!e || (major == 4 && (e[0] | e[1] | e[2] | e[3]) & 0x80)) {
            return false;
        }
        const Offset ext = major == 4 ? syncsafe(e) : Offset{be32(e)} + 4;
        if (ext > end - p) {
            return false;
        }
        p += ext;
    }
    const std::size_t id_len = major == 2 ? 3 : 4;
    const std::size_t head = major == 2 ? 6 : 10;
    for (unsigned n = 0; end - p >= head; ++n) {
        const unsigned char* f = r.at(p, head);
        if (!f || n == kMaxId3Frames) {
            return false;
        }
        if (f[0] == 0) {
            return true;  // padding
        }
        for (std::size_t i = 0; i < id_len; ++i) {
            if (!((f[i] >= 'A' && f[i] <= 'Z') || (f[i] >= '0' && f[i] <= '9'))) {
                return false;
            }
        }
        if (tied_to_timeline(f, id_len)) {
            return false;
        }
        Offset len = 0;
        if (major == 2) {
            len = static_cast<Offset>(f[3]) << 16 | f[4] << 8 | f[5];
        }
        else if (major == 3) {
            len = be32(f + 4);
        }
        else {
            if ((f[4] | f[5] | f[6] | f[7]) & 0x80) {
                return false;
            }
            len = syncsafe(f + 4);
        }
        if (len > end - p - head) {
            return false;
        }
        // iTunes keeps gapless data (iTunSMPB) in a comment or user text frame.
        const bool text = std::memcmp(f, "COMM", id_len) == 0 || std::memcmp(f, "TXXX", id_len) == 0 ||
                          std::memcmp(f, "COM", id_len) == 0 || std::memcmp(f, "TXX", id_len) == 0;
        if (text && len > 0) {
            const auto n_body = static_cast<std::size_t>(std::min<Offset>(len, 64));
            const unsigned char* b = r.at(p + head, n_body);
            if (!b) {
                return false;
            }
            for (std::size_t i = 0; i + 8 <= n_body; ++i) {
                if (std::memcmp(b + i, "iTunSMPB", 8) == 0) {
                    return false;
                }
            }
        }
        p += head + len;
    }
    return true;
}

struct Id3 {
    const char* error = nullptr;
    Offset end = 0;     // first byte after the ID3v2 tags
    bool keep = false;  // every tag can go into the cut
};

Id3 read_id3v2(Reader& r)
{
    Id3 id3;
    bool keep = true;
    // Tags may follow one another; each turn advances at least 10 bytes.
    for (;;) {
        const unsigned char* h = r.at(id3.end, 10);
        if (!h || std::memcmp(h, "ID3", 3) != 0) {
            break;
        }
        if (h[3] == 0xFF || h[4] == 0xFF || ((h[6] | h[7] | h[8] | h[9]) & 0x80)) {
            id3.error = "bad ID3v2 header";
            return id3;
        }
        const std::uint32_t size = syncsafe(h + 6);
        const Offset total = 10 + Offset{size} + (h[3] == 4 && (h[5] & 0x10) ? 10 : 0);
        if (total > r.size() - id3.end) {
            id3.error = "ID3v2 tag past the end of the file";
            return id3;
        }
        std::array<unsigned char, 10> copy;
        std::memcpy(copy.data(), h, copy.size());
        keep = keep && id3_keepable(r, id3.end, copy.data(), size);
        id3.end += total;
    }
    id3.keep = keep && id3.end > 0;
    return id3;
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
            const std::uint32_t size = p[12] | p[13] << 8 | p[14] << 16 | static_cast<std::uint32_t>(p[15]) << 24;
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

std::uint16_t crc16_arc(const unsigned char* p, std::size_t n)
{
    std::uint16_t crc = 0;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int b = 0; b < 8; ++b) {
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

struct NewTag {
    std::uint32_t audio_raw;  // header of the first audio frame: the new frame copies its fields
    Mp3Header audio;
    std::uint64_t frames;     // audio frames in the cut
    Offset audio_bytes;       // from the cut's first frame to the end of the audio
    const Walk* walk;
    const VbrTag* original;
    unsigned delay;           // LAME extension values for the cut
    unsigned padding;
};

// A fresh Xing ("Info" when constant) frame: same version, sample rate, mode and flags as the
// first audio frame, no CRC, silent side information (main_data_begin 0, no granule data).
std::optional<std::string> xing_frame(const NewTag& in)
{
    const bool lame = in.original->lame;
    const std::size_t base = 4 + in.audio.side_info;
    const std::size_t payload = 16 + (lame ? 4 + kLameSize : 0);
    auto raw_for = [&](unsigned index) {
        return (in.audio_raw & 0xFFFE0CCF) | 0x00010000u | index << 12;
    };
    auto size_for = [&](unsigned index) {
        const auto h = parse_mp3_header(raw_for(index));
        return h ? h->size : 0u;
    };
    // Constant streams keep their bitrate when it holds the tag (the TOC is optional there);
    // otherwise the smallest bitrate that holds tag and TOC.
    unsigned index = 0;
    bool toc = true;
    if (in.walk->constant && size_for(in.walk->bitrate_index) >= base + payload) {
        index = in.walk->bitrate_index;
        toc = size_for(index) >= base + payload + 100;
    }
    for (unsigned i = 1; index == 0 && i < 15; ++i) {
        if (size_for(i) >= base + payload + 100) {
            index = i;
        }
    }
    const std::uint64_t size = index == 0 ? 0 : size_for(index);
    const std::uint64_t bytes = size + in.audio_bytes;
    if (index == 0 || bytes > 0xFFFFFFFF || in.frames > 0xFFFFFFFF) {
        return std::nullopt;
    }

    std::string frame(size, '\0');
    auto* f = reinterpret_cast<unsigned char*>(frame.data());
    put_be32(f, raw_for(index));
    std::size_t p = base;
    std::memcpy(f + p, in.walk->constant ? "Info" : "Xing", 4);
    put_be32(f + p + 4, kXingFrames | kXingBytes | (toc ? kXingToc : 0) | (lame ? kXingQuality : 0));
    put_be32(f + p + 8, static_cast<std::uint32_t>(in.frames));
    put_be32(f + p + 12, static_cast<std::uint32_t>(bytes));
    p += 16;
    if (toc) {
        // Entry i: where i% of the cut's frames starts, in 1/256 of the bytes.
        for (unsigned i = 0; i < 100; ++i) {
            const std::uint64_t rel = in.frames * i / 100;
            const Offset at = in.walk->constant ? mul_div(in.audio_bytes, i, 100)
                                                : in.walk->toc.at(rel) - in.walk->first_offset;
            f[p + i] = static_cast<unsigned char>(std::min<std::uint64_t>(255, mul_div(size + at, 256, bytes)));
        }
        p += 100;
    }
    if (lame) {
        put_be32(f + p, in.original->quality);
        p += 4;
        unsigned char* ext = f + p;
        std::memcpy(ext, in.original->lame_ext.data(), kLameSize);
        const std::uint32_t v = (in.delay & 0xFFF) << 12 | (in.padding & 0xFFF);
        ext[21] = static_cast<unsigned char>(v >> 16);
        ext[22] = static_cast<unsigned char>(v >> 8);
        ext[23] = static_cast<unsigned char>(v);
        put_be32(ext + 28, static_cast<std::uint32_t>(bytes));  // music length
        ext[32] = ext[33] = 0;                                   // music CRC: not computed
        const std::uint16_t crc = crc16_arc(f, p + kLameCrcAt);
        ext[kLameCrcAt] = static_cast<unsigned char>(crc >> 8);
        ext[kLameCrcAt + 1] = static_cast<unsigned char>(crc);
    }
    return frame;
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
    const auto secs = static_cast<std::uint64_t>(t / 1000000);
    const auto frac = static_cast<std::uint64_t>(t % 1000000);
    const std::uint64_t sample = secs * rate + frac * rate / 1000000;
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
        Cut cut;
        cut.status = Cut::Status::PastEnd;
        return cut;
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
    cut.rep.etag_suffix = "-t" + std::to_string(cut.start);
    return cut;
}

}  // namespace audio_stream
