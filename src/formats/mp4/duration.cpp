#include "duration.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace audio_stream::mp4 {

namespace {

constexpr std::uint32_t kWindowEntries = 4096;  // stts entries read at a time: 32 KiB

// The child of `type` of box `b`, if any.
std::optional<Box> child(BoxWalk& walk, const Box& b, const char* type)
{
    const std::vector<Box> kids = walk.children(b);
    const Box* found = BoxWalk::find(kids, type);
    return found ? std::optional<Box>(*found) : std::nullopt;
}

// The sum of stts's deltas (§8.6.1.2), read in windows; each entry a step of the budget.
std::uint64_t stts_ticks(ByteSource& src, const Box& stts)
{
    Byte h[8];
    if (stts.payload_size() < sizeof h || !src.read(stts.payload, h, sizeof h)) {
        refuse_malformed("stts is too short");
    }
    const std::uint32_t entries = be32(h + 4);
    if (entries > (stts.payload_size() - 8) / 8) {
        refuse_malformed("stts has more entries than bytes");
    }
    src.step(entries);
    unsigned __int128 ticks = 0;
    std::vector<Byte> window(std::size_t{8} * kWindowEntries);
    for (std::uint32_t i = 0; i < entries; i += kWindowEntries) {
        const std::uint32_t n = std::min(kWindowEntries, entries - i);
        if (!src.read(stts.payload + 8 + Offset{8} * i, window.data(), std::size_t{8} * n)) {
            refuse_malformed("read error in stts");
        }
        for (std::uint32_t k = 0; k < n; ++k) {
            ticks += static_cast<unsigned __int128>(be32(&window[8 * k])) * be32(&window[8 * k + 4]);
        }
    }
    return ticks > INT64_MAX ? INT64_MAX : static_cast<std::uint64_t>(ticks);
}

// The duration of `trak` if it is audio: its stts sum in its mdhd timescale.
std::optional<Micros> audio_track_duration(BoxWalk& walk, const Box& trak)
{
    const auto mdia = child(walk, trak, "mdia");
    if (!mdia) {
        return std::nullopt;
    }
    const std::vector<Box> kids = walk.children(*mdia);
    const Box* hdlr = BoxWalk::find(kids, "hdlr");
    const Box* mdhd = BoxWalk::find(kids, "mdhd");
    const Box* minf = BoxWalk::find(kids, "minf");
    if (!hdlr || !mdhd || !minf) {
        return std::nullopt;
    }
    const std::string handler = small_payload(walk, *hdlr, "hdlr");
    if (handler.size() < 12 || handler.compare(8, 4, "soun") != 0) {
        return std::nullopt;
    }
    const std::string m = small_payload(walk, *mdhd, "mdhd");
    const Reader r(m, "mdhd");
    const std::uint32_t timescale = r.u32(r.u8(0) == 1 ? 20 : 12);  // the duration after it is not read
    const auto stbl = child(walk, *minf, "stbl");
    const auto stts = stbl ? child(walk, *stbl, "stts") : std::nullopt;
    if (!stts || timescale == 0) {
        return Micros{0};
    }
    return samples_to_micros(stts_ticks(walk.src(), *stts), timescale);
}

}  // namespace

Micros audio_duration(ByteSource& src, const Box& moov)
{
    Micros duration = 0;
    parses([&] {
        BoxWalk walk(src);
        for (const Box& b : walk.children(moov)) {
            if (is(b, "trak")) {
                if (const auto d = audio_track_duration(walk, b)) {
                    duration = *d;
                    return;
                }
            }
        }
    });
    return duration;
}

}  // namespace audio_stream::mp4
