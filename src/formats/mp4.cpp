#include "mp4.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "toolbox.h"

namespace audio_stream {

namespace {

constexpr int kMaxTopBoxes = 1024;
constexpr int kMaxMoovChildren = 1024;

struct Box {
    Offset offset;   // of the header
    Offset payload;  // first byte after the header
    Offset end;      // one past the box
    char type[4];
};

// The box whose header starts at `at`, inside [at, limit); nullopt if it does not fit.
std::optional<Box> box_at(ByteSource& src, Offset at, Offset limit)
{
    Byte h[16];
    if (at > limit || limit - at < 8 || !src.read(at, h, 8)) {
        return std::nullopt;
    }
    Box b{at, at + 8, 0, {}};
    std::memcpy(b.type, h + 4, 4);
    const std::uint64_t size32 = be32(h);
    std::uint64_t size = size32;
    if (size32 == 1) {  // a 64-bit size follows the type
        if (limit - at < 16 || !src.read(at + 8, h + 8, 8)) {
            return std::nullopt;
        }
        size = be64(h + 8);
        b.payload = at + 16;
    }
    else if (size32 == 0) {  // to the end of the enclosing space
        size = limit - at;
    }
    if (size < b.payload - at || size > limit - at) {
        return std::nullopt;
    }
    b.end = at + size;
    return b;
}

bool is(const Box& b, const char* type) { return std::memcmp(b.type, type, 4) == 0; }

// mvhd (ISO/IEC 14496-12 §8.2.2): version 0 has 32-bit times, version 1 64-bit ones.
Micros movie_duration(ByteSource& src, const Box& mvhd)
{
    Byte p[32];
    const Offset n = mvhd.end - mvhd.payload;
    if (n < 20 || !src.read(mvhd.payload, p, static_cast<std::size_t>(std::min<Offset>(n, sizeof p)))) {
        return 0;
    }
    const bool v1 = p[0] == 1;
    if (v1 && n < 32) {
        return 0;
    }
    const std::uint32_t timescale = be32(p + (v1 ? 20 : 12));
    const std::uint64_t duration = v1 ? be64(p + 24) : be32(p + 16);
    const bool unknown = v1 ? duration == ~std::uint64_t{0} : duration == 0xFFFFFFFFu;
    if (timescale == 0 || duration == 0 || unknown) {
        return 0;
    }
    return samples_to_micros(duration, timescale);
}

}  // namespace

AudioLayout layout_mp4(ByteSource& src)
{
    const Offset size = src.size();
    AudioLayout l{size, 0, size, 0};
    std::optional<Box> mdat;
    Micros duration = 0;
    Offset at = 0;
    for (int i = 0; i < kMaxTopBoxes && at < size; ++i) {
        const auto b = box_at(src, at, size);
        if (!b) {
            return l;  // not boxes to the end: not a file to trust
        }
        if (is(*b, "mdat") && (!mdat || b->end - b->payload > mdat->end - mdat->payload)) {
            mdat = b;
        }
        if (is(*b, "moov")) {
            Offset c = b->payload;
            for (int j = 0; j < kMaxMoovChildren && c < b->end; ++j) {
                const auto child = box_at(src, c, b->end);
                if (!child) {
                    break;
                }
                if (is(*child, "mvhd")) {
                    duration = movie_duration(src, *child);
                    break;
                }
                c = child->end;
            }
        }
        at = b->end;
    }
    if (mdat && duration > 0) {
        l.audio_start = mdat->payload;
        l.audio_end = mdat->end;
        l.duration = duration;
    }
    return l;
}

}  // namespace audio_stream
