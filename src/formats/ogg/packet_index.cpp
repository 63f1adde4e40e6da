#include "packet_index.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "../payload.h"
#include "codec.h"

namespace audio_stream {
namespace ogg {

namespace {

// A packet longer than this (a multistream packet of 255 channels is under 16 MiB) is not Opus.
constexpr std::uint64_t kMaxPacketBytes = std::uint64_t{16} << 20;

// One pass over the audio pages, filling `x`; a refusal is thrown (build_packet_index keeps it).
class IndexWalk {
public:
    IndexWalk(ByteSource& src, const Stream& s, PacketIndex& x) : src_(src), pages_(src), s_(s), x_(x) {}

    void run()
    {
        const Offset size = pages_.size();
        Page p;
        for (Offset at = s_.audio_start; at < size; at = p.end()) {
            if (!pages_.header_at(at, p)) {
                // A truncated last page ends the stream; bytes that hold a page and are none do not.
                if (size - at >= kMaxPage) {
                    refuse_malformed("no Ogg page at byte " + std::to_string(at));
                }
                break;
            }
            take_page(p);
        }
        if (x_.packets == 0) {
            refuse_malformed("no Opus packets");
        }
        if (x_.last_samples > x_.packet_samples) {
            refuse_unsupported("Opus packets of more than one duration");
        }
    }

private:
    void take_page(const Page& p)
    {
        // RFC 3533 §4: a chain's next link starts with a beginning-of-stream page, after the
        // end-of-stream page of this one.
        if ((p.type() & kBos) != 0 || ended_) {
            refuse_unsupported("a chained Ogg file (another stream at byte " + std::to_string(p.offset) + ")");
        }
        if (p.serial() != s_.serial) {
            refuse_malformed("multiplexed Ogg");
        }
        if (x_.pages.size() >= kMaxIndexPages || p.length() > kMaxWalkBytes - walked_) {
            refuse_over_budget("an Ogg stream of more than " + std::to_string(kMaxIndexPages) + " pages or " +
                               std::to_string(kMaxWalkBytes >> 20) + " MiB to index");
        }
        walked_ += p.length();
        read_body(p);
        const bool continued = (p.type() & kContinued) != 0;
        x_.pages.push_back(IndexedPage{p.offset, static_cast<std::uint32_t>(begun_),
                                       static_cast<std::uint8_t>(p.segments), continued});
        take_packets(p, continued);
        x_.last_granule = p.granule() >= 0 ? p.granule() : x_.last_granule;
        ended_ = (p.type() & kEos) != 0;
    }

    // The page's body, its CRC checked over the header and it (RFC 3533 §6).
    void read_body(const Page& p)
    {
        body_.resize(static_cast<std::size_t>(p.body));
        if (!src_.read(p.offset + p.header_length(), body_.data(), body_.size())) {
            refuse_malformed("read error");
        }
        Byte header[kMaxHeader];
        std::copy(p.header, p.header + p.header_length(), header);
        std::memset(header + kCrcAt, 0, 4);
        const std::uint32_t crc = crc_update(0, header, static_cast<std::size_t>(p.header_length()));
        if (crc_update(crc, body_.data(), body_.size()) != p.crc()) {
            refuse_malformed("bad Ogg page CRC at byte " + std::to_string(p.offset));
        }
    }

    // Each packet that begins on the page is timed by its TOC byte (a packet of two bytes or
    // more has its first two in its first segment, so on this page); its bytes are summed over
    // the pages it spans.
    void take_packets(const Page& p, bool continued)
    {
        if (continued != open_) {
            refuse_malformed(open_ ? "an Ogg packet left unfinished" : "Ogg continued packet without a start");
        }
        for (const Packet& k : packets(p)) {
            if (k.first == 0 && continued) {
                open_bytes_ += k.length;
            }
            else {
                open_samples_ = opus_samples(body_.data() + k.offset, k.length);
                if (open_samples_ == 0) {
                    refuse_malformed("not an Opus packet at byte " + std::to_string(p.offset));
                }
                open_bytes_ = k.length;
                ++begun_;
            }
            if (open_bytes_ > kMaxPacketBytes) {
                refuse_malformed("an Opus packet of more than 16 MiB");
            }
            open_ = !k.complete;
            if (k.complete) {
                finish_packet();
            }
        }
    }

    void finish_packet()
    {
        // Every packet plays what the first does; only the last may differ (shorter: run()).
        if (x_.packets > 0 && x_.last_samples != x_.packet_samples) {
            refuse_unsupported("Opus packets of more than one duration");
        }
        const auto samples = static_cast<std::uint32_t>(open_samples_);
        x_.packet_samples = x_.packets == 0 ? samples : x_.packet_samples;
        x_.last_samples = samples;
        ++x_.packets;
        x_.audio_bytes += open_bytes_;
        x_.largest = std::max(x_.largest, static_cast<std::uint32_t>(open_bytes_));
    }

