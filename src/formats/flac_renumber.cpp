#include "flac_renumber.h"

#include <algorithm>
#include <cstring>

#include "flac_frame.h"

namespace audio_stream {
namespace flac {

namespace {

// Every frame after the cut costs two extents (~100 bytes): this bounds a cut's memory. At 4096
// samples a frame, 2^18 frames are about 6.8 hours of 44.1 kHz audio.
constexpr std::size_t kMaxCutFrames = std::size_t{1} << 18;

}  // namespace

std::optional<Offset> Renumberer::moved(Offset file_offset) const
{
    const auto it = std::lower_bound(moves_.begin(), moves_.end(), std::make_pair(file_offset, Offset{0}));
    if (it == moves_.end() || it->first != file_offset) {
        return std::nullopt;
    }
    return it->second;
}

std::string Renumberer::run(Offset first)
{
    FrameHeader h;
    if (!start_frame(first, h)) {
        return detail("first FLAC frame unreadable");
    }
    base_ = h.number;
    variable_ = h.variable;
    if (!begin(first, h)) {
        return detail("FLAC frame number out of range");
    }
    // Frames end where the next one's header starts: a header that parses, carries exactly
    // the next number and closes a CRC-16 of zero over the frame. A sync code inside audio
    // data fails one of these (RFC 9639 §9.1: the header itself may not be unique).
    const Offset max_frame = info_.max_frame != 0 ? Offset{info_.max_frame} * 2 + 64 : kMaxFrameBytes;
    std::optional<Offset> fallback;
    for (;;) {
        std::size_t n;
        const Byte* p = in_.at(pos_, 1, n);
        if (!p) {
            return detail("FLAC frames unreadable");
        }
        if (n != 0 && pos_ - start_ > max_frame && !fallback) {
            // No frame is this long: a damaged tail. Copy it unchanged after the last frame.
            break;
        }
        if (fallback && (n == 0 || pos_ - start_ > max_frame)) {
            // A damaged frame: its CRC-16 never came out zero, but the next frame's header was
            // there. Keep it (as damaged as it was) and go on from that header.
            const Offset next = *fallback;
            fallback.reset();
            if (!finish(next) || !start_frame(next, h) || !begin(next, h)) {
                return detail("FLAC frames unreadable");
            }
            continue;
        }
        if (n == 0) {
            break;
        }
        const auto* q = static_cast<const Byte*>(std::memchr(p, 0xFF, n));
        const std::size_t skip = q ? static_cast<std::size_t>(q - p) : n;
        crc_ = flac::crc16(p, skip, crc_);
        pos_ += skip;
        if (!q) {
            continue;
        }
        if (pos_ >= start_ + header_.size() + info_.channels + 2) {
            FrameHeader next;
            if (header(pos_, next) && next.variable == variable_ && next.number == following()) {
                if (crc_ == 0) {
                    if (!finish(pos_) || !begin(pos_, next)) {
                        return detail("FLAC frame unreadable or out of range");
                    }
                    continue;
                }
                if (!fallback) {
                    fallback = pos_;
                }
            }
        }
        p = in_.at(pos_, 1, n);
        if (!p || n == 0) {
            return detail("FLAC frames unreadable");
        }
        crc_ = flac::crc16(p, 1, crc_);
        ++pos_;
    }
    // The last frame: up to where its CRC-16 last came out zero (trailing bytes, an ID3v1 tag
    // say, are copied unchanged), or the rest of the file if it never did (a damaged frame).
    const std::optional<Offset> end = last_end(max_frame);
    if (!end && in_.exhausted()) {
        return detail("FLAC frames unreadable");
    }
    const Offset last = end.value_or(in_.size());
    if (last < start_ + header_.size() + 2) {
        // Too short to hold a CRC-16: a truncated file. The frame stays as truncated as it was.
        append_memory(out_, std::move(pending_));
        append_file(out_, start_ + header_.size(), in_.size() - start_ - header_.size());
        return {};
    }
    if (!finish(last)) {
        return detail("FLAC frames unreadable");
    }
    append_memory(out_, std::move(pending_));
    append_file(out_, last, in_.size() - last);
    return {};
}

std::string Renumberer::detail(const char* what) const
{
    if (in_.exhausted()) {
        return "FLAC cut needs more than " + std::to_string(kMaxWalkBytes >> 20) + " MiB of frames renumbered";
    }
    if (frames_ > kMaxCutFrames) {
        return "FLAC cut needs more than " + std::to_string(kMaxCutFrames) + " frames renumbered";
    }
    return what;
}

bool Renumberer::header(Offset off, FrameHeader& h)
{
    std::size_t n;
    const Byte* p = in_.at(off, kMaxHeaderBytes, n);
    if (!p || n < 2 || (p[1] & 0xFE) != 0xF8) {
        return false;
    }
    Byte b[kMaxHeaderBytes] = {};
    std::copy_n(p, std::min(n, sizeof b), b);
    const auto parsed = parse_header(b, std::min(n, sizeof b), info_);
    if (!parsed) {
        return false;
    }
    h = *parsed;
    std::copy_n(b, h.length, next_header_);
    return true;
}

bool Renumberer::begin(Offset off, const FrameHeader& h)
{
    if (h.number < base_ || ++frames_ > kMaxCutFrames) {
        return false;
    }
    start_ = off;
    number_ = h.number;
    block_ = h.block;
    header_.assign(reinterpret_cast<const char*>(next_header_), h.length);
    renumbered_ = flac::renumbered_header(next_header_, h.length, h.number_length, h.number - base_);
    if (renumbered_.empty()) {
        return false;
    }
    crc_ = flac::crc16(next_header_, h.length);
    pos_ = off + h.length;
    while (next_track_ < tracked_.size() && tracked_[next_track_] <= off) {
        if (tracked_[next_track_] == off) {
            moves_.emplace_back(off, written_);
        }
        ++next_track_;
    }
    written_ += renumbered_.size();
    pending_ += renumbered_;
    return true;
}

bool Renumberer::finish(Offset end)
{
    const Offset body_start = start_ + header_.size();
    if (end < body_start + 2) {
        return false;
    }
    std::size_t n;
    const Byte* p = in_.at(end - 2, 2, n);
    if (!p || n < 2) {
        return false;
    }
    const std::uint16_t old_crc = be16(p);
    const Offset body = end - 2 - body_start;
    const std::uint16_t crc =
        flac::renumbered_crc16(old_crc, reinterpret_cast<const Byte*>(header_.data()), header_.size(),
                               reinterpret_cast<const Byte*>(renumbered_.data()), renumbered_.size(), body);
    append_memory(out_, std::move(pending_));
    append_file(out_, body_start, body);
    pending_.assign({static_cast<char>(crc >> 8), static_cast<char>(crc & 0xFF)});
    written_ += body + 2;
    return true;
}

std::optional<Offset> Renumberer::last_end(Offset longest)
{
    if (crc_ == 0 && pos_ == in_.size()) {
        return pos_;
    }
    std::optional<Offset> end;
    std::uint16_t crc = 0;
    const Offset limit = std::min(in_.size(), start_ + longest);
    for (Offset x = start_; x < limit;) {
        std::size_t n;
        const Byte* p = in_.at(x, 1, n);
        if (!p) {
            return std::nullopt;
        }
        n = static_cast<std::size_t>(std::min<Offset>(n, limit - x));
        for (std::size_t i = 0; i < n; ++i) {
            crc = flac::crc16(p + i, 1, crc);
            if (crc == 0 && x + i + 1 >= start_ + header_.size() + 2) {
                end = x + i + 1;
            }
        }
        x += n;
    }
    return end;
}

}  // namespace flac
}  // namespace audio_stream
