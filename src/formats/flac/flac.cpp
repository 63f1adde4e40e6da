#include "flac.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "renumber.h"
#include "scan.h"
#include "../toolbox.h"

namespace audio_stream {

namespace {

using flac::FrameIndex;
using flac::IndexedFrame;
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

// A SEEKTABLE's points, or nothing when it is too large or unreadable. read_metadata checked
// that the block lies inside the file.
std::vector<Byte> read_seek_table(ByteSource& in, const Block& b)
{
    std::vector<Byte> table;
    if (b.length <= kMaxSeekTableBytes) {
        table.resize(b.length);
        if (!in.read(b.offset + 4, table.data(), table.size())) {
            table.clear();
        }
    }
    return table;
}

// RFC 9639 §8.5: the seek points at or after the cut, as the cut numbers samples and places
// frames. `moved` gives a frame's offset in the cut from its offset in the file, nothing when the
// point does not land on a frame of the cut. Empty when no point remains.
template <typename Moved>
std::string rebased_seek_table(ByteSource& in, const Block& b, std::uint64_t cut_first, Offset audio_start, Moved moved)
{
    if (b.length % 18 != 0) {
        return {};
    }
    std::vector<Byte> table = read_seek_table(in, b);
    std::string points;
    for (std::size_t i = 0; i < table.size(); i += 18) {
        Byte* p = table.data() + i;
        const std::uint64_t sample = be64(p);
        const std::uint64_t offset = be64(p + 8);
        if (sample == kPlaceholderPoint || sample < cut_first || offset > in.size() - audio_start) {
            continue;
        }
        const std::optional<Offset> at = moved(audio_start + offset);
        if (!at) {
            continue;
        }
        put_be(p, 8, sample - cut_first);
        put_be(p + 8, 8, *at);
        points.append(reinterpret_cast<const char*>(p), 18);
    }
    return points;
}

// What the metadata tells of the stream, and where its frames start. Each step of a cut below
// returns the Cut that ends it early (Malformed or PastEnd), or nothing to go on.
struct Stream {
    Byte head[4 + 4 + kStreamInfoBytes];  // "fLaC", STREAMINFO's block header and body
    std::vector<Block> blocks;            // STREAMINFO first
    Offset audio_start = 0;
    StreamInfo info;
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

// RFC 9639 §9: the first frame follows the metadata; it fixes the numbering. From it, every
// frame of the stream is indexed once (flac_renumber.h).
FrameIndex build_index(ByteSource& src, const Stream& s)
{
    FrameIndex index;
    Scanner in(src, s.info);
    const auto header = in.header_at(s.audio_start);
    if (!header) {
        index.error = "no FLAC frame after the metadata";
        return index;
    }
    in.set_numbering(*header);
    if (s.info.total != 0) {
        in.set_end_sample(in.first_sample(*header) + s.info.total);
    }
    if (!in.frame_at(s.audio_start)) {
        index.error = in.exhausted() ? "FLAC scan budget exhausted" : "first FLAC frame invalid";
        return index;
    }
    return flac::index_frames(src, s.info, s.audio_start);
}

// The index of the frame holding sample floor(t * rate).
std::optional<Cut> find_cut_frame(const FrameIndex& index, const Stream& s, Micros t, std::size_t& at)
{
    const std::uint64_t wanted = sample_at(t, s.info.rate);
    if (s.info.total != 0 && wanted >= s.info.total) {
        return past_end();
    }
    const auto& frames = index.frames;
    const std::uint64_t target = index.first_sample(frames.front()) + wanted;
    const auto after = std::upper_bound(frames.begin(), frames.end(), target, [&](std::uint64_t x, const IndexedFrame& f) {
        return x < index.first_sample(f);
    });
    const IndexedFrame& f = *std::prev(after);  // frames.front() starts at or before target
    if (target - index.first_sample(f) >= f.block) {
        return past_end();  // after the last frame
    }
    at = static_cast<std::size_t>(std::prev(after) - frames.begin());
    return std::nullopt;
}

// The file offsets the SEEKTABLEs point at, sorted: the renumbering tells where they moved.
std::vector<Offset> seek_targets(ByteSource& in, const Stream& s)
{
    std::vector<Offset> targets;
    for (const Block& b : s.blocks) {
        if (b.type != kSeekTable) {
            continue;
        }
        const std::vector<Byte> table = read_seek_table(in, b);
        for (std::size_t i = 0; i + 18 <= table.size(); i += 18) {
            targets.push_back(s.audio_start + std::min(be64(table.data() + i + 8), in.size()));
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
std::vector<Part> kept_blocks(ByteSource& in, const Stream& s, std::uint64_t cut_first, Moved moved)
{
    std::vector<Part> parts;
    for (const Block& b : s.blocks) {
        if (b.type == kVorbisComment || b.type == kPicture) {
            parts.push_back({&b, {}});
        }
        else if (b.type == kSeekTable) {
            std::string points = rebased_seek_table(in, b, cut_first, s.audio_start, moved);
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

Cut cut_flac(ByteSource& src, const Span& span, IndexSource& indexes)
{
    const Micros t = span.start;
    Stream s;
    if (auto stop = read_metadata(src, s)) {
        return *stop;
    }
    const auto index = indexes.get<FrameIndex>(IndexKind::Flac, [&] {
        return std::make_shared<const FrameIndex>(build_index(src, s));
    });
    if (!index->error.empty() || index->frames.empty()) {
        return malformed(index->error.empty() ? "no FLAC frames" : index->error);
    }
    std::size_t at = 0;
    if (auto stop = find_cut_frame(*index, s, t, at)) {
        return *stop;
    }
    const IndexedFrame& cut_frame = index->frames[at];

    // The frames. A cut at the stream's frame 0 keeps them as they are; any other is renumbered
    // from 0, since decoders time the stream from the first frame's number (RFC 9639 §9.1.5).
    Extents frames;
    std::vector<std::pair<Offset, Offset>> moves;  // (file offset, offset in the cut's audio)
    const bool renumbered = cut_frame.number != 0;
    if (renumbered) {
        std::string why = flac::renumber(*index, at, src.size(), seek_targets(src, s), frames, moves);
        if (!why.empty()) {
            return malformed(std::move(why));
        }
    }
    else {
        append_file(frames, cut_frame.offset, src.size() - cut_frame.offset);
    }
    const auto moved = [&](Offset file_offset) -> std::optional<Offset> {
        if (!renumbered) {
            return file_offset >= cut_frame.offset ? std::optional<Offset>(file_offset - cut_frame.offset) : std::nullopt;
        }
        const auto it = std::lower_bound(moves.begin(), moves.end(), std::make_pair(file_offset, Offset{0}));
        return it != moves.end() && it->first == file_offset ? std::optional<Offset>(it->second) : std::nullopt;
    };

    const std::uint64_t stream_first = index->first_sample(index->frames.front());
    const std::uint64_t cut_first = index->first_sample(cut_frame);
    const std::uint64_t skipped = cut_first - stream_first;
    const std::uint64_t remaining = s.info.total != 0 ? s.info.total - std::min(skipped, s.info.total) : 0;
    Cut cut;
    emit_metadata(cut.rep.extents, cut_stream_info(s, skipped, remaining), kept_blocks(src, s, cut_first, moved));
    emit_frames(cut.rep.extents, frames);
    cut.rep.length = extents_length(cut.rep.extents);
    cut.status = Cut::Status::Ok;
    cut.start = samples_to_micros(skipped, s.info.rate);
    cut.duration = samples_to_micros(remaining, s.info.rate);
    return cut;
}

Cut cut_flac(ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_flac(src, span, none);
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
