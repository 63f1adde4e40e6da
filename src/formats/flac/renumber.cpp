#include "renumber.h"

#include <algorithm>
#include <string>

#include "frame.h"

namespace audio_stream {
namespace flac {

namespace {

std::string crc_bytes(std::uint16_t crc)
{
    return {static_cast<char>(crc >> 8), static_cast<char>(crc & 0xFF)};
}

// Matches the kept frames, in file order, against the sorted tracked offsets.
class Tracker {
public:
    Tracker(const std::vector<Offset>& tracked, Offset from)
        : next_(std::lower_bound(tracked.begin(), tracked.end(), from)), end_(tracked.end())
    {
    }

    // The frame at file offset `file` is at `cut` in the cut's audio.
    void frame(Offset file, Offset cut)
    {
        for (; next_ != end_ && *next_ <= file; ++next_) {
            if (*next_ == file) {
                moves.emplace_back(file, cut);
            }
        }
    }

    std::vector<std::pair<Offset, Offset>> moves;  // as CutFrames::moves

private:
    std::vector<Offset>::const_iterator next_;
    std::vector<Offset>::const_iterator end_;
};

// A cut at the stream's frame 0 keeps its frames as they are: one extent.
CutFrames copied(const FrameIndex& index, const Clip& clip, Offset file_size, const std::vector<Offset>& tracked)
{
    CutFrames out;
    const Offset base = index.frames[clip.first].offset;
    Tracker track(tracked, base);
    for (std::size_t i = clip.first; i <= clip.last; ++i) {
        track.frame(index.frames[i].offset, index.frames[i].offset - base);
    }
    const Offset end = clip.to_the_end ? file_size : index.end_of(clip.last);
    append_file(out.extents, base, end - base);
    out.moves = std::move(track.moves);
    return out;
}

// RFC 9639 §9.1.5: frame numbers (or, with variable blocks, sample numbers) from 0, so that
// the cut plays from 0:00; §9.1.8 and §9.3: the CRCs over each rewritten header follow.
CutFrames renumbered(const FrameIndex& index, const Clip& clip, Offset file_size, const std::vector<Offset>& tracked)
{
    if (clip.last - clip.first >= kMaxCutFrames) {
        refuse_over_budget("a FLAC cut of more than " + std::to_string(kMaxCutFrames) + " frames renumbered (the cap)");
    }
    CutFrames out;
    out.renumbered = true;
    const std::uint64_t base = index.frames[clip.first].number;
    Tracker track(tracked, index.frames[clip.first].offset);
    Offset written = 0;  // bytes of audio in out
    for (std::size_t i = clip.first; i <= clip.last; ++i) {
        const IndexedFrame& f = index.frames[i];
        const std::string header = renumbered_header(f.header, f.length, f.number_length, f.number - base);
        if (header.empty()) {
            refuse_malformed("FLAC frame number out of range");
        }
        track.frame(f.offset, written);
        append_memory(out.extents, header);  // joins the CRC-16 of the frame before
        const Offset body_start = f.offset + f.length;
        // A truncated last frame has no CRC-16 to follow: its body goes to the end of the file.
        const bool truncated = i + 1 == index.frames.size() && index.truncated_last;
        const Offset body = truncated ? file_size - body_start : index.end_of(i) - 2 - body_start;
        append_file(out.extents, body_start, body);
        written += header.size() + body;
        if (!truncated) {
            const auto* h = reinterpret_cast<const Byte*>(header.data());
            append_memory(out.extents, crc_bytes(renumbered_crc16(f.crc, f.header, f.length, h, header.size(), body)));
            written += 2;
        }
    }
    if (clip.to_the_end && !index.truncated_last) {
        append_file(out.extents, index.last_end, file_size - index.last_end);  // trailing bytes
    }
    out.moves = std::move(track.moves);
    return out;
}

}  // namespace

std::optional<Offset> CutFrames::moved(Offset file_offset) const
{
    const auto it = std::lower_bound(moves.begin(), moves.end(), std::make_pair(file_offset, Offset{0}));
    return it != moves.end() && it->first == file_offset ? std::optional<Offset>(it->second) : std::nullopt;
}

CutFrames cut_frames(const FrameIndex& index, const Clip& clip, Offset file_size, const std::vector<Offset>& tracked)
{
    if (index.frames[clip.first].number == 0) {
        return copied(index, clip, file_size, tracked);
    }
    return renumbered(index, clip, file_size, tracked);
}

}  // namespace flac
}  // namespace audio_stream
