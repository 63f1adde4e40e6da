#include "flac.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flac_renumber.h"
#include "flac_scan.h"

namespace audio_stream {

namespace {

using flac::be;
using flac::Byte;
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

void put_be(Byte* p, int n, std::uint64_t v)
{
    for (int i = n - 1; i >= 0; --i) {
        p[i] = static_cast<Byte>(v);
        v >>= 8;
    }
}

// floor(t * rate / 1e6) without overflowing for any t up to kMaxTime.
std::uint64_t sample_at(Micros t, std::uint32_t rate)
{
    const auto u = static_cast<std::uint64_t>(t);
    return u / 1000000 * rate + u % 1000000 * rate / 1000000;
}

Micros micros_of(std::uint64_t samples, std::uint32_t rate)
{
    const std::uint64_t seconds = std::min<std::uint64_t>(samples / rate, std::uint64_t{1} << 40);
    return static_cast<Micros>(seconds * 1000000 + samples % rate * 1000000 / rate);
}

Cut malformed(std::string detail)
{
    Cut cut;
    cut.status = Cut::Status::Malformed;
    cut.detail = std::move(detail);
    return cut;
}

struct Block {
    unsigned type;
    Offset offset;  // of the 4-byte block header
    std::uint32_t length;
    bool last;
};

StreamInfo parse_stream_info(const Byte* s)
{
    StreamInfo info;
    info.max_block = static_cast<std::uint32_t>(be(s + 2, 2));
    info.max_frame = static_cast<std::uint32_t>(be(s + 7, 3));
    info.rate = static_cast<std::uint32_t>(be(s + 10, 3) >> 4);
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
        const std::uint64_t sample = be(p, 8);
        const std::uint64_t offset = be(p + 8, 8);
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
        const std::uint64_t sample = be(table.data() + i, 8);
        const std::uint64_t offset = be(table.data() + i + 8, 8);
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

}  // namespace

Cut cut_flac(ByteSource& src, Micros t)
{
    const Offset size = src.size();
    // Some taggers put an ID3v2 tag before "fLaC" (not RFC 9639, but common): step over it.
    Offset begin = 0;
    Byte id3[10];
    if (size >= sizeof id3 && src.read(0, id3, sizeof id3) && id3[0] == 'I' && id3[1] == 'D' && id3[2] == '3') {
        begin = 10 + ((Offset{id3[6]} & 0x7F) << 21 | (Offset{id3[7]} & 0x7F) << 14 | (Offset{id3[8]} & 0x7F) << 7 |
                      (Offset{id3[9]} & 0x7F));
        begin += (id3[5] & 0x10) ? 10 : 0;  // footer present
    }
    Byte head[4 + 4 + kStreamInfoBytes];
    if (begin > size || size - begin < sizeof head || !src.read(begin, head, sizeof head) ||
        std::string_view(reinterpret_cast<char*>(head), 4) != "fLaC") {
        return malformed("not a FLAC stream");
    }
    // RFC 9639 §8: metadata blocks, STREAMINFO first, until the one flagged last.
    std::vector<Block> blocks;
    Offset pos = begin + 4;
    for (bool last = false; !last;) {
        if (blocks.size() == kMaxMetadataBlocks) {
            return malformed("too many FLAC metadata blocks");
        }
        Byte h[4];
        if (pos > size || size - pos < 4 || !src.read(pos, h, 4)) {
            return malformed("FLAC metadata truncated");
        }
        const Block b{h[0] & 0x7Fu, pos, static_cast<std::uint32_t>(be(h + 1, 3)), (h[0] & 0x80) != 0};
        if (b.type == kInvalidBlock || b.length > size - pos - 4) {
            return malformed("FLAC metadata block invalid or past the end of the file");
        }
        if ((b.type == kStreamInfo) != blocks.empty() || (blocks.empty() && b.length != kStreamInfoBytes)) {
            return malformed("FLAC STREAMINFO missing or not first");
        }
        blocks.push_back(b);
        last = b.last;
        pos += 4 + Offset{b.length};
    }
    const Offset audio_start = pos;
    const StreamInfo info = parse_stream_info(head + 8);
    if (info.rate == 0) {
        return malformed("FLAC sample rate is 0");
    }

    Scanner in(src, info);
    // RFC 9639 §9: the first frame follows the metadata; it fixes the numbering and the
    // sample the stream starts at (non-zero when the file is itself a cut).
    const auto first_header = in.header_at(audio_start);
    if (!first_header) {
        return malformed("no FLAC frame after the metadata");
    }
    in.set_numbering(*first_header);
    const std::uint64_t stream_first = in.first_sample(*first_header);
    if (info.total != 0) {
        in.set_end_sample(stream_first + info.total);
    }
    const auto first = in.frame_at(audio_start);
    if (!first) {
        return malformed(in.exhausted() ? "FLAC scan budget exhausted" : "first FLAC frame invalid");
    }

    const std::uint64_t wanted = sample_at(std::max<Micros>(t, 0), info.rate);
    Cut cut;
    if (info.total != 0 && wanted >= info.total) {
        cut.status = Cut::Status::PastEnd;
        return cut;
    }
    const std::uint64_t target = stream_first + wanted;

    Frame lo = *first;
    Offset hi = size;
    for (const Block& b : blocks) {
        if (b.type == kSeekTable) {
            apply_seek_table(in, b, audio_start, target, lo, hi);
        }
    }
    const auto at = locate(in, lo, hi, target);
    if (!at) {
        if (in.exhausted()) {
            return malformed("FLAC scan budget exhausted");
        }
        cut.status = Cut::Status::PastEnd;
        return cut;
    }

    // STREAMINFO: what remains. The MD5 covers the whole stream, so it survives only a cut
    // at the first frame (RFC 9639 §8.2: zero means unknown).
    const std::uint64_t skipped = at->first - stream_first;
    const std::uint64_t remaining = info.total != 0 ? info.total - std::min(skipped, info.total) : 0;
    Byte stream_info[kStreamInfoBytes];
    std::copy_n(head + 8, kStreamInfoBytes, stream_info);
    stream_info[13] = static_cast<Byte>((stream_info[13] & 0xF0) | ((remaining >> 32) & 0x0F));
    put_be(stream_info + 14, 4, remaining & 0xFFFFFFFFu);
    if (skipped != 0) {
        std::fill(stream_info + 18, stream_info + kStreamInfoBytes, Byte{0});
    }

    // The frames. A cut at the stream's frame 0 keeps them as they are; any other is renumbered
    // from 0, since decoders time the stream from the first frame's number (RFC 9639 §9.1.5).
    Extents frames;
    std::vector<Offset> seek_targets;
    for (const Block& b : blocks) {
        if (b.type != kSeekTable || b.length > kMaxSeekTableBytes) {
            continue;
        }
        std::vector<Byte> table(b.length);
        if (in.read(b.offset + 4, table.data(), table.size())) {
            for (std::size_t i = 0; i + 18 <= table.size(); i += 18) {
                seek_targets.push_back(audio_start + std::min(be(table.data() + i + 8, 8), size));
            }
        }
    }
    std::sort(seek_targets.begin(), seek_targets.end());
    Renumberer renumber(src, info, frames);
    renumber.track(std::move(seek_targets));
    const auto header = in.header_at(at->offset);
    const bool renumbered = !header || header->number != 0;
    if (renumbered) {
        std::string why = renumber.run(at->offset);
        if (!why.empty()) {
            return malformed(std::move(why));
        }
    }
    else {
        append_file(frames, at->offset, size - at->offset);
    }
    const auto moved = [&](Offset file_offset) -> std::optional<Offset> {
        if (renumbered) {
            return renumber.moved(file_offset);
        }
        return file_offset >= at->offset ? std::optional<Offset>(file_offset - at->offset) : std::nullopt;
    };

    // Kept: tags and pictures (players show them), the rebased SEEKTABLE. Dropped: PADDING,
    // CUESHEET and APPLICATION data, whose positions or purpose a cut no longer matches.
    struct Part {
        const Block* block;
        std::string memory;  // a rebuilt body, or empty to copy the block from the file
    };
    std::vector<Part> parts;
    for (const Block& b : blocks) {
        if (b.type == kVorbisComment || b.type == kPicture) {
            parts.push_back({&b, {}});
        }
        else if (b.type == kSeekTable) {
            std::string points = rebased_seek_table(in, b, *at, audio_start, moved);
            if (!points.empty()) {
                parts.push_back({&b, std::move(points)});
            }
        }
    }

    Representation& rep = cut.rep;
    append_memory(rep.extents, "fLaC" + block_header(kStreamInfo, parts.empty(), kStreamInfoBytes) +
                                std::string(reinterpret_cast<const char*>(stream_info), kStreamInfoBytes));
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Block& b = *parts[i].block;
        const bool last = i + 1 == parts.size();
        if (!parts[i].memory.empty()) {
            const auto length = static_cast<std::uint32_t>(parts[i].memory.size());
            append_memory(rep.extents, block_header(b.type, last, length) + parts[i].memory);
        }
        else if (b.last == last) {
            append_file(rep.extents, b.offset, 4 + Offset{b.length});
        }
        else {
            // §8.1: only the last block emitted may carry the last-block flag.
            append_memory(rep.extents, block_header(b.type, last, b.length));
            append_file(rep.extents, b.offset + 4, b.length);
        }
    }
    for (auto& e : frames) {
        if (auto* f = std::get_if<FileExtent>(&e)) {
            append_file(rep.extents, f->offset, f->length);
        }
        else {
            append_memory(rep.extents, std::move(std::get<MemoryBlock>(e).bytes));
        }
    }
    rep.length = extents_length(rep.extents);

    cut.status = Cut::Status::Ok;
    cut.start = micros_of(skipped, info.rate);
    cut.duration = micros_of(remaining, info.rate);
    rep.etag_suffix = "-t" + std::to_string(cut.start);
    return cut;
}

}  // namespace audio_stream
