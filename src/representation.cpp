#include "representation.h"

#include <algorithm>

namespace audio_stream {

Offset extent_length(const Extent& e)
{
    if (const auto* f = std::get_if<FileExtent>(&e)) {
        return f->length;
    }
    return std::get<MemoryBlock>(e).bytes.size();
}

Offset extents_length(const Extents& extents)
{
    Offset total = 0;
    for (const auto& e : extents) {
        total += extent_length(e);
    }
    return total;
}

void append_file(Extents& out, Offset offset, Offset length)
{
    if (length == 0) {
        return;
    }
    if (!out.empty()) {
        if (auto* f = std::get_if<FileExtent>(&out.back()); f && f->offset + f->length == offset) {
            f->length += length;
            return;
        }
    }
    out.push_back(FileExtent{offset, length});
}

void append_memory(Extents& out, std::string bytes)
{
    if (bytes.empty()) {
        return;
    }
    if (!out.empty()) {
        if (auto* m = std::get_if<MemoryBlock>(&out.back())) {
            m->bytes += bytes;
            return;
        }
    }
    out.push_back(MemoryBlock{std::move(bytes)});
}

std::string suffixed_etag(std::string_view etag, std::string_view suffix)
{
    if (suffix.empty() || etag.size() < 2 || etag.back() != '"') {
        return std::string(etag);
    }
    std::string out(etag.substr(0, etag.size() - 1));
    out.append(suffix).push_back('"');
    return out;
}

Offset file_bytes(const Extents& body)
{
    Offset n = 0;
    for (const auto& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            n += f->length;
        }
    }
    return n;
}

Offset file_end(const Extents& body)
{
    Offset end = 0;
    for (const auto& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            end = std::max(end, f->offset + f->length);
        }
    }
    return end;
}

const FileExtent* single_file_range(const Extents& body)
{
    return body.size() == 1 ? std::get_if<FileExtent>(&body.front()) : nullptr;
}

Representation whole_file(Offset size)
{
    Representation rep;
    rep.length = size;
    if (size > 0) {
        rep.extents.push_back(FileExtent{0, size});
    }
    return rep;
}

Extents slice_extents(const Extents& extents, Offset first, Offset length)
{
    return slice_extents_from(extents, 0, 0, first, length);
}

Extents slice_extents_from(const Extents& extents, std::size_t from, Offset pos, Offset first, Offset length)
{
    Extents out;
    for (std::size_t i = from; i < extents.size() && length > 0; ++i) {
        const Extent& e = extents[i];
        const Offset len = extent_length(e);
        if (first >= pos + len) {
            pos += len;
            continue;
        }
        const Offset skip = first - pos;
        const Offset take = std::min(len - skip, length);
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            out.push_back(FileExtent{f->offset + skip, take});
        }
        else {
            out.push_back(MemoryBlock{std::get<MemoryBlock>(e).bytes.substr(skip, take)});
        }
        first += take;
        length -= take;
        pos += len;
    }
    return out;
}

ExtentStarts::ExtentStarts(const Extents& extents)
{
    ends_.reserve(extents.size());
    Offset end = 0;
    for (const auto& e : extents) {
        end += extent_length(e);
        ends_.push_back(end);
    }
}

Extents ExtentStarts::slice(const Extents& extents, Offset first, Offset length) const
{
    // The first extent that ends after `first`: the ones before it hold none of the slice.
    const std::size_t from = static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), first) - ends_.begin());
    return slice_extents_from(extents, from, from == 0 ? 0 : ends_[from - 1], first, length);
}

Extents next_slice(const Extents& body, SliceCursor& at, std::size_t max_extents, Offset max_bytes)
{
    Extents out;
    Offset bytes = 0;
    while (at.index < body.size() && out.size() < max_extents && (max_bytes == 0 || bytes < max_bytes)) {
        const Extent& e = body[at.index];
        const Offset left = extent_length(e) - at.into;
        const Offset take = max_bytes == 0 ? left : std::min(left, max_bytes - bytes);
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            if (take > 0) {
                out.push_back(FileExtent{f->offset + at.into, take});
            }
        }
        else if (take > 0) {
            out.push_back(MemoryBlock{std::get<MemoryBlock>(e).bytes.substr(at.into, take)});
        }
        bytes += take;
        at.into += take;
        if (at.into == extent_length(e)) {
            ++at.index;
            at.into = 0;
        }
    }
    return out;
}

}  // namespace audio_stream
