#include "segment.h"

#include <string_view>

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
    Representation rep;
    append_memory(rep.extents, timestamp_tag(timestamp_90k(first_sample, rate)));
    for (const Extent& e : run.data) {
        rep.extents.push_back(e);
    }
    rep.length = extents_length(rep.extents);
    return rep;
}

}  // namespace audio_stream::hls
