// An MP4 audio track as packets for HLS: its samples (AAC, ALAC, FLAC, AC-3, E-AC-3 access
// units), placed by the sample tables as a cut places them (tables.h), the first audio track's.
// Packets of one duration each (stts of one run, the last sample maybe shorter); a track of
// more is refused (Unsupported). The config is the track's own sample entry, copied into the
// init segment as the file has it; the codec name (RFC 6381) is read from it.
#include "../formats.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <utility>

#include "read.h"

namespace audio_stream {

namespace {

using mp4::Track;

// A sample entry of more is not an audio entry a player needs (the esds of an AAC track is
// tens of bytes).
constexpr Offset kMaxSampleEntry = 4096;

const Track& audio_track(const mp4::Movie& movie)
{
    const auto t = std::find_if(movie.tracks.begin(), movie.tracks.end(),
                                [](const Track& x) { return x.kind == mp4::Kind::Audio; });
    if (t == movie.tracks.end()) {
        refuse_unsupported("no audio track");  // read_movie refuses first
    }
    return *t;
}

// The first sample entry of the track's stsd, whole.
std::string sample_entry(mp4::BoxWalk& walk, const Track& t)
{
    const mp4::Box* stsd = mp4::BoxWalk::find(t.stbl_kids, "stsd");
    if (!stsd || stsd->payload_size() < 16) {
        refuse_malformed("no stsd");
    }
    const auto entry = mp4::box_at(walk.src(), stsd->payload + 8, stsd->end);
    if (!entry || entry->size() > kMaxSampleEntry || entry->size() < 36) {
        refuse_malformed("the sample entry does not fit its stsd, or is not an audio entry");
    }
    std::string bytes(static_cast<std::size_t>(entry->size()), '\0');
    if (!walk.src().read(entry->offset, bytes.data(), bytes.size())) {
        refuse_malformed("read error");
    }
    return bytes;
}

// A descriptor's tag and length (ISO/IEC 14496-1 §8.3.3: up to four 7-bit length bytes) at
// `at` of `b`; advances `at` past the header. Tag 0 when it does not fit.
std::pair<Byte, std::size_t> descriptor(const std::string& b, std::size_t& at)
{
    if (at + 2 > b.size()) {
        return {0, 0};
    }
    const Byte tag = static_cast<Byte>(b[at++]);
    std::size_t length = 0;
    for (int i = 0; i < 4 && at < b.size(); ++i) {
        const auto c = static_cast<Byte>(b[at++]);
        length = length << 7 | (c & 0x7F);
        if (!(c & 0x80)) {
            return {tag, length};
        }
    }
    return {0, 0};
}

// "mp4a.40.<audio object type>" for MPEG-4 audio (its AudioSpecificConfig's first 5 bits, or 6
// more past 31), "mp4a.<objectTypeIndication>" for another, from the entry's esds.
std::string mp4a_codecs(const std::string& entry)
{
    const std::size_t esds = entry.find("esds");
    std::size_t at = esds == std::string::npos ? entry.size() : esds + 8;  // after version and flags
    auto [tag, length] = descriptor(entry, at);
    if (tag != 0x03) {
        refuse_malformed("an mp4a entry without an ES descriptor");
    }
    const auto flags = at + 2 < entry.size() ? static_cast<Byte>(entry[at + 2]) : 0;
    at += 3 + ((flags & 0x80) ? 2 : 0);  // ES_ID, flags, dependsOn_ES_ID
    if (flags & 0x40) {                   // a URL: its length, then it
        at += 1 + (at < entry.size() ? static_cast<Byte>(entry[at]) : 0);
    }
    at += (flags & 0x20) ? 2 : 0;  // OCR_ES_Id
    std::tie(tag, length) = descriptor(entry, at);
    if (tag != 0x04 || at + 13 > entry.size()) {
        refuse_malformed("an mp4a entry without a decoder configuration");
    }
    const auto oti = static_cast<Byte>(entry[at]);
    char name[16];
    if (oti != 0x40) {
        std::snprintf(name, sizeof name, "mp4a.%02X", oti);
        return name;
    }
    at += 13;
    std::tie(tag, length) = descriptor(entry, at);
    if (tag != 0x05 || length < 1 || at + 2 > entry.size()) {
        refuse_malformed("an AAC entry without its AudioSpecificConfig");
    }
    unsigned aot = static_cast<Byte>(entry[at]) >> 3;
    if (aot == 31) {
        aot = 32 + ((static_cast<Byte>(entry[at]) & 7) << 3 | static_cast<Byte>(entry[at + 1]) >> 5);
    }
    std::snprintf(name, sizeof name, "mp4a.40.%u", aot);
    return name;
}

std::string codecs_of(const Track& t, const std::string& entry)
{
    const std::string codec(t.codec, 4);
    if (codec == "mp4a") {
        return mp4a_codecs(entry);
    }
    return codec == "alac" || codec == "fLaC" || codec == "ac-3" || codec == "ec-3" ? codec : "";
}

// The ticks every sample but the last plays: stts of one run, or of two whose second is the
// one last sample, no longer than the others.
std::uint64_t packet_ticks(const Track& t)
{
    const mp4::Runs& stts = t.stts;
    const bool one = stts.entries == 1;
    const bool last_shorter = stts.entries == 2 && stts.count(1) == 1 && stts.value(1) <= stts.value(0);
    if (!(one || last_shorter) || stts.value(0) == 0) {
        refuse_unsupported("samples of more than one duration");
    }
    return stts.value(0);
}

}  // namespace

AudioTrack track_mp4(ByteSource& src, IndexSource&)
{
    return read_judged<AudioTrack>([&](AudioTrack& out) {
        mp4::BoxWalk walk(src);
        const mp4::Movie movie = mp4::read_movie(walk);
        const Track& t = audio_track(movie);
        out.codec = AudioCodec::Mp4;
        out.config = sample_entry(walk, t);
        out.codecs = codecs_of(t, out.config);
        const auto* e = reinterpret_cast<const Byte*>(out.config.data());
        out.channels = be16(e + 24);
        out.bits = be16(e + 26);
        out.sample_rate = be32(e + 32) >> 16;
        out.rate = t.timescale;
        out.packet_samples = packet_ticks(t);
        out.packets = t.samples;
        out.total = t.ticks;
        // Every packet is at least a byte of the file: a table that claims more is a lie (a
        // few hundred bytes of stts, stsc and a fixed stsz can claim 2^32 samples).
        if (t.samples > src.size() || (t.stsz.fixed != 0 && t.samples * t.stsz.fixed > src.size())) {
            refuse_malformed("more samples than the file has bytes");
        }
        std::uint32_t largest = t.stsz.fixed;
        out.audio_bytes = std::uint64_t{t.stsz.fixed} * t.samples;
        mp4::SampleSizes sizes(src, t.stsz);
        for (std::uint64_t i = 0; t.stsz.fixed == 0 && i < t.samples; ++i) {
            const std::uint32_t size = sizes.size(i);
            out.audio_bytes += size;
            largest = std::max(largest, size);
        }
        out.peak_bitrate = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(std::uint64_t{largest} * 8 * out.rate / out.packet_samples, ~0u));
    });
}

PacketRun packets_mp4(ByteSource& src, IndexSource&, std::uint64_t first, std::uint64_t count)
{
    return read_judged<PacketRun>([&](PacketRun& out) {
        mp4::BoxWalk walk(src);
        const mp4::Movie movie = mp4::read_movie(walk);
        const Track& t = audio_track(movie);
        if (count == 0 || first + count > t.samples) {
            refuse_malformed("samples past the track");
        }
        mp4::SampleSizes sizes(src, t.stsz);
        const mp4::ChunkOf from = mp4::chunk_of(t.chunks, first);
        std::uint64_t sample = from.first_sample;
        for (mp4::ChunkCursor at(t.chunks, from.chunk); sample < first + count; at.next()) {
            Offset offset = t.chunks.offsets[at.chunk()];
            for (std::uint32_t i = 0; i < at.run().per_chunk && sample < first + count; ++i, ++sample) {
                const std::uint32_t size = sizes.size(sample);
                if (offset > src.size() || size > src.size() - offset) {
                    refuse_malformed("a sample runs past the end of the file");
                }
                if (sample >= first) {
                    append_file(out.data, offset, size);
                    out.sizes.push_back(size);
                }
                offset += size;
            }
        }
    });
}

}  // namespace audio_stream
