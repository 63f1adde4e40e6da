// libFuzzer target: Range parser + piece window + response planner, on every input.
//
// Input: an 8-byte settings prefix, then the Range header value (any bytes).
//   byte 0  bits 0-1 length class, bit 2 scope all, bit 3 media request,
//           bits 4-5 piece class, bits 6-7 max-ranges class
//   byte 1  bit 0: no Content-Type for multipart parts
//   2-5     V, little-endian u32: the file length, by class
//             0: V & 0xff   1: V   2: V << 16 | (V & 0xffff)   3: INT64_MAX - V
//   6       P: the piece size, by class
//             0: 0 (no cap)   1: P   2: (P + 1) K   3: (P + 1) M, P = 255 gives 2^50 (kMaxSize)
//   7       M: AudioStreamMaxRanges, by class
//             0: 0 (unlimited)   1: M   2: 200 (default)   3: 100000 (largest)
// Shorter inputs read missing settings bytes as 0. Lengths stay within apr_off_t, as the
// glue's r->finfo.size does; piece sizes within what AudioStreamPieceSize accepts.
//
// Invariants (any violation traps):
//   status is 200, 206 or 416; Content-Length is the sum of the body's extents; every file
//   extent is non-empty and inside [0, len), every memory block non-empty;
//   200: the body is the whole file, no Content-Range;
//   416: empty body, Content-Range "bytes */len";
//   206 single part: one file extent, Content-Range names exactly it; capped ("piece"): exactly
//   the piece size, and only when the scope allows it; scope all: never longer than a piece;
//   206 multipart: at least two parts, each head names the extent that follows it, parts
//   sorted and neither overlapping nor adjacent, at most max_ranges and at most as many as the
//   header has list elements, Content-Length at most twice the file;
//   work: the body has at most 2 x (list elements) + 1 extents.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>

#include "src/response_plan.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace audio_stream;


constexpr std::size_t kPrefix = 8;
constexpr Offset kInt64Max = 0x7fffffffffffffffull;

struct Settings {
    Offset length;
    PiecePolicy piece;
    bool media;
    unsigned max_ranges;
    bool content_type;
};

Settings settings(const std::uint8_t* p)
{
    const unsigned flags = p[0];
    const Offset v = Offset{p[2]} | Offset{p[3]} << 8 | Offset{p[4]} << 16 | Offset{p[5]} << 24;
    Settings s{};
    switch (flags & 3) {
    case 0: s.length = v & 0xff; break;
    case 1: s.length = v; break;
    case 2: s.length = v << 16 | (v & 0xffff); break;
    default: s.length = kInt64Max - v; break;
    }
    s.piece.scope = (flags & 4) ? PieceScope::All : PieceScope::Media;
    s.media = (flags & 8) != 0;
    const Offset piece = p[6];
    switch ((flags >> 4) & 3) {
    case 0: s.piece.piece_size = 0; break;
    case 1: s.piece.piece_size = piece; break;
    case 2: s.piece.piece_size = (piece + 1) << 10; break;
    default: s.piece.piece_size = piece == 255 ? Offset{1} << 50 : (piece + 1) << 20; break;
    }
    switch ((flags >> 6) & 3) {
    case 0: s.max_ranges = 0; break;
    case 1: s.max_ranges = p[7]; break;
    case 2: s.max_ranges = 200; break;
    default: s.max_ranges = 100000; break;
    }
    s.content_type = (p[1] & 1) == 0;
    return s;
}

std::string content_range(Offset first, Offset last, Offset length)
{
    char buf[80];
    std::snprintf(buf, sizeof buf, "bytes %llu-%llu/%llu", static_cast<unsigned long long>(first),
                  static_cast<unsigned long long>(last), static_cast<unsigned long long>(length));
    return buf;
}

bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

void check_extents(const Plan& p, Offset len)
{
    CHECK(p.content_length == extents_length(p.body));
    for (const auto& e : p.body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            CHECK(f->length > 0);
            CHECK(f->offset < len);
            CHECK(f->length <= len - f->offset);
        }
        else {
            CHECK(!std::get<MemoryBlock>(e).bytes.empty());
        }
    }
}

