// Where an MP3 stream's audio frames lie, by number: by arithmetic for a CBR stream whose Info
// frame counts them (a resync near the estimated offset, then a few frames walked), else from
// the stream's seek index. Both ends of a clip are found the same way, without a second pass.
// The locate layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_FRAME_MAP_H
#define AUDIO_STREAM_FORMATS_MP3_FRAME_MAP_H

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "index.h"
#include "stream.h"

namespace audio_stream {
namespace mp3 {

// The stream's seek index, from `indexes` (built there once per file, within its own bounds:
// kMaxIndexFrames, kMaxIndexBytes). Refuses (Malformed) a stream that could not be indexed or
// has no audio frames.
std::shared_ptr<const FrameIndex> stream_index(Reader& r, const Stream& s, IndexSource& indexes);

// Consecutive frames: frames[i] is frame number first + i.
struct FrameRun {
    std::uint64_t first = 0;
    std::vector<FrameInfo> frames;
};

class FrameMap {
public:
    virtual ~FrameMap() = default;
    virtual std::uint64_t count() const = 0;
    // The end of the audio: of the last whole frame (CBR: of the audio region).
    virtual Offset audio_end() const = 0;
    // Frames from..to (to < count()), or from a later frame on where the ones before cannot be
    // told (junk); nullopt when frame `to` cannot be found this way.
    virtual std::optional<FrameRun> run(std::uint64_t from, std::uint64_t to) = 0;
    // Whether frames first..last all have one bitrate.
    virtual bool constant(std::uint64_t first, std::uint64_t last) const = 0;
    // Where frame i starts (CBR: the estimate).
    virtual Offset offset(std::uint64_t i) const = 0;
};

// A CBR stream: frame offsets grow linearly with the number (encoders spread the padding bytes
// evenly), so frame i lies near audio + i * bytes / frames.
class CbrFrames final : public FrameMap {
public:
    CbrFrames(Reader& r, const Stream& s) : r_(r), s_(s) {}
    std::uint64_t count() const override { return s_.tag.frames; }
    Offset audio_end() const override { return s_.tags.limit; }
    std::optional<FrameRun> run(std::uint64_t from, std::uint64_t to) override;
    bool constant(std::uint64_t, std::uint64_t) const override { return true; }
    Offset offset(std::uint64_t i) const override;

private:
    Reader& r_;
    const Stream& s_;
};

// Any stream, through its index.
class IndexedFrames final : public FrameMap {
public:
    explicit IndexedFrames(const FrameIndex& x) : x_(x) {}
    std::uint64_t count() const override { return x_.frames.size(); }
    Offset audio_end() const override { return x_.audio_end; }
    std::optional<FrameRun> run(std::uint64_t from, std::uint64_t to) override;
    bool constant(std::uint64_t first, std::uint64_t last) const override;
    Offset offset(std::uint64_t i) const override { return x_.at(static_cast<std::size_t>(i)).offset; }

private:
    const FrameIndex& x_;
};

}  // namespace mp3
}  // namespace audio_stream

#endif
