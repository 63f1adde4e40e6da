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

// The duration mvhd (§8.2.2) declares, 0 when it cannot be read, or its timescale or duration is
// 0 or "unknown" (all ones).
Micros mvhd_duration(ByteSource& src, const Box& mvhd)
{
    Byte p[32];
    const Offset n = mvhd.payload_size();
    if (n < 20 || !src.read(mvhd.payload, p, static_cast<std::size_t>(std::min<Offset>(n, sizeof p)))) {
        return 0;
    }
    const bool v1 = p[0] == 1;
    if (v1 && n < 32) {
        return 0;
    }
    const std::uint32_t timescale = be32(p + (v1 ? 20 : 12));
    const std::uint64_t duration = v1 ? be64(p + 24) : be32(p + 16);
    const bool unknown = v1 ? duration == ~std::uint64_t{0} : duration == 0xFFFFFFFFu;
    if (timescale == 0 || duration == 0 || unknown) {
        return 0;
    }
    return samples_to_micros(duration, timescale);
}

}  // namespace

Micros audio_duration(ByteSource& src, const Box& moov)
{
    Micros declared = 0;
    std::optional<Micros> played;
    parses([&] {
        BoxWalk walk(src);
        for (const Box& b : walk.children(moov)) {
            if (is(b, "mvhd") && declared == 0) {
                declared = mvhd_duration(src, b);
            }
            if (is(b, "trak") && !played) {
                played = audio_track_duration(walk, b);
            }
        }
    });
    // mvhd leaves out the encoder's priming samples, as players do (ffmpeg's AAC: 1024 samples
    // that stts counts): believed when it is shorter than what the samples play, never longer.
    const Micros d = played.value_or(0);
    return declared > 0 && d > 0 ? std::min(declared, d) : d;
}

}  // namespace audio_stream::mp4
