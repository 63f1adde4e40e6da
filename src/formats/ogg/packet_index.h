// The packets of an Ogg Opus stream for HLS (RFC 7845 §3): one walk over every audio page (its
// header, and its body for the CRC and each packet's TOC byte), kept as the file's seek index.
// Per page the index says where it is and which packet begins on it; the lacing values stay in
// the file, so a run of packets is found by a binary search and read from those pages' headers.
#ifndef AUDIO_STREAM_FORMATS_OGG_PACKET_INDEX_H
#define AUDIO_STREAM_FORMATS_OGG_PACKET_INDEX_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../formats.h"
#include "read.h"

namespace audio_stream {
namespace ogg {

// 16 bytes a page (an Opus page of opusenc or ffmpeg plays about a second: 56 KiB an hour).
struct IndexedPage {
    Offset offset = 0;         // of the page header
    std::uint32_t first = 0;   // the number of the first packet that begins on the page (the
                               // packets begun on earlier pages)
    std::uint8_t segments = 0; // lacing values: the header is kFixedHeader + segments bytes
    std::uint8_t continued = 0;  // 1: the first segments end a packet begun on an earlier page
};
static_assert(sizeof(IndexedPage) == 16, "the cap below counts 16 bytes a page");

// The walk indexes at most this many pages (16 MiB: 290 hours of one-second pages, 5.8 hours
// of a page per 20 ms packet) and reads at most kMaxWalkBytes of them; past either the stream
// is refused (OverBudget), the refusal kept as the index.
constexpr std::size_t kMaxIndexPages = std::size_t{1} << 20;
constexpr Offset kMaxWalkBytes = Offset{4} << 30;

struct PacketIndex final : SeekIndex {
    Cut::Status status = Cut::Status::Ok;  // else why the stream has no packets here (no pages)
    std::string error;
    std::uint32_t packet_samples = 0;  // at 48 kHz, of every packet (the last may be shorter)
    std::uint32_t last_samples = 0;    // of the last packet
    std::uint64_t packets = 0;         // complete packets
    std::int64_t last_granule = -1;    // of the last page that carries one
    std::uint64_t audio_bytes = 0;     // of the packets
    std::uint32_t largest = 0;         // bytes of the largest packet
    std::vector<IndexedPage> pages;    // the audio pages, in file order

    // The page on which packet n (< packets) begins.
    std::size_t page_of(std::uint64_t n) const;
    std::size_t footprint() const override { return sizeof *this + error.size() + pages.capacity() * sizeof(IndexedPage); }

    // Little-endian fields, a page 14 bytes. parse() takes back only pages in order inside the
    // file, their packet numbers never decreasing and below `packets`; else null.
    std::string payload() const override;
    static std::shared_ptr<const PacketIndex> parse(std::string_view payload, Offset file_size);
};

// The audio pages of Opus stream `s` from its first audio page to its end-of-stream page (or the
// end of the file): each page's CRC checked, every packet's duration read from its TOC byte
// (RFC 6716 §3.1). Refusals are kept in the index (status and error): Malformed (a damaged page,
// a packet that is not Opus, another stream's page, junk before the end), Unsupported (packets
// of more than one duration but a shorter last one, a chained file's next link), OverBudget.
PacketIndex build_packet_index(ByteSource& src, const Stream& s);

}  // namespace ogg
}  // namespace audio_stream

#endif
