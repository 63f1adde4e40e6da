#include "flac.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "flac_renumber.h"
#include "flac_scan.h"
#include "toolbox.h"

namespace audio_stream {

namespace {

using flac::Frame;
using flac::locate;
using flac::Renumberer;
using flac::Scanner;
using flac::StreamInfo;

constexpr unsigned kMaxMetadataBlocks = 1024;
constexpr std::uint32_t kMaxSeekTableBytes = 64 * 1024;
constexpr std::uint64_t kPlaceholderPoint = ~std::uint64_t{0};

// RFC 9639 §8.1 block types.
constexpr unsigned kStreamInfo = 0;
constexpr unsigned kSeekTable = 3;
constexpr unsigned kVorbisComment = 4;
constexpr unsigned kPicture = 6;
constexpr unsigned kInvalidBlock = 127;
constexpr std::uint32_t kStreamInfoBytes = 34;

struct Block {
    unsigned type;
    Offset offset;  // of the 4-byte block header
    std::uint32_t length;
    bool last;
};

StreamInfo parse_stream_info(const Byte* s)
{
    StreamInfo info;
    info.max_block = be16(s + 2);
    info.max_frame = be24(s + 7);
    info.rate = be24(s + 10) >> 4;
    info.channels = ((s[12] >> 1) & 7) + 1;
    info.bits = (((s[12] & 1) << 4) | (s[13] >> 4)) + 1;
    info.total = be(s + 13, 5) & 0xFFFFFFFFFull;
    return info;
}

std::string block_header(unsigned type, bool last, std::uint32_t length)
{
    Byte h[4];
    h[0] = static_cast<Byte>(type | (last ? 0x80 : 0));
    put_be(h + 1, 3, length);
    return std::string(reinterpret_cast<const char*>(h), 4);
}

// RFC 9639 §8.5: the seek points at or after the cut, as the cut numbers samples and places
// frames. `moved` gives a frame's offset in the cut from its offset in the file, nothing when the
// point does not land on a frame of the cut. Empty when no point remains.
template <typename Moved>
std::string rebased_seek_table(Scanner& in, const Block& b, const Frame& cut, Offset audio_start, Moved moved)
{
    if (b.length > kMaxSeekTableBytes || b.length % 18 != 0) {
        return {};
    }
    std::vector<Byte> table(b.length);
    if (!in.read(b.offset + 4, table.data(), table.size())) {
        return {};
    }
    std::string points;
    for (std::size_t i = 0; i < table.size(); i += 18) {
        Byte* p = table.data() + i;
        const std::uint64_t sample = be64(p);
        const std::uint64_t offset = be64(p + 8);
        if (sample == kPlaceholderPoint || sample < cut.first || offset > in.size() - audio_start) {
            continue;
        }
        const std::optional<Offset> at = moved(audio_start + offset);
        if (!at) {
            continue;
        }
        put_be(p, 8, sample - cut.first);
        put_be(p + 8, 8, *at);
        points.append(reinterpret_cast<const char*>(p), 18);
    }
    return points;
}

// The best SEEKTABLE hints (RFC 9639 §8.5): the frame of the last point at or before the target
// narrows lo, the first point after it narrows hi. Hints are checked, never trusted.
void apply_seek_table(Scanner& in, const Block& b, Offset audio_start, std::uint64_t target, Frame& lo,
                      Offset& hi)
{
    if (b.length > kMaxSeekTableBytes) {
        return;
    }
    std::vector<Byte> table(b.length);
    if (!in.read(b.offset + 4, table.data(), table.size())) {
        return;
    }
    const Offset audio_bytes = in.size() - audio_start;
    std::optional<std::uint64_t> below;
    std::optional<std::uint64_t> above;
    std::uint64_t below_sample = 0;
    std::uint64_t above_sample = 0;
    for (std::size_t i = 0; i + 18 <= table.size(); i += 18) {
        const std::uint64_t sample = be64(table.data() + i);
        const std::uint64_t offset = be64(table.data() + i + 8);
        if (sample == kPlaceholderPoint || offset >= audio_bytes) {
            continue;
        }
        if (sample <= target && (!below || sample > below_sample)) {
            below = offset;
            below_sample = sample;
        }
        else if (sample > target && (!above || sample < above_sample)) {
            above = offset;
            above_sample = sample;
        }
    }
    if (below && audio_start + *below > lo.offset) {
        if (const auto f = in.frame_at(audio_start + *below); f && f->first <= target && f->first >= lo.first) {
            lo = *f;
        }
    }
    if (above && audio_start + *above > lo.offset && audio_start + *above < hi) {
        if (const auto f = in.frame_at(audio_start + *above); f && f->first > target) {
            hi = f->offset;
        }
    }
}

// What the metadata tells of the stream, and where its frames start. Each step of a cut below
// returns the Cut that ends it early (Malformed or PastEnd), or nothing to go on.
struct Stream {
    Byte head[4 + 4 + kStreamInfoBytes];  // "fLaC", STREAMINFO's block header and body
    std::vector<Block> blocks;            // STREAMINFO first
    Offset audio_start = 0;
    StreamInfo info;
    std::uint64_t first_sample = 0;       // non-zero when the file is itself a cut
};

// Some taggers put an ID3v2 tag before "fLaC" (not RFC 9639, but common): where it ends.
Offset after_id3(ByteSource& src)
{
    Byte id3[10];
    if (src.size() < sizeof id3 || !src.read(0, id3, sizeof id3) || std::memcmp(id3, "ID3", 3) != 0) {
        return 0;
    }
    return 10 + Offset{syncsafe32(id3 + 6)} + ((id3[5] & 0x10) ? 10 : 0);  // footer present
}

// RFC 9639 §8: "fLaC", then metadata blocks, STREAMINFO first, until the one flagged last.
std::optional<Cut> read_metadata(ByteSource& src, Stream& s)
{
    const Offset size = src.size();
    const Offset begin = after_id3(src);
    if (begin > size || size - begin < sizeof s.head || !src.read(begin, s.head, sizeof s.head) ||
        std::memcmp(s.head, "fLaC", 4) != 0) {
        return malformed("not a FLAC stream");
    }
    Offset pos = begin + 4;
    for (bool last = false; !last;) {
        if (s.blocks.size() == kMaxMetadataBlocks) {
            return malformed("too many FLAC metadata blocks");
        }
        Byte h[4];
        if (pos > size || size - pos < 4 || !src.read(pos, h, 4)) {
            return malformed("FLAC metadata truncated");
        }
        const Block b{h[0] & 0x7Fu, pos, be24(h + 1), (h[0] & 0x80) != 0};
        if (b.type == kInvalidBlock || b.length > size - pos - 4) {
            return malformed("FLAC metadata block invalid or past the end of the file");
        }
        if ((b.type == kStreamInfo) != s.blocks.empty() || (s.blocks.empty() && b.length != kStreamInfoBytes)) {
            return malformed("FLAC STREAMINFO missing or not first");
        }
        s.blocks.push_back(b);
        last = b.last;
        pos += 4 + Offset{b.length};
    }
    s.audio_start = pos;
    s.info = parse_stream_info(s.head + 8);
    if (s.info.rate == 0) {
        return malformed("FLAC sample rate is 0");
    }
    return std::nullopt;
}

// RFC 9639 §9: the first frame follows the metadata; it fixes the numbering and the sample the
// stream starts at.
std::optional<Cut> read_first_frame(Scanner& in, Stream& s, Frame& first)
{
    const auto header = in.header_at(s.audio_start);
    if (!header) {
        return malformed("no FLAC frame after the metadata");
    }
    in.set_numbering(*header);
    s.first_sample = in.first_sample(*header);
    if (s.info.total != 0) {
        in.set_end_sample(s.first_sample + s.info.total);
    }
    const auto frame = in.frame_at(s.audio_start);
    if (!frame) {
        return malformed(in.exhausted() ? "FLAC scan budget exhausted" : "first FLAC frame invalid");
    }
    first = *frame;
    return std::nullopt;
}

// The frame holding sample floor(t * rate), searched between the first frame and the end of the
// file, narrowed by the SEEKTABLE's hints.
std::optional<Cut> find_cut_frame(Scanner& in, const Stream& s, const Frame& first, Micros t, Frame& at)
{
    const std::uint64_t wanted = sample_at(t, s.info.rate);
    if (s.info.total != 0 && wanted >= s.info.total) {
        return past_end();
    }
    const std::uint64_t target = s.first_sample + wanted;
    Frame lo = first;
    Offset hi = in.size();
    for (const Block& b : s.blocks) {
        if (b.type == kSeekTable) {
            apply_seek_table(in, b, s.audio_start, target, lo, hi);
        }
    }
    const auto found = locate(in, lo, hi, target);
    if (!found) {
        return in.exhausted() ? malformed("FLAC scan budget exhausted") : past_end();
    }
    at = *found;
    return std::nullopt;
}

// The file offsets the SEEKTABLEs point at, sorted: the renumbering tells where they moved.
std::vector<Offset> seek_targets(Scanner& in, const Stream& s)
{
    std::vector<Offset> targets;
    for (const Block& b : s.blocks) {
        if (b.type != kSeekTable || b.length > kMaxSeekTableBytes) {
            continue;
        }
        std::vector<Byte> table(b.length);
        if (in.read(b.offset + 4, table.data(), table.size())) {
            for (std::size_t i = 0; i + 18 <= table.size(); i += 18) {
                targets.push_back(s.audio_start + std::min(be64(table.data() + i + 8), in.size()));
            }
        }
    }
    std::sort(targets.begin(), targets.end());
    return targets;
}

// STREAMINFO: what remains. The MD5 covers the whole stream, so it survives only a cut at the
// first frame (RFC 9639 §8.2: zero means unknown).
std::string cut_stream_info(const Stream& s, std::uint64_t skipped, std::uint64_t remaining)
{
    Byte info[kStreamInfoBytes];
    std::copy_n(s.head + 8, kStreamInfoBytes, info);
    info[13] = static_cast<Byte>((info[13] & 0xF0) | ((remaining >> 32) & 0x0F));
    put_be32(info + 14, static_cast<std::uint32_t>(remaining));
    if (skipped != 0) {
        std::fill(info + 18, info + kStreamInfoBytes, Byte{0});
    }
    return std::string(reinterpret_cast<const char*>(info), kStreamInfoBytes);
}

// A metadata block the cut keeps.
struct Part {
    const Block* block;
    std::string memory;  // a rebuilt body, or empty to copy the block from the file
};

// Kept: tags and pictures (players show them), the rebased SEEKTABLE. Dropped: PADDING,
// CUESHEET and APPLICATION data, whose positions or purpose a cut no longer matches.
template <typename Moved>
std::vector<Part> kept_blocks(Scanner& in, const Stream& s, const Frame& at, Moved moved)
{
    std::vector<Part> parts;
    for (const Block& b : s.blocks) {
        if (b.type == kVorbisComment || b.type == kPicture) {
            parts.push_back({&b, {}});
        }
        else if (b.type == kSeekTable) {
            std::string points = rebased_seek_table(in, b, at, s.audio_start, moved);
            if (!points.empty()) {
                parts.push_back({&b, std::move(points)});
            }
        }
    }
    return parts;
}

// "fLaC", the rewritten STREAMINFO, then the kept blocks, the last one flagged so.
void emit_metadata(Extents& out, const std::string& stream_info, const std::vector<Part>& parts)
{
    append_memory(out, "fLaC" + block_header(kStreamInfo, parts.empty(), kStreamInfoBytes) + stream_info);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Block& b = *parts[i].block;
        const bool last = i + 1 == parts.size();
        if (!parts[i].memory.empty()) {
            const auto length = static_cast<std::uint32_t>(parts[i].memory.size());
            append_memory(out, block_header(b.type, last, length) + parts[i].memory);
        }
        else if (b.last == last) {
            append_file(out, b.offset, 4 + Offset{b.length});
        }
        else {
            // §8.1: only the last block emitted may carry the last-block flag.
            append_memory(out, block_header(b.type, last, b.length));
            append_file(out, b.offset + 4, b.length);
        }
    }
}

void emit_frames(Extents& out, Extents& frames)
{
    for (auto& e : frames) {
        if (auto* f = std::get_if<FileExtent>(&e)) {
            append_file(out, f->offset, f->length);
        }
        else {
            append_memory(out, std::move(std::get<MemoryBlock>(e).bytes));
        }
    }
}

}  // namespace

