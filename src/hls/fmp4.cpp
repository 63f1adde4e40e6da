#include "fmp4.h"

#include <variant>

#include "../formats/flac/metadata.h"
#include "../formats/mp4/writer.h"
#include "../formats/toolbox.h"

namespace audio_stream::hls {
namespace {

using mp4::Writer;

// The one track of every stream we write.
constexpr std::uint32_t kTrackId = 1;
// ISO/IEC 14496-12 §8.8.7.1: the trun's data offset counts from the start of the moof, so a
// segment stands alone whatever precedes it on the wire.
constexpr std::uint32_t kDefaultBaseIsMoof = 0x020000;
// §8.8.8.1: the data offset, then a duration and a size for every sample.
constexpr std::uint32_t kTrunFlags = 0x000001 | 0x000100 | 0x000200;
constexpr std::uint64_t kMax32 = 0xFFFFFFFFu;

// The bytes of a writer given only memory to write.
std::string bytes_of(Writer& w)
{
    Extents out = w.take();
    return out.empty() ? std::string() : std::get<MemoryBlock>(out.front()).bytes;
}

// A box around what body() writes: its size is patched when body is done.
template <typename Body>
void box(Writer& w, const char* type, Body&& body)
{
    const Writer::Mark mark = w.open(type);
    body();
    w.close(mark);
}

// §4.2: a full box starts with 8 bits of version and 24 of flags.
template <typename Body>
void full_box(Writer& w, const char* type, std::uint8_t version, std::uint32_t flags, Body&& body)
{
    box(w, type, [&] {
        w.put32(std::uint32_t{version} << 24 | flags);
        body();
    });
}

// mvhd, tkhd and mdhd: version 1 widens times and duration to 64 bits, needed only past 2^32.
std::uint8_t time_version(std::uint64_t duration) { return duration > kMax32 ? 1 : 0; }

void put_time(Writer& w, std::uint8_t version, std::uint64_t v) { w.put(v, version == 1 ? 8 : 4); }

// Creation and modification times: 0, as a header made per request cannot date the file.
void put_dates(Writer& w, std::uint8_t version)
{
    put_time(w, version, 0);
    put_time(w, version, 0);
}

// §8.2.2, §8.3.2: the identity transform, 16.16 fixed point but for the 2.30 w column.
void put_unity_matrix(Writer& w)
{
    for (const std::uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) {
        w.put32(v);
    }
}

// §8.2.2. The movie's timescale is the track's, so both durations are one number.
void write_mvhd(Writer& w, const TrackConfig& t)
{
    const std::uint8_t v = time_version(t.duration);
    full_box(w, "mvhd", v, 0, [&] {
        put_dates(w, v);
        w.put32(t.timescale);
        put_time(w, v, t.duration);
        w.put32(0x00010000);  // rate 1.0
        w.put(0x0100, 2);     // volume 1.0
        w.put(0, 2);          // reserved
        w.put64(0);           // reserved
        put_unity_matrix(w);
        for (int i = 0; i < 6; ++i) {
            w.put32(0);  // pre_defined
        }
        w.put32(kTrackId + 1);  // next_track_ID
    });
}

// §8.3.2: enabled and in the movie (flags 1 | 2); an audio track has volume 1.0, no size.
void write_tkhd(Writer& w, const TrackConfig& t)
{
    const std::uint8_t v = time_version(t.duration);
    full_box(w, "tkhd", v, 0x000003, [&] {
        put_dates(w, v);
        w.put32(kTrackId);
        w.put32(0);  // reserved
        put_time(w, v, t.duration);
        w.put64(0);        // reserved
        w.put32(0);        // layer, alternate_group
        w.put(0x0100, 2);  // volume 1.0
        w.put(0, 2);       // reserved
        put_unity_matrix(w);
        w.put64(0);  // width, height
    });
}

// §8.4.2; the language is ISO 639-2 "und" (undetermined), three letters of 5 bits less 0x60.
void write_mdhd(Writer& w, const TrackConfig& t)
{
    const std::uint8_t v = time_version(t.duration);
    full_box(w, "mdhd", v, 0, [&] {
        put_dates(w, v);
        w.put32(t.timescale);
        put_time(w, v, t.duration);
        w.put(('u' - 0x60) << 10 | ('n' - 0x60) << 5 | ('d' - 0x60), 2);
        w.put(0, 2);  // pre_defined
    });
}

// §8.4.3: a sound track.
void write_hdlr(Writer& w)
{
    full_box(w, "hdlr", 0, 0, [&] {
        w.put32(0);  // pre_defined
        w.bytes("soun");
        w.put32(0);  // reserved
        w.put64(0);  // reserved
        w.bytes(std::string("SoundHandler", 13));  // null-terminated name
    });
}

// §8.5: one sample entry and no samples; in a fragmented file the samples are the trun's
// (§8.8.1), so the tables are present (they are mandatory) and empty.
void write_stbl(Writer& w, const TrackConfig& t)
{
    box(w, "stbl", [&] {
        full_box(w, "stsd", 0, 0, [&] {
            w.put32(1);  // entry_count
            w.bytes(t.sample_entry);
        });
        full_box(w, "stts", 0, 0, [&] { w.put32(0); });
        full_box(w, "stsc", 0, 0, [&] { w.put32(0); });
        full_box(w, "stsz", 0, 0, [&] { w.put64(0); });  // sample_size, sample_count
        full_box(w, "stco", 0, 0, [&] { w.put32(0); });
    });
}

// §8.4.5 smhd (centred balance), §8.7.2 dref: the data is in this file ('url ' flag 1).
void write_minf(Writer& w, const TrackConfig& t)
{
    box(w, "minf", [&] {
        full_box(w, "smhd", 0, 0, [&] { w.put32(0); });  // balance, reserved
        box(w, "dinf", [&] {
            full_box(w, "dref", 0, 0, [&] {
                w.put32(1);  // entry_count
                full_box(w, "url ", 0, 0x000001, [] {});
            });
        });
        write_stbl(w, t);
    });
}

// §8.8.3: samples of fragments use sample entry 1; their durations, sizes and flags are each
// fragment's to say, so the defaults are 0 (flags 0: every sample is a sync sample).
void write_mvex(Writer& w)
{
    box(w, "mvex", [&] {
        full_box(w, "trex", 0, 0, [&] {
            w.put32(kTrackId);
            w.put32(1);  // default_sample_description_index
            w.put32(0);  // default_sample_duration
            w.put32(0);  // default_sample_size
            w.put32(0);  // default_sample_flags
        });
    });
}

// §4.3: the CMAF brand (ISO/IEC 23000-19 §7.2) and iso6, whose tfdt and default-base-is-moof
// the fragments use; mp41 for players that know no newer brand.
void write_ftyp(Writer& w)
{
    box(w, "ftyp", [&] {
        w.bytes("iso6");
        w.put32(0);  // minor_version
        w.bytes("iso6cmfcmp41");
    });
}

// §8.8.8: one entry per sample; the data offset is patched once the moof's size is known.
Writer::Slot write_trun(Writer& w, const std::vector<Sample>& samples)
{
    Writer::Slot data_offset{};
    full_box(w, "trun", 0, kTrunFlags, [&] {
        w.put32(samples.size());
        data_offset = w.put(0, 4);
        for (const Sample& s : samples) {
            w.put32(s.duration);
            w.put32(s.size);
        }
    });
    return data_offset;
}

// The AudioSampleEntry's samplerate, 16.16 fixed point. A rate past 16 bits is halved until it
// fits ("Encapsulation of FLAC in ISO-BMFF" §3.3.1: 48000 for 96 and 192 kHz), or 65535 when
// halving stops dividing it evenly; the codec's own configuration tells the real rate.
std::uint32_t sample_rate_field(std::uint32_t rate)
{
    while (rate > 0xFFFF && rate % 2 == 0) {
        rate /= 2;
    }
    return (rate > 0xFFFF ? 0xFFFF : rate) << 16;
}

// ISO/IEC 14496-12 §12.2.3 AudioSampleEntry (version 0) around the codec's box.
std::string audio_sample_entry(const char* type, std::uint16_t channels, std::uint16_t sample_size,
                               std::uint32_t rate, const std::string& codec_box)
{
    Writer w;
    box(w, type, [&] {
        w.put(0, 6);  // reserved
        w.put(1, 2);  // data_reference_index: the dref's one entry
        w.put64(0);   // reserved
        w.put(channels, 2);
        w.put(sample_size, 2);
        w.put32(0);  // pre_defined, reserved
        w.put32(sample_rate_field(rate));
        w.bytes(codec_box);
    });
    return bytes_of(w);
}

// RFC 9639 §8.1: each block header is a last-block bit, 7 bits of type and 24 of length.
// dfLa wants STREAMINFO first and the last-block bit on the last block only.
std::string with_last_block_marked(std::string blocks)
{
    if (blocks.size() < 4 || (static_cast<Byte>(blocks[0]) & 0x7F) != flac::kStreamInfo) {
        refuse_malformed("dfLa: the metadata blocks do not start with STREAMINFO");
    }
    std::size_t at = 0;
    while (at < blocks.size()) {
        const Byte* p = reinterpret_cast<const Byte*>(blocks.data()) + at;
        if (blocks.size() - at < 4 || be24(p + 1) > blocks.size() - at - 4) {
            refuse_malformed("dfLa: a metadata block runs past the end of the blocks");
        }
        const std::size_t next = at + 4 + be24(p + 1);
        blocks[at] = static_cast<char>((p[0] & 0x7F) | (next == blocks.size() ? 0x80 : 0));
        at = next;
    }
    return blocks;
}

}  // namespace

std::string init_segment(const TrackConfig& track)
{
    Writer w;
    write_ftyp(w);
    box(w, "moov", [&] {
        write_mvhd(w, track);
        box(w, "trak", [&] {
            write_tkhd(w, track);
            box(w, "mdia", [&] {
                write_mdhd(w, track);
                write_hdlr(w);
                write_minf(w, track);
            });
        });
        write_mvex(w);
    });
    return bytes_of(w);
}

std::string fragment_header(std::uint32_t sequence, std::uint64_t decode_time, const std::vector<Sample>& samples)
{
    Writer w;
    Writer::Slot data_offset{};
    box(w, "moof", [&] {
        full_box(w, "mfhd", 0, 0, [&] { w.put32(sequence); });
        box(w, "traf", [&] {
            full_box(w, "tfhd", 0, kDefaultBaseIsMoof, [&] { w.put32(kTrackId); });
            full_box(w, "tfdt", 1, 0, [&] { w.put64(decode_time); });
            data_offset = write_trun(w, samples);
        });
    });
    std::uint64_t payload = 0;
    for (const Sample& s : samples) {
        payload += s.size;
    }
    // §4.2: a box past 4 GiB has size 1 and a 64-bit size after its type.
    const bool large = payload > kMax32 - 8;
    const std::uint64_t header = large ? 16 : 8;
    w.patch(data_offset, w.length() + header, 4);
    w.put32(large ? 1 : header + payload);
    w.bytes("mdat");
    if (large) {
        w.put64(header + payload);
    }
    return bytes_of(w);
}

std::string flac_sample_entry(std::uint16_t channels, std::uint32_t sample_rate, std::uint16_t bits,
                              const std::string& metadata_blocks)
{
    Writer w;
    full_box(w, "dfLa", 0, 0, [&] { w.bytes(with_last_block_marked(metadata_blocks)); });
    return audio_sample_entry("fLaC", channels, bits, sample_rate, bytes_of(w));
}

std::string opus_sample_entry(std::uint16_t channels, std::uint16_t pre_skip, std::uint32_t input_rate,
                              std::int16_t output_gain, std::uint8_t mapping_family,
                              const std::string& mapping_table)
{
    // RFC 7845 §5.1.1: family 0 is mono or stereo with no table; any other has stream count,
    // coupled count and one byte per channel.
    const std::size_t table = mapping_family == 0 ? 0 : 2u + channels;
    if (mapping_table.size() != table || channels == 0 || channels > 255 || (mapping_family == 0 && channels > 2)) {
        refuse_malformed("dOps: the channel mapping does not match the channels");
    }
    Writer w;
    box(w, "dOps", [&] {
        w.put(0, 1);  // Version
        w.put(channels, 1);
        w.put(pre_skip, 2);
        w.put32(input_rate);
        w.put(static_cast<std::uint16_t>(output_gain), 2);
        w.put(mapping_family, 1);
        w.bytes(mapping_table);
    });
    // The encapsulation spec: Opus always decodes at 48 kHz, whatever the input rate was.
    return audio_sample_entry("Opus", channels, 16, 48000, bytes_of(w));
}

}  // namespace audio_stream::hls
