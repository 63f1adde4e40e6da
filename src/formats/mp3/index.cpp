// The MP3 seek index: made by one walk over the stream, saved by a child to
// AudioStreamSeekIndexDir as its payload and loaded by another, checked before use.
#include "index.h"

#include "../payload.h"

namespace audio_stream {
namespace mp3 {

namespace {

constexpr std::size_t kRecord = 4 + 2 + 2;

}  // namespace

FrameIndex build_index(Reader& r, Offset audio, Offset end, std::uint32_t ref)
{
    FrameIndex x;
    x.base = audio;
    FrameScanner scan(r, audio, end, ref);
    while (const auto f = scan.next()) {
        if (x.frames.size() == kMaxIndexFrames || f->info.offset - audio > 0xFFFFFFFFu) {
            x.error = "MP3 stream too long to index (" + std::to_string(kMaxIndexFrames) + " frames, 4 GiB)";
            x.audio_end = scan.last_end();
            x.frames = {};
            return x;
        }
        x.side_info = static_cast<std::uint8_t>(f->header.side_info);
        const auto packed = static_cast<std::uint16_t>(f->header.size | (f->header.crc ? 1u << 11 : 0) |
                                                       f->header.bitrate_index << 12);
        x.frames.push_back({static_cast<std::uint32_t>(f->info.offset - audio), packed, f->info.main_data_begin});
    }
    x.audio_end = scan.last_end();
    if (r.failed()) {
        x.error = "read error";
        x.frames = {};
    }
    x.frames.shrink_to_fit();
    return x;
}

std::string FrameIndex::payload() const
{
    using audio_stream::payload::put;
    std::string out;
    out.reserve(32 + error.size() + frames.size() * kRecord);
    put(out, base, 8);
    put(out, audio_end, 8);
    put(out, side_info, 1);
    put(out, error.size(), 4);
    out += error;
    put(out, frames.size(), 8);
    for (const Entry& e : frames) {
        put(out, e.offset, 4);
        put(out, e.packed, 2);
        put(out, e.main_data_begin, 2);
    }
    return out;
}

std::shared_ptr<const FrameIndex> FrameIndex::parse(std::string_view bytes, Offset file_size)
{
    auto x = std::make_shared<FrameIndex>();
    audio_stream::payload::Reader in(bytes);
    std::uint64_t base, audio_end, side_info, error_length, count;
    std::string_view error;
    if (!in.take(8, base) || !in.take(8, audio_end) || !in.take(1, side_info) || !in.take(4, error_length) ||
        !in.take_bytes(error_length, error) || !in.take(8, count) || count > kMaxIndexFrames ||
        in.left() != count * kRecord || base > file_size || audio_end > file_size || audio_end < base) {
        return nullptr;
    }
    x->base = base;
    x->audio_end = audio_end;
    x->side_info = static_cast<std::uint8_t>(side_info);
    x->error = std::string(error);
    x->frames.resize(count);
    Offset next = base;  // frames do not overlap
    for (Entry& e : x->frames) {  // in.left() was checked: every take succeeds
        std::uint64_t offset, packed, mdb;
        in.take(4, offset), in.take(2, packed), in.take(2, mdb);
        e = Entry{static_cast<std::uint32_t>(offset), static_cast<std::uint16_t>(packed),
                  static_cast<std::uint16_t>(mdb)};
        const unsigned size = e.packed & 0x7FF;
        const unsigned bitrate = e.packed >> 12;
        const unsigned crc = (e.packed >> 11 & 1) ? 2 : 0;
        if (base + e.offset < next || size < 4 + crc + side_info + 1 || bitrate == 0 || bitrate == 15 ||
            base + e.offset + size > audio_end) {
            return nullptr;
        }
        next = base + e.offset + size;
    }
    if (x->error.empty() == x->frames.empty()) {
        return nullptr;
    }
    return x;
}

}  // namespace mp3
}  // namespace audio_stream