    ByteSource& src_;
    Pages pages_;  // header reads only, through its window
    const Stream& s_;
    PacketIndex& x_;
    std::vector<Byte> body_;
    Offset walked_ = 0;
    std::uint64_t begun_ = 0;   // packets that began on the pages walked
    bool open_ = false;         // the last page walked ends inside a packet
    std::uint64_t open_bytes_ = 0;
    std::int64_t open_samples_ = 0;
    bool ended_ = false;        // an end-of-stream page was walked
};

using payload::put;
using payload::put_all;
using payload::take_all;

// The payload: a head of these widths (status, packet_samples, last_samples, packets,
// last_granule, audio_bytes, largest, the error's length), the error, the page count in 8
// bytes, then a record of these widths for each page (offset, first, segments, continued).
constexpr unsigned kHeadBytes[8] = {1, 4, 4, 8, 8, 8, 4, 4};
constexpr unsigned kPageBytes[4] = {8, 4, 1, 1};
constexpr std::size_t kPageRecord = 8 + 4 + 1 + 1;

// Pages in file order, each header inside the file, packet numbers never decreasing and each
// below the count (a page's first packet may be the unfinished one after the last).
bool valid_pages(const PacketIndex& x, Offset file_size)
{
    for (std::size_t i = 0; i < x.pages.size(); ++i) {
        const IndexedPage& p = x.pages[i];
        const bool ordered = i == 0 || (p.offset > x.pages[i - 1].offset && p.first >= x.pages[i - 1].first);
        if (!ordered || p.continued > 1 || p.offset > file_size || kFixedHeader + p.segments > file_size - p.offset ||
            p.first > x.packets) {
            return false;
        }
    }
    return !x.pages.empty() && x.packets > 0 && x.packet_samples > 0 && x.last_samples > 0 && x.last_samples <= x.packet_samples;
}

}  // namespace

std::size_t PacketIndex::page_of(std::uint64_t n) const
{
    // The last page on which a packet numbered n or less begins: a page that only continues a
    // packet shares its number with the page after it.
    const auto after = std::upper_bound(pages.begin(), pages.end(), n,
                                        [](std::uint64_t v, const IndexedPage& p) { return v < p.first; });
    return static_cast<std::size_t>(after - pages.begin()) - 1;
}

std::string PacketIndex::payload() const
{
    std::string out;
    out.reserve(64 + error.size() + pages.size() * kPageRecord);
    const std::uint64_t head[] = {static_cast<std::uint64_t>(status), packet_samples, last_samples, packets,
                                  static_cast<std::uint64_t>(last_granule), audio_bytes, largest, error.size()};
    put_all(out, head, kHeadBytes);
    out += error;
    put(out, pages.size(), 8);
    for (const IndexedPage& p : pages) {
        const std::uint64_t record[] = {p.offset, p.first, p.segments, p.continued};
        put_all(out, record, kPageBytes);
    }
    return out;
}

std::shared_ptr<const PacketIndex> PacketIndex::parse(std::string_view bytes, Offset file_size)
{
    auto x = std::make_shared<PacketIndex>();
    payload::Reader in(bytes);
    std::uint64_t head[8];
    std::uint64_t count;
    std::string_view error;
    if (!take_all(in, head, kHeadBytes) || !in.take_bytes(head[7], error) || !in.take(8, count) ||
        head[0] > static_cast<std::uint64_t>(Cut::Status::OverBudget) || count > kMaxIndexPages ||
        in.left() != count * kPageRecord) {
        return nullptr;
    }
    x->status = static_cast<Cut::Status>(head[0]);
    x->packet_samples = static_cast<std::uint32_t>(head[1]);
    x->last_samples = static_cast<std::uint32_t>(head[2]);
    x->packets = head[3];
    x->last_granule = static_cast<std::int64_t>(head[4]);
    x->audio_bytes = head[5];
    x->largest = static_cast<std::uint32_t>(head[6]);
    x->error = std::string(error);
    x->pages.resize(count);
    for (IndexedPage& p : x->pages) {  // in.left() was checked: every take succeeds
        std::uint64_t v[4];
        take_all(in, v, kPageBytes);
        p = IndexedPage{v[0], static_cast<std::uint32_t>(v[1]), static_cast<std::uint8_t>(v[2]),
                        static_cast<std::uint8_t>(v[3])};
    }
    // An index of pages, or a refusal without any.
    const bool valid = x->status == Cut::Status::Ok ? x->error.empty() && valid_pages(*x, file_size)
                                                    : !x->error.empty() && x->pages.empty();
    if (!valid) {
        return nullptr;
    }
    return x;
}

PacketIndex build_packet_index(ByteSource& src, const Stream& s)
{
    PacketIndex x;
    const Cut verdict = verdict_of([&] { IndexWalk(src, s, x).run(); });
    if (verdict.status != Cut::Status::Ok) {
        x = PacketIndex{};
        x.status = verdict.status;
        x.error = verdict.detail;
    }
    return x;
}

}  // namespace ogg
}  // namespace audio_stream