void check_multipart(const Plan& p, const Settings& s, std::string_view content_type,
                     std::size_t elements)
{
    constexpr std::string_view kType = "multipart/byteranges; boundary=";
    CHECK(starts_with(p.content_type, kType));
    const std::string boundary = p.content_type.substr(kType.size());
    CHECK(!boundary.empty());
    // No multiplication: twice the file may not fit in 64 bits.
    CHECK(p.content_length <= s.length || p.content_length - s.length <= s.length);
    // head, file extent, head, file extent, ..., tail (a whole file is one extent).
    CHECK(p.body.size() >= 5 && p.body.size() % 2 == 1);
    const std::size_t parts = p.body.size() / 2;
    CHECK(parts <= elements);
    CHECK(s.max_ranges == 0 || parts <= s.max_ranges);
    bool have_prev = false;
    Offset prev_last = 0;
    for (std::size_t i = 0; i < parts; ++i) {
        const auto* head = std::get_if<MemoryBlock>(&p.body[2 * i]);
        const auto* file = std::get_if<FileExtent>(&p.body[2 * i + 1]);
        CHECK(head && file);
        std::string expect = "\r\n--" + boundary + "\r\n";
        if (!content_type.empty()) {
            expect.append("Content-Type: ").append(content_type).append("\r\n");
        }
        expect += "Content-Range: " +
                  content_range(file->offset, file->offset + file->length - 1, s.length) +
                  "\r\n\r\n";
        CHECK(head->bytes == expect);
        // RFC 9110 §14.3: sorted, overlapping and adjacent ranges coalesced.
        CHECK(!have_prev || file->offset > prev_last + 1);
        prev_last = file->offset + file->length - 1;
        have_prev = true;
    }
    const auto* tail = std::get_if<MemoryBlock>(&p.body.back());
    CHECK(tail && tail->bytes == "\r\n--" + boundary + "--\r\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto in = fuzz_check::split<kPrefix>(data, size);
    const Settings s = settings(in.prefix);
    const std::string_view header = in.rest;
    std::size_t elements = 1;  // list elements: an upper bound on the range-specs
    for (char c : header) {
        elements += c == ',';
    }

    const Representation rep = whole_file(s.length);
    const std::string_view type = s.content_type ? "audio/mpeg" : "";
    PlanRequest req{};
    req.representation = &rep;
    req.range = header;
    req.media_request = s.media;
    req.piece = s.piece;
    req.max_ranges = s.max_ranges;
    req.content_type = type;
    req.boundary_seed = "\"5f3a-3200000\"";
    const Plan p = plan_response(req);

    check_extents(p, s.length);
    CHECK(p.body.size() <= 2 * elements + 1);
    switch (p.status) {
    case 200:
        CHECK(p.content_range.empty() && p.content_type.empty());
        CHECK(p.content_length == s.length);
        CHECK(p.body == rep.extents);
        CHECK(!header.empty() || p.note == "no range");
        break;
    case 416:
        CHECK(!header.empty());
        CHECK(p.body.empty() && p.content_length == 0 && p.content_type.empty());
        CHECK(p.content_range == "bytes */" + std::to_string(s.length));
        break;
    case 206:
        CHECK(!header.empty());
        if (p.content_type.empty()) {
            CHECK(p.body.size() == 1);
            const auto* f = std::get_if<FileExtent>(&p.body.front());
            CHECK(f);
            CHECK(p.content_range == content_range(f->offset, f->offset + f->length - 1, s.length));
            const bool capped = p.note == "piece";
            CHECK(capped || p.note == "exact");
            if (capped) {
                CHECK(s.piece.piece_size > 0 && p.content_length == s.piece.piece_size);
                CHECK(s.piece.scope == PieceScope::All || s.media);
            }
            if (s.piece.piece_size > 0 && s.piece.scope == PieceScope::All) {
                CHECK(p.content_length <= s.piece.piece_size);
            }
        }
        else {
            CHECK(p.content_range.empty());
            check_multipart(p, s, type, elements);
        }
        break;
    default:
        CHECK(false && "status");
    }
    return 0;
}
