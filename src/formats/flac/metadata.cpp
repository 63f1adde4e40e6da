#include "metadata.h"

#include <cstring>

namespace audio_stream {
namespace flac {

namespace {

constexpr unsigned kMaxMetadataBlocks = 1024;
constexpr std::uint32_t kMaxSeekTableBytes = 64 * 1024;
constexpr unsigned kInvalidBlock = 127;

// RFC 9639 §8.2: the fields a cut needs, at their bit positions.
StreamInfo parse_stream_info(const Byte* s)
{
    StreamInfo info;
    info.max_block = be16(s + 2);
    info.max_frame = be24(s + 7);
    info.rate = be24(s + 10) >> 4;
    info.channels = ((s[12] >> 1) & 7) + 1;
    info.bits = (((s[12] & 1) << 4) | (s[13] >> 4)) + 1;
    info.total = be(s + 13, 5) & 0xFFFFFFFFFull;
    return info;
}

// Some taggers put an ID3v2 tag before "fLaC" (not RFC 9639, but common): where it ends.
Offset after_id3(ByteSource& src)
{
    Byte id3[10];
    if (src.size() < sizeof id3 || !src.read(0, id3, sizeof id3) || std::memcmp(id3, "ID3", 3) != 0) {
        return 0;
    }
    return 10 + Offset{syncsafe32(id3 + 6)} + ((id3[5] & 0x10) ? 10 : 0);  // footer present
}

// The block whose header is at pos, inside the file. `first` tells whether STREAMINFO must be
// this one (§8: it comes first, and only there, with 34 bytes).
Block read_block(ByteSource& src, Offset pos, bool first)
{
    const Offset size = src.size();
    Byte h[4];
    if (pos > size || size - pos < 4 || !src.read(pos, h, 4)) {
        refuse_malformed("FLAC metadata truncated");
    }
    const Block b{h[0] & 0x7Fu, pos, be24(h + 1), (h[0] & 0x80) != 0};
    if (b.type == kInvalidBlock || b.length > size - pos - 4) {
        refuse_malformed("FLAC metadata block invalid or past the end of the file");
    }
    if ((b.type == kStreamInfo) != first || (first && b.length != kStreamInfoBytes)) {
        refuse_malformed("FLAC STREAMINFO missing or not first");
    }
    return b;
}

}  // namespace

Stream read_stream(ByteSource& src)
{
    Stream s;
    const Offset size = src.size();
    const Offset begin = after_id3(src);
    if (begin > size || size - begin < sizeof s.head || !src.read(begin, s.head, sizeof s.head) ||
        std::memcmp(s.head, "fLaC", 4) != 0) {
        refuse_malformed("not a FLAC stream");
    }
    // §8: metadata blocks until the one flagged last. Each step advances at least 4 bytes.
    Offset pos = begin + 4;
    for (bool last = false; !last;) {
        if (s.blocks.size() == kMaxMetadataBlocks) {
            refuse_malformed("too many FLAC metadata blocks");
        }
        const Block b = read_block(src, pos, s.blocks.empty());
        s.blocks.push_back(b);
        last = b.last;
        pos += 4 + Offset{b.length};
    }
    s.audio_start = pos;
    s.info = parse_stream_info(s.stream_info());
    if (s.info.rate == 0) {
        refuse_malformed("FLAC sample rate is 0");
    }
    return s;
}

std::vector<SeekPoint> read_seek_points(ByteSource& src, const Block& b)
{
    std::vector<SeekPoint> points;
    if (b.length > kMaxSeekTableBytes || b.length % kSeekPointBytes != 0) {
        return points;
    }
    std::vector<Byte> table(b.length);
    if (!src.read(b.offset + 4, table.data(), table.size())) {  // read_stream checked the extent
        return points;
    }
    for (std::size_t i = 0; i < table.size(); i += kSeekPointBytes) {
        const Byte* p = table.data() + i;
        points.push_back(SeekPoint{be64(p), be64(p + 8), be16(p + 16)});
    }
    return points;
}

}  // namespace flac
}  // namespace audio_stream
