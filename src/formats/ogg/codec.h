// The codec layer of an Ogg cut: what the first packet says the stream is (Vorbis I §4.2.2,
// RFC 7845 §5.1), the block size of a Vorbis packet (Vorbis I §4.3.1) and the samples of an
// Opus packet (RFC 6716 §3.1): what a packet's duration is made of.
#ifndef AUDIO_STREAM_FORMATS_OGG_CODEC_H
#define AUDIO_STREAM_FORMATS_OGG_CODEC_H

#include <cstddef>
#include <cstdint>
#include <optional>

#include "page.h"

namespace audio_stream {
namespace ogg {

enum class Codec { Vorbis, Opus };

struct StreamHeader {
    Codec codec;
    std::uint32_t rate;         // Vorbis: the sample rate; Opus: 48000 (RFC 7845 §4)
    std::int64_t pre_skip = 0;  // Opus
    std::int64_t long_block = 0;  // Vorbis: blocksize_1, the longer of its two block sizes
    Byte blocksizes = 0;          // Vorbis: the identification header's byte 28
};

// The stream's codec, from its first packet; nullopt for any other codec.
std::optional<StreamHeader> identify(const Byte* p, Offset n);

// Vorbis I §4.2.4: which modes use the long block, from the end of the setup header, whose last
// field the modes are (before the framing bit). Read backwards, as ffmpeg and liboggz do: the
// mode count is the largest whose entries parse (window and transform types 0, mapping < 64)
// and agree with the 6-bit count before them. `tail` is the end of the setup packet.
struct VorbisModes {
    std::int64_t block[2] = {0, 0};  // blocksize_0, blocksize_1
    unsigned count = 0;              // 0: unknown
    unsigned bits = 0;               // bits of the mode number in an audio packet
    std::uint64_t long_modes = 0;    // bit i: mode i uses blocksize_1
};
std::optional<VorbisModes> vorbis_modes(const Byte* tail, Offset n, Byte blocksizes);

// Vorbis I §4.3.1: the block size of an audio packet, from its first byte; and, for a long
// block, the previous block's size (its previous_window_flag). nullopt: not an audio packet.
struct VorbisBlock {
    std::int64_t size = 0;
    std::optional<std::int64_t> previous;  // known for long blocks only
};
std::optional<VorbisBlock> vorbis_block(const VorbisModes& m, const Byte* p, Offset n);

// RFC 6716 §3.1: samples (at 48 kHz) in an Opus packet, from its TOC byte and, for code 3, its
// frame count byte. 0 when the packet is not a valid one.
std::int64_t opus_samples(const Byte* p, Offset n);

// Opus: samples in the packets that end on a page, from lacing value `from` on; nullopt if one
// of them is not a valid Opus packet. `body` is the page's body, loaded.
std::optional<std::int64_t> opus_page_samples(const Byte* body, const Page& page, std::size_t from);

}  // namespace ogg
}  // namespace audio_stream

#endif
