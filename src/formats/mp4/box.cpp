#include "box.h"

#include <cstring>
#include <utility>

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

std::uint64_t Reader::be_at(std::size_t at, std::size_t n) const
{
    if (at > bytes_.size() || n > bytes_.size() - at) {
        refuse_malformed(std::string(what_) + " is too short");
    }
    return be(reinterpret_cast<const Byte*>(bytes_.data()) + at, n);
}

std::string& Writer::memory()
{
    if (out_.empty() || !std::holds_alternative<MemoryBlock>(out_.back())) {
        out_.emplace_back(MemoryBlock{});
    }
    return std::get<MemoryBlock>(out_.back()).bytes;
}

Writer::Mark Writer::open(const char* type)
{
    std::string& m = memory();
    const Mark mark{out_.size() - 1, m.size(), length_};
    m.append(4, '\0');
    m.append(type, 4);
    length_ += 8;
    return mark;
}

void Writer::close(const Mark& m)
{
    const Offset size = length_ - m.start;
    if (size > 0xFFFFFFFFu) {
        refuse_malformed("a rewritten box passes 4 GiB");
    }
    patch(Slot{m.extent, m.at}, size, 4);
}

Writer::Slot Writer::put(std::uint64_t v, std::size_t n)
{
    std::string& m = memory();
    const Slot s{out_.size() - 1, m.size()};
    m.append(n, '\0');
    put_be(reinterpret_cast<Byte*>(m.data()) + s.at, n, v);
    length_ += n;
    return s;
}

void Writer::bytes(const std::string& b)
{
    append_memory(out_, b);
    length_ += b.size();
}

void Writer::file(Offset offset, Offset length)
{
    append_file(out_, offset, length);
    length_ += length;
}

void Writer::patch(const Slot& s, std::uint64_t v, std::size_t n)
{
    std::string& m = std::get<MemoryBlock>(out_[s.extent]).bytes;
    put_be(reinterpret_cast<Byte*>(m.data()) + s.at, n, v);
}

void copy_bytes(ByteSource& src, Writer& w, Offset at, Offset length)
{
    if (length >= kCopyByExtent) {
        w.file(at, length);
        return;
    }
    std::string bytes(static_cast<std::size_t>(length), '\0');
    if (!src.read(at, bytes.data(), bytes.size())) {
        refuse_malformed("read error in the moov");
    }
    w.bytes(bytes);
}

void copy_box(BoxWalk& walk, Writer& w, const Box& b) { copy_bytes(walk.src(), w, b.offset, b.size()); }

}  // namespace audio_stream::mp4
