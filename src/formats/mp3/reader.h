// The MP3 cutter's byte reader and the arithmetic helper its files share: the bottom of the read
// layer (frame.h, id3.h, xing.h, index.h, stream.h read through it). Internal to the cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_READER_H
#define AUDIO_STREAM_FORMATS_MP3_READER_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../toolbox.h"

namespace audio_stream {
namespace mp3 {

inline constexpr std::size_t kWindow = 64 * 1024;  // bytes read from the source at a time

// a * b / c without overflow (c > 0).
inline std::uint64_t mul_div(std::uint64_t a, std::uint64_t b, std::uint64_t c)
{
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(a) * b / c);
}

// A window of the file, read kWindow bytes at a time: the walk over frame headers costs one
// read per 64 KiB, and memory stays constant whatever the file.
class Reader {
public:
    explicit Reader(ByteSource& src) : src_(src), size_(src.size()), buf_(kWindow) {}
    Offset size() const { return size_; }
    ByteSource& source() { return src_; }
    Offset window_end() const { return base_ + len_; }
    bool failed() const { return failed_; }

    // The n bytes at pos (n <= kWindow), or nullptr when they are not all in the file.
    const unsigned char* at(Offset pos, std::size_t n)
    {
        if (pos >= base_ && pos - base_ <= len_ && n <= len_ - (pos - base_)) {
            return buf_.data() + (pos - base_);
        }
        if (pos > size_ || n > size_ - pos || n > buf_.size()) {
            return nullptr;
        }
        const auto len = static_cast<std::size_t>(std::min<Offset>(buf_.size(), size_ - pos));
        if (!src_.read(pos, buf_.data(), len)) {
            failed_ = true;
            len_ = 0;
            return nullptr;
        }
        base_ = pos;
        len_ = len;
        return buf_.data();
    }

private:
    ByteSource& src_;
    Offset size_;
    std::vector<unsigned char> buf_;
    Offset base_ = 0;
    std::size_t len_ = 0;
    bool failed_ = false;
};

}  // namespace mp3
}  // namespace audio_stream

#endif
