#include "segment.h"

#include <string_view>
#include <vector>

#include "../formats/toolbox.h"
#include "fmp4.h"

namespace audio_stream::hls {

namespace {

constexpr std::string_view kTimestampOwner = "com.apple.streaming.transportStreamTimestamp";

// n as ID3v2.4's 28-bit synchsafe integer: 7 bits a byte, most significant first.
void put_synchsafe(std::string& out, std::uint32_t n)
{
    for (int shift = 21; shift >= 0; shift -= 7) {
        out += static_cast<char>(n >> shift & 0x7F);
    }
}

void put_be(std::string& out, std::uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i) {
        out += static_cast<char>(v >> (8 * i) & 0xFF);
    }
}

// The OpusHead packet (RFC 7845 §5.1) as dOps carries it.
std::string opus_entry(const AudioTrack& t)
{
    const std::string& h = t.config;
    if (h.size() < 19 || h.compare(0, 8, "OpusHead") != 0) {
        refuse_malformed("no OpusHead");
    }
    const auto* b = reinterpret_cast<const Byte*>(h.data());
    // InputSampleRate 48000, whatever the encoder's input was: Chromium refuses a dOps whose rate
    // is not the sample entry's (always 48000); it is only a hint for playing back at the
    // original rate.
    // The mapping table: 2 + channels bytes past family 0; what a later version appends is not ours.
    const std::string table = b[18] == 0 ? std::string() : h.substr(19, 2 + std::size_t{b[9]});
    return opus_sample_entry(b[9], le16(b + 10), 48000, static_cast<std::int16_t>(le16(b + 16)), b[18], table);
}

Representation with_header(std::string header, const PacketRun& run)
{
    Representation rep;
    append_memory(rep.extents, std::move(header));
    for (const Extent& e : run.data) {
        rep.extents.push_back(e);
    }
    rep.length = extents_length(rep.extents);
    return rep;
}

}  // namespace

std::uint64_t timestamp_90k(std::uint64_t sample, std::uint32_t rate)
{
    // sample < 2^40 for any track a file holds (hours at 192 kHz are 2^31), so no overflow.
    return rate == 0 ? 0 : (sample * 90'000 / rate) & ((std::uint64_t{1} << 33) - 1);
}

std::string timestamp_tag(std::uint64_t timestamp)
{
    const auto frame_size = static_cast<std::uint32_t>(kTimestampOwner.size() + 1 + 8);
    std::string tag = "ID3";
    tag += '\x04';  // version 2.4.0
    tag += '\0';
    tag += '\0';    // no flags
    put_synchsafe(tag, 10 + frame_size);
    tag += "PRIV";
    put_synchsafe(tag, frame_size);
    tag += '\0';
    tag += '\0';
    tag += kTimestampOwner;
    tag += '\0';
    put_be(tag, timestamp, 8);
    return tag;
}

Representation packed_segment(std::uint64_t first_sample, std::uint32_t rate, const PacketRun& run)
{
    return with_header(timestamp_tag(timestamp_90k(first_sample, rate)), run);
}

std::string sample_entry_of(const AudioTrack& t)
{
    switch (t.codec) {
    case AudioCodec::Flac:
        return flac_sample_entry(t.channels, t.sample_rate, t.bits, t.config);
    case AudioCodec::Mp4:
        return t.config;
    case AudioCodec::Opus:
        return opus_entry(t);
    case AudioCodec::Mp3:  // TS or packed audio: Chromium plays no MP3 in fragmented MP4
    case AudioCodec::None:
        break;
    }
    return {};
}

std::string init_of(const AudioTrack& t)
{
    TrackConfig config;
    config.timescale = t.rate;
    config.channels = t.channels;
    config.sample_rate = t.sample_rate;
    config.sample_entry = sample_entry_of(t);
    config.duration = t.total;
    return init_segment(config);
}

Representation fmp4_segment(const AudioTrack& t, std::uint64_t first, std::uint32_t sequence, const PacketRun& run)
{
    std::vector<Sample> samples;
    samples.reserve(run.sizes.size());
    std::uint64_t packet = first;
    for (const std::uint32_t size : run.sizes) {
        const std::uint64_t start = packet * t.packet_samples;
        const std::uint64_t end = ++packet == t.packets ? t.total : start + t.packet_samples;
        samples.push_back(Sample{size, static_cast<std::uint32_t>(end > start ? end - start : 0)});
    }
    return with_header(fragment_header(sequence, first * t.packet_samples, samples), run);
}

}  // namespace audio_stream::hls
