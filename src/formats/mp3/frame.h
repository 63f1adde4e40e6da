// MPEG audio Layer III frames: the header (ISO/IEC 11172-3 §2.4.2.3; ISO/IEC 13818-3 for the
// low sampling frequencies; MPEG-2.5), what a frame carries of the bit reservoir, frames of the
// same stream at another bitrate, and finding frames among other bytes (a verified resync, a
// scanner over one stream's frames). The read layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_FRAME_H
#define AUDIO_STREAM_FORMATS_MP3_FRAME_H

#include <cstddef>
#include <cstdint>
#include <optional>

#include "reader.h"

namespace audio_stream {

struct Mp3Header {
    bool lsf;                  // MPEG-2 or 2.5 (low sampling frequencies): 576 samples per frame
    bool crc;                  // a 16-bit CRC follows the header
    bool mono;
    unsigned bitrate_index;    // 1..14
    unsigned bitrate;          // kbit/s
    unsigned sample_rate;      // Hz
    unsigned size;             // bytes, header included
    unsigned samples;          // per frame
    unsigned side_info;        // bytes of side information after the header (and CRC)
};

// The Layer III frame header in the 32 bits `h` (big-endian order), or nullopt for anything
// else: no sync, a reserved version, sample rate or bitrate, free format, Layer I or II.
std::optional<Mp3Header> parse_mp3_header(std::uint32_t h);

namespace mp3 {

// Whether two frame headers belong to one stream: same version, layer, sample rate, channels.
bool same_stream(std::uint32_t a, std::uint32_t b);

// A frame header as found in the file.
struct Head {
    std::uint32_t raw = 0;
    Mp3Header header{};
};

// The frame header at pos, if a whole frame fits before end.
std::optional<Head> frame_at(Reader& r, Offset pos, Offset end);

// The first offset in [from, end) where a frame of stream `ref` (0: any) starts and is followed
// by more of the same stream (or by the end): one header can be chance, four in a row are not.
// end when there is none.
Offset resync(Reader& r, Offset from, Offset end, std::uint32_t ref);

// What the cutter keeps of a frame.
struct FrameInfo {
    Offset offset;
    std::uint32_t main_data;        // bytes of main data this frame carries, at its end
    std::uint16_t main_data_begin;  // bytes its own main data starts before its header
    std::uint16_t size;
    std::uint8_t bitrate_index;
};

FrameInfo frame_info(Reader& r, Offset pos, const Mp3Header& h);

// A frame found by a scan.
struct Scanned {
    FrameInfo info;
    Mp3Header header;
};

// The frames of stream `ref` from pos on, one by one, up to end; junk between frames is skipped
// by a verified resync.
class FrameScanner {
public:
    FrameScanner(Reader& r, Offset pos, Offset end, std::uint32_t ref) : r_(r), pos_(pos), end_(end), ref_(ref), last_end_(pos) {}
    // The next frame, or nullopt when no more lie before end.
    std::optional<Scanned> next();
    // Where the last frame given ends (where the scan began, before the first).
    Offset last_end() const { return last_end_; }

private:
    Reader& r_;
    Offset pos_;
    Offset end_;
    std::uint32_t ref_;
    Offset last_end_;
};

// The bitrate index in a frame header.
inline unsigned bitrate_index_of(std::uint32_t raw) { return raw >> 12 & 15; }

// The header of a frame like `audio_raw` (version, sample rate, mode, flags) at bitrate index
// `index`, with no CRC, padding, private bit or mode extension: the frames a cut writes.
std::uint32_t header_like(std::uint32_t audio_raw, unsigned index);

// The size of such a frame in bytes (0 when `index` is no bitrate).
unsigned size_like(std::uint32_t audio_raw, unsigned index);

// Whether such a frame has room for `bytes` after its side information.
bool holds(std::uint32_t audio_raw, unsigned index, std::size_t bytes);

// `prefer` when a frame like audio_raw holds `bytes` there, else the smallest bitrate index
// that does; 0 when none does (a 320 kbit/s frame is the largest).
unsigned bitrate_for(std::uint32_t audio_raw, unsigned prefer, std::size_t bytes);

}  // namespace mp3
}  // namespace audio_stream

#endif
