// What every cutter needs and none should write again: the one way a cut is refused, the one
// conversion between sample counts and microseconds (one overflow policy: saturate), and the
// byte-order readers and writers of the formats' headers. With formats.h it is a format folder's
// only door out: the core types a format reads and writes (ByteSource, Extents, Cut) come through
// cut.h here, the seek-index cache through formats.h.
#ifndef AUDIO_STREAM_FORMATS_TOOLBOX_H
#define AUDIO_STREAM_FORMATS_TOOLBOX_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "../cut.h"

namespace audio_stream {

using Byte = std::uint8_t;

// One error idiom for every format: a cut that cannot be made is thrown as a Refusal from
// wherever the reader, locator or writer finds out (a table that disagrees may show only while
// writing), and each format's entry point turns it into a Cut of that status (as_cut). So no
// step needs a channel of its own for "stop", and nothing else sees the exception: cut_for_type
// and the format entry points never throw a Refusal.
struct Refusal {
    Cut::Status status;
    std::string detail;  // for the error log; empty for PastEnd
};

// The file is not a well-formed stream of its format. `detail` is never empty.
[[noreturn]] void refuse_malformed(std::string detail);
// Well-formed, but of a kind the cutter does not cut.
[[noreturn]] void refuse_unsupported(std::string detail);
// A format's own cap on a cut's cost (Ogg: pages a cut walks), as the request's budget is
// (byte_source.h): OverBudget.
[[noreturn]] void refuse_over_budget(std::string detail);
// The start is at or past the end of the audio.
[[noreturn]] void refuse_past_end();

// make()'s cut, or the Cut of the Refusal it threw, or an OverBudget cut when it spent the
// request's budget (byte_source.h). The one place a verdict's scope is decided (Cut::whole_file):
// a malformed or unsupported file is refused whatever the span, and so is one over the budget of
// steps (the file's tables); past the end, the formats' caps, reads and bytes depend on START.
template <typename Make>
Cut as_cut(Make&& make)
{
    Cut cut;
    try {
        return std::forward<Make>(make)();
    }
    catch (const Refusal& r) {
        cut.status = r.status;
        cut.detail = r.detail;
        cut.whole_file = r.status == Cut::Status::Malformed || r.status == Cut::Status::Unsupported;
    }
    catch (const BudgetSpent& b) {
        cut.status = Cut::Status::OverBudget;
        cut.detail = b.detail;
        cut.whole_file = b.whole_file;
    }
    return cut;
}

// Runs run() for its verdict, as as_cut makes a cut: status Ok, or the status and detail of the
// Refusal it threw or the budget it spent.
template <typename Run>
Cut verdict_of(Run&& run)
{
    return as_cut([&] {
        std::forward<Run>(run)();
        Cut ok;
        ok.status = Cut::Status::Ok;
        return ok;
    });
}

// A T with a status and a detail (AudioTrack, PacketRun) filled by read(T&), its status Ok, or
// an empty T of the status and detail of the Refusal read() threw or the budget it spent.
template <typename T, typename Read>
T read_judged(Read&& read)
{
    T out;
    const Cut verdict = verdict_of([&] { std::forward<Read>(read)(out); });
    if (verdict.status != Cut::Status::Ok) {
        out = T{};  // nothing of what was read before the refusal
    }
    // A stream with no audio at all (the readers' PastEnd) has no packets: malformed here.
    const bool no_audio = verdict.status == Cut::Status::PastEnd;
    out.status = no_audio ? Cut::Status::Malformed : verdict.status;
    out.detail = no_audio ? "no audio packets" : verdict.detail;
    return out;
}

// Runs read(): false when it threw a Refusal or spent the budget (a layout of a file that does
// not parse is the whole file, of unknown duration).
template <typename Read>
bool parses(Read&& read)
{
    try {
        std::forward<Read>(read)();
        return true;
    }
    catch (const Refusal&) {
        return false;
    }
    catch (const BudgetSpent&) {
        return false;
    }
}

// floor(t * rate / 1e6): the sample that plays at time t. A negative t counts as 0; a product
// past 64 bits saturates (no file has that many samples, so the cut is past its end).
std::uint64_t sample_at(Micros t, std::uint32_t rate);

// ceil(t * rate / 1e6): how many samples start before time t, so a clip that ends at t keeps
// samples [.., samples_before(t)). Same policies as sample_at.
std::uint64_t samples_before(Micros t, std::uint32_t rate);

// floor(samples * 1e6 / rate): when sample `samples` plays. Saturates at the largest Micros (a
// damaged header may carry a count near 2^64); 0 when rate is 0.
Micros samples_to_micros(std::uint64_t samples, std::uint32_t rate);

// Unsigned integers of n bytes (n <= 8), big-endian (FLAC, MPEG, ID3) or little-endian (RIFF,
// Ogg). Callers check that the n bytes are there.
inline std::uint64_t be(const Byte* p, std::size_t n)
{
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v = v << 8 | p[i];
    }
    return v;
}

inline std::uint64_t le(const Byte* p, std::size_t n)
{
    std::uint64_t v = 0;
    for (std::size_t i = n; i > 0; --i) {
        v = v << 8 | p[i - 1];
    }
    return v;
}

inline std::uint16_t be16(const Byte* p) { return static_cast<std::uint16_t>(be(p, 2)); }
inline std::uint32_t be24(const Byte* p) { return static_cast<std::uint32_t>(be(p, 3)); }
inline std::uint32_t be32(const Byte* p) { return static_cast<std::uint32_t>(be(p, 4)); }
inline std::uint64_t be64(const Byte* p) { return be(p, 8); }
inline std::uint16_t le16(const Byte* p) { return static_cast<std::uint16_t>(le(p, 2)); }
inline std::uint32_t le32(const Byte* p) { return static_cast<std::uint32_t>(le(p, 4)); }
inline std::uint64_t le64(const Byte* p) { return le(p, 8); }

// ID3v2 §6.2: a 28-bit size in four bytes of 7 bits each, most significant first.
inline std::uint32_t syncsafe32(const Byte* p)
{
    return static_cast<std::uint32_t>((p[0] & 0x7Fu) << 21 | (p[1] & 0x7Fu) << 14 | (p[2] & 0x7Fu) << 7 |
                                      (p[3] & 0x7Fu));
}

// The low n bytes of v (n <= 8), in the same orders.
inline void put_be(Byte* p, std::size_t n, std::uint64_t v)
{
    for (std::size_t i = n; i > 0; --i) {
        p[i - 1] = static_cast<Byte>(v);
        v >>= 8;
    }
}

inline void put_le(Byte* p, std::size_t n, std::uint64_t v)
{
    for (std::size_t i = 0; i < n; ++i) {
        p[i] = static_cast<Byte>(v);
        v >>= 8;
    }
}

inline void put_be32(Byte* p, std::uint32_t v) { put_be(p, 4, v); }
inline void put_le32(Byte* p, std::uint32_t v) { put_le(p, 4, v); }

}  // namespace audio_stream

#endif
