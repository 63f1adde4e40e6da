#include "box.h"

#include <cstring>

namespace audio_stream::mp4 {

std::optional<Box> box_at(ByteSource& src, Offset at, Offset limit)
{
    Byte h[16];
    if (at > limit || limit - at < 8 || !src.read(at, h, 8)) {
        return std::nullopt;
    }
    Box b;
    b.offset = at;
    b.payload = at + 8;
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
        b.to_end = true;
    }
    if (size < b.payload - at || size > limit - at) {
        return std::nullopt;
    }
    b.end = at + size;
    return b;
}

bool is(const Box& b, const char* type) { return std::memcmp(b.type, type, 4) == 0; }

std::vector<Box> BoxWalk::children(Offset from, Offset end)
{
    std::vector<Box> out;
    for (Offset at = from; at < end;) {
        if (++walked_ > kMaxBoxes) {
            refuse_malformed("more than 65536 boxes in the moov");
        }
        const auto b = box_at(src_, at, end);
        if (!b || b->to_end) {
            refuse_malformed("a box runs past its parent");
        }
        out.push_back(*b);
        at = b->end;
    }
    return out;
}

const Box* BoxWalk::find(const std::vector<Box>& boxes, const char* type)
{
    for (const Box& b : boxes) {
        if (is(b, type)) {
            return &b;
        }
    }
    return nullptr;
}

std::string BoxWalk::payload(const Box& b)
{
    std::string p(static_cast<std::size_t>(b.payload_size()), '\0');
    if (!src_.read(b.payload, p.data(), p.size())) {
        refuse_malformed("read error in the moov");
    }
    return p;
}

std::string small_payload(BoxWalk& walk, const Box& b, const char* what)
{
    if (b.payload_size() > 4096) {
        refuse_malformed(std::string(what) + " box is too large");
    }
    return walk.payload(b);
}

std::uint64_t Reader::be_at(std::size_t at, std::size_t n) const
{
    if (at > bytes_.size() || n > bytes_.size() - at) {
        refuse_malformed(std::string(what_) + " is too short");
    }
    return be(reinterpret_cast<const Byte*>(bytes_.data()) + at, n);
}

}  // namespace audio_stream::mp4
