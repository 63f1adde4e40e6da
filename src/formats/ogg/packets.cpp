// An Ogg Opus stream as packets for HLS: its audio packets, found by one walk over the pages
// kept as the file's seek index (packet_index.h), each run of them read back from its pages'
// headers. Packets of one duration (the last maybe shorter); a stream of more is refused
// (Unsupported), and so are Vorbis and chained files. The config is the OpusHead packet, which
// dOps carries with its pre-skip: the player drops those samples, as it does from the Ogg file.
#include "../formats.h"

#include <algorithm>
#include <memory>

#include "packet_index.h"

namespace audio_stream {

namespace {

// RFC 7845 §4: Opus granule positions count 48 kHz samples whatever the input rate was.
constexpr std::uint32_t kOpusRate = 48000;

ogg::Stream opus_stream(ogg::Pages& pages)
{
    ogg::Stream s = ogg::read_stream(pages);
    if (!s.opus) {
        refuse_unsupported("Vorbis has no HLS form");
    }
    return s;
}

std::shared_ptr<const ogg::PacketIndex> index_of(ByteSource& src, const ogg::Stream& s, IndexSource& indexes)
{
    auto index = indexes.get<ogg::PacketIndex>(IndexKind::OggPackets, [&] {
        const ByteSource::Unbudgeted own_bounds(src);  // kMaxIndexPages, kMaxWalkBytes
        return std::make_shared<const ogg::PacketIndex>(ogg::build_packet_index(src, s));
    });
    switch (index->status) {
    case Cut::Status::Ok:
        return index;
    case Cut::Status::Unsupported:
        refuse_unsupported(index->error);
    case Cut::Status::OverBudget:
        refuse_over_budget(index->error);
    default:
        refuse_malformed(index->error);
    }
}

// The ticks the fMP4 timeline gives the track. RFC 7845 §4: a page's granule position counts
// the 48 kHz samples decoded from the stream's origin (the granule of its first sample, 0 but
// in a file cut from a longer stream) to the end of the last packet completed on the page, the
// pre-skip's samples included; the last page's may stop short of what its packets decode, which
// trims the last packet (§4.4). The fMP4 timeline counts the same: packet k plays from
// k * packet_samples, from the first sample decoded, and dOps carries the pre-skip so that the
// player drops those samples itself (as from the Ogg file). So the track is last granule less
// origin, pre-skip not taken off, and the last packet's duration is its end-trimmed length; a
// granule past what the packets decode is held to that (no player plays more).
std::uint64_t timeline_ticks(const ogg::PacketIndex& x, const ogg::Stream& s)
{
    const std::uint64_t before_last = (x.packets - 1) * x.packet_samples;
    const std::uint64_t decoded = before_last + x.last_samples;
    if (x.last_granule < s.origin) {
        refuse_malformed("no Ogg granule position after the first audio page");
    }
    const auto granule = static_cast<std::uint64_t>(x.last_granule - s.origin);
    if (granule <= before_last) {
        refuse_malformed("an Opus end trim longer than the last packet");  // RFC 7845 §4.4
    }
    return std::min(granule, decoded);
}

// The OpusHead packet: the first page holds it alone (read_stream checked), the page kept.
std::string opus_head(ogg::Pages& pages, const ogg::Stream& s)
{
    if (!pages.load(s.first) || s.first.body < 19) {
        refuse_malformed("bad first Ogg page");
    }
    return std::string(reinterpret_cast<const char*>(pages.body(s.first)), static_cast<std::size_t>(s.first.body));
}

// Packets [first, end) of the index's pages, each page's header read again for its lacing
// values: a packet's bytes on a page are one extent, merged with the next packet's there.
void collect(ogg::Pages& pages, const ogg::PacketIndex& x, std::uint64_t first, std::uint64_t end, PacketRun& out)
{
    std::uint64_t bytes = 0;
    for (std::size_t i = x.page_of(first); i < x.pages.size(); ++i) {
        const ogg::IndexedPage& at = x.pages[i];
        ogg::Page p;
        if (!pages.header_at(at.offset, p) || p.segments != at.segments) {
            refuse_malformed("an Ogg page moved since the file was indexed");
        }
        std::uint64_t next = at.first;  // the number of the next packet to begin on the page
        for (const ogg::Packet& k : ogg::packets(p)) {
            const std::uint64_t number = k.first == 0 && at.continued ? next - 1 : next++;
            if (number >= end) {
                return;
            }
            if (number < first) {
                continue;
            }
            append_file(out.data, p.offset + p.header_length() + k.offset, k.length);
            bytes += k.length;
            if (k.complete) {
                out.sizes.push_back(static_cast<std::uint32_t>(bytes));
                bytes = 0;
            }
        }
    }
}

}  // namespace

AudioTrack track_ogg(ByteSource& src, IndexSource& indexes)
{
    return read_judged<AudioTrack>([&](AudioTrack& t) {
        ogg::Pages pages(src);
        const ogg::Stream s = opus_stream(pages);
        const auto index = index_of(src, s, indexes);
        t.codec = AudioCodec::Opus;
        t.codecs = "Opus";
        t.config = opus_head(pages, s);
        const auto* head = reinterpret_cast<const Byte*>(t.config.data());
        t.rate = kOpusRate;
        t.sample_rate = le32(head + 12) != 0 ? le32(head + 12) : kOpusRate;  // RFC 7845 §5.1: 0 unknown
        t.channels = head[9];
        t.packet_samples = index->packet_samples;
        t.packets = index->packets;
        t.total = timeline_ticks(*index, s);
        t.audio_bytes = index->audio_bytes;
        t.peak_bitrate = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(std::uint64_t{index->largest} * 8 * kOpusRate / t.packet_samples, ~0u));
    });
}

PacketRun packets_ogg(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count)
{
    return read_judged<PacketRun>([&](PacketRun& out) {
        ogg::Pages pages(src);
        const ogg::Stream s = opus_stream(pages);
        const auto index = index_of(src, s, indexes);
        if (count == 0 || first + count > index->packets) {
            refuse_malformed("packets past the stream");
        }
        collect(pages, *index, first, first + count, out);
        if (out.sizes.size() != count) {
            refuse_malformed("Opus packets missing from the pages");
        }
    });
}

}  // namespace audio_stream
