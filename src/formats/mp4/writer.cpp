#include "writer.h"

#include <utility>

namespace audio_stream::mp4 {

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

bool Writer::may_copy(Offset length)
{
    if (length >= kCopyByExtent || copied_ + length > kMaxCopiedBytes) {
        return false;
    }
    copied_ += length;
    return true;
}

void copy_bytes(ByteSource& src, Writer& w, Offset at, Offset length)
{
    if (!w.may_copy(length)) {
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
