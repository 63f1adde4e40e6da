#include "write.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace audio_stream {
namespace flac {

namespace {

// The SEEKTABLE block's points, read once: they give the offsets to track, then are rebased.
struct SeekTable {
    const Block* block = nullptr;  // none in the stream
    std::vector<SeekPoint> points;
};

// A metadata block the cut keeps.
struct Part {
    const Block* block;
    std::string memory;  // a rebuilt body, or empty to copy the block from the file
};

// What a seek point must satisfy to stay in the cut, on the stream's sample numbering.
struct Kept {
    std::uint64_t first = 0;  // the cut's first sample
    std::uint64_t end = 0;    // one past its last (END's sample for a clip)
    Offset audio_start = 0;
    Offset file_size = 0;
};

std::string block_header(unsigned type, bool last, std::uint32_t length)
{
    Byte h[4];
    h[0] = static_cast<Byte>(type | (last ? 0x80 : 0));
    put_be(h + 1, 3, length);
    return std::string(reinterpret_cast<const char*>(h), 4);
}

// RFC 9639 §8.5: a stream has at most one SEEKTABLE, and behaviour with more is undefined. The
// first is read and kept, any other dropped: a request holds one table's points (64 KiB of
// them at most), not one per metadata block (up to 1023 tables).
SeekTable first_seek_table(ByteSource& src, const Stream& s)
{
    for (const Block& b : s.blocks) {
        if (b.type == kSeekTable) {
            return {&b, read_seek_points(src, b)};
        }
    }
    return {};
}

// The file offsets the SEEKTABLE points at, sorted: the frames tell where they moved.
std::vector<Offset> seek_targets(const SeekTable& table, const Stream& s, Offset file_size)
{
    std::vector<Offset> targets;
    for (const SeekPoint& p : table.points) {
        targets.push_back(s.audio_start + std::min<Offset>(p.offset, file_size));
    }
    std::sort(targets.begin(), targets.end());
    return targets;
}

// RFC 9639 §8.5: the points on the cut's frames from its first sample to before END, as the
// cut numbers samples and places frames; placeholders dropped. Empty when none remains.
std::string rebased_points(const SeekTable& t, const Kept& kept, const CutFrames& frames)
{
    std::string out;
    for (const SeekPoint& p : t.points) {
        if (p.sample == kPlaceholderPoint || p.sample < kept.first || p.sample >= kept.end ||
            p.offset > kept.file_size - kept.audio_start) {
            continue;
        }
        const std::optional<Offset> at = frames.moved(kept.audio_start + p.offset);
        if (!at) {
            continue;  // not where a frame of the cut starts: after a clip's last frame, say
        }
        Byte point[kSeekPointBytes];
        put_be(point, 8, p.sample - kept.first);
        put_be(point + 8, 8, *at);
        put_be(point + 16, 2, p.samples);
        out.append(reinterpret_cast<const char*>(point), sizeof point);
    }
    return out;
}

// STREAMINFO (§8.2): the cut's total samples. The MD5 covers the whole stream's audio, so it
// survives only a cut that is the whole stream (zero means unknown). Renumbered frames may have
// shorter headers (a number under 128 codes in one byte, §9.1.5): the minimum frame size is
// then unknown (0), else a short last frame falls under it and GStreamer's flacparse drops it.
std::string cut_stream_info(const Stream& s, const Clip& clip, bool renumbered)
{
    Byte info[kStreamInfoBytes];
    std::copy_n(s.stream_info(), kStreamInfoBytes, info);
    if (renumbered) {
        put_be(info + 4, 3, 0);
    }
    info[13] = static_cast<Byte>((info[13] & 0xF0) | ((clip.total >> 32) & 0x0F));
    put_be32(info + 14, static_cast<std::uint32_t>(clip.total));
    if (clip.skipped != 0 || !clip.to_the_end) {
        std::fill(info + 18, info + kStreamInfoBytes, Byte{0});
    }
    return std::string(reinterpret_cast<const char*>(info), kStreamInfoBytes);
}

// Kept: tags and pictures (players show them), the first SEEKTABLE rebased. Dropped: PADDING,
// CUESHEET and APPLICATION data, whose positions or purpose a cut no longer matches, and any
// other SEEKTABLE.
std::vector<Part> kept_blocks(const Stream& s, const SeekTable& table, const Kept& kept, const CutFrames& frames)
{
    std::vector<Part> parts;
    for (const Block& b : s.blocks) {
        if (b.type == kVorbisComment || b.type == kPicture) {
            parts.push_back({&b, {}});
        }
        else if (&b == table.block) {
            std::string points = rebased_points(table, kept, frames);
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

Cut write_cut(ByteSource& src, const Stream& s, const FrameIndex& index, const Clip& clip)
{
    const SeekTable table = first_seek_table(src, s);
    CutFrames frames = cut_frames(index, clip, src.size(), seek_targets(table, s, src.size()));
    const std::uint64_t origin = index.first_sample(index.frames.front());
    Kept kept;
    kept.first = origin + clip.skipped;
    kept.end = clip.to_the_end ? std::numeric_limits<std::uint64_t>::max() : origin + clip.end;
    kept.audio_start = s.audio_start;
    kept.file_size = src.size();
    Cut cut;
    emit_metadata(cut.rep.extents, cut_stream_info(s, clip, frames.renumbered), kept_blocks(s, table, kept, frames));
    emit_frames(cut.rep.extents, frames.extents);
    cut.rep.length = extents_length(cut.rep.extents);
    cut.status = Cut::Status::Ok;
    cut.start = samples_to_micros(clip.skipped, s.info.rate);
    cut.end = clip.to_the_end ? Span::kToTheEnd : samples_to_micros(clip.end, s.info.rate);
    cut.duration = samples_to_micros(clip.total, s.info.rate);
    return cut;
}

}  // namespace flac
}  // namespace audio_stream
