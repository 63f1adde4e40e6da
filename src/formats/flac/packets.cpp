// A native FLAC stream as packets for HLS: its frames, from the file's seek index (made once,
// as a cut makes it). A stream of one block size only: the frames of fixed-blocksize streams,
// the last one shorter (RFC 9639 §9.1.1); a variable-blocksize stream has no packets of one
// duration and is refused (Unsupported). The config is STREAMINFO as dfLa carries it.
#include "../formats.h"

#include <memory>

#include "index.h"
#include "metadata.h"

namespace audio_stream {

namespace {

std::shared_ptr<const flac::FrameIndex> frames_of(ByteSource& src, const flac::Stream& s, IndexSource& indexes)
{
    auto index = flac::stream_index(src, s, indexes);
    if (index->variable) {
        refuse_unsupported("variable block size: frames of more than one duration");
    }
    return index;
}

// STREAMINFO's block header and body, marked as the last metadata block (dfLa holds it alone).
std::string stream_info_block(const flac::Stream& s)
{
    std::string block(reinterpret_cast<const char*>(s.head) + 4, 4 + flac::kStreamInfoBytes);
    block[0] = static_cast<char>(0x80 | flac::kStreamInfo);
    return block;
}

}  // namespace

AudioTrack track_flac(ByteSource& src, IndexSource& indexes)
{
    return read_judged<AudioTrack>([&](AudioTrack& t) {
        const flac::Stream s = flac::read_stream(src);
        const auto index = frames_of(src, s, indexes);
        t.codec = AudioCodec::Flac;
        t.codecs = "fLaC";
        t.rate = s.info.rate;
        t.sample_rate = s.info.rate;
        t.channels = static_cast<std::uint16_t>(s.info.channels);
        t.bits = static_cast<std::uint16_t>(s.info.bits);
        t.packet_samples = index->fixed_block;
        t.packets = index->frames.size();
        t.total = index->end_sample(index->frames.back()) - index->first_sample(index->frames.front());
        t.audio_bytes = index->last_end - index->frames.front().offset;
        Offset largest = 0;
        for (std::size_t i = 0; i < index->frames.size(); ++i) {
            largest = std::max(largest, index->end_of(i) - index->frames[i].offset);
        }
        t.peak_bitrate = static_cast<std::uint32_t>(std::min<Offset>(largest * 8 * t.rate / t.packet_samples, ~0u));
        t.config = stream_info_block(s);
    });
}

PacketRun packets_flac(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count)
{
    return read_judged<PacketRun>([&](PacketRun& out) {
        const flac::Stream s = flac::read_stream(src);
        const auto index = frames_of(src, s, indexes);
        if (first + count > index->frames.size()) {
            refuse_malformed("FLAC frames missing from the index");
        }
        for (auto i = static_cast<std::size_t>(first); i < first + count; ++i) {
            const Offset length = index->end_of(i) - index->frames[i].offset;
            append_file(out.data, index->frames[i].offset, length);
            out.sizes.push_back(static_cast<std::uint32_t>(length));
        }
    });
}

}  // namespace audio_stream
