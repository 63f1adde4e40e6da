#include "write.h"

#include <algorithm>
#include <string>

namespace audio_stream::wav {

namespace {

constexpr std::uint32_t kMaxRiffSize = 0xFFFFFFFF;

// A RIFF size field: sizes over 32 bits are written as 0xFFFFFFFF, which players read as "to
// the end of the stream".
void append_size(std::string& out, std::uint64_t v)
{
    Byte b[4];
    put_le32(b, static_cast<std::uint32_t>(std::min<std::uint64_t>(v, kMaxRiffSize)));
    out.append(reinterpret_cast<const char*>(b), sizeof b);
}

// RIFF, the fmt chunk as it was, the header of a data chunk of `data` bytes.
std::string cut_header(const std::string& fmt, std::uint64_t data)
{
    const std::uint64_t fmt_padded = fmt.size() + (fmt.size() & 1u);
    std::string header;
    header.reserve(20 + fmt_padded + 8);
    header.append("RIFF");
    // RIFF size: "WAVE", the fmt chunk, the data chunk with its pad.
    append_size(header, 4 + 8 + fmt_padded + 8 + data + (data & 1u));
    header.append("WAVE");
    header.append("fmt ");
    append_size(header, fmt.size());
    header.append(fmt);
    if (fmt.size() & 1u) {
        header.push_back('\0');
    }
    header.append("data");
    append_size(header, data);
    return header;
}

}  // namespace

Cut write_cut(const Stream& s, const Frames& f)
{
    const std::uint64_t bytes = (f.end - f.first) * s.block_align;
    Cut cut;
    cut.status = Cut::Status::Ok;
    cut.rep.extents.push_back(MemoryBlock{cut_header(s.fmt, bytes)});
    cut.rep.extents.push_back(FileExtent{s.data_offset + f.first * s.block_align, bytes});
    if (bytes & 1u) {
        cut.rep.extents.push_back(MemoryBlock{std::string(1, '\0')});  // the data chunk's pad byte
    }
    cut.rep.length = extents_length(cut.rep.extents);
    cut.start = samples_to_micros(f.first, s.sample_rate);
    cut.end = f.to_the_end ? Span::kToTheEnd : samples_to_micros(f.end, s.sample_rate);
    cut.duration = samples_to_micros(f.end - f.first, s.sample_rate);
    return cut;
}

}  // namespace audio_stream::wav