Cut cut_flac(ByteSource& src, Micros t)
{
    Stream s;
    if (auto stop = read_metadata(src, s)) {
        return *stop;
    }
    Scanner in(src, s.info);
    Frame first{};
    if (auto stop = read_first_frame(in, s, first)) {
        return *stop;
    }
    Frame at{};
    if (auto stop = find_cut_frame(in, s, first, t, at)) {
        return *stop;
    }

    // The frames. A cut at the stream's frame 0 keeps them as they are; any other is renumbered
    // from 0, since decoders time the stream from the first frame's number (RFC 9639 §9.1.5).
    Extents frames;
    Renumberer renumber(src, s.info, frames);
    renumber.track(seek_targets(in, s));
    const auto header = in.header_at(at.offset);
    const bool renumbered = !header || header->number != 0;
    if (renumbered) {
        std::string why = renumber.run(at.offset);
        if (!why.empty()) {
            return malformed(std::move(why));
        }
    }
    else {
        append_file(frames, at.offset, in.size() - at.offset);
    }
    const auto moved = [&](Offset file_offset) -> std::optional<Offset> {
        if (renumbered) {
            return renumber.moved(file_offset);
        }
        return file_offset >= at.offset ? std::optional<Offset>(file_offset - at.offset) : std::nullopt;
    };

    const std::uint64_t skipped = at.first - s.first_sample;
    const std::uint64_t remaining = s.info.total != 0 ? s.info.total - std::min(skipped, s.info.total) : 0;
    Cut cut;
    emit_metadata(cut.rep.extents, cut_stream_info(s, skipped, remaining), kept_blocks(in, s, at, moved));
    emit_frames(cut.rep.extents, frames);
    cut.rep.length = extents_length(cut.rep.extents);
    cut.status = Cut::Status::Ok;
    cut.start = samples_to_micros(skipped, s.info.rate);
    cut.duration = samples_to_micros(remaining, s.info.rate);
    return cut;
}

AudioLayout layout_flac(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    Stream s;
    if (!read_metadata(src, s)) {
        l.audio_start = s.audio_start;
        l.duration = s.info.total > 0 ? samples_to_micros(s.info.total, s.info.rate) : 0;
    }
    return l;
}

}  // namespace audio_stream
