#include "ts.h"

#include <algorithm>

#include "../formats/crc.h"

namespace audio_stream::hls {

namespace {

constexpr std::uint16_t kPmtPid = 0x1000;
constexpr std::uint16_t kAudioPid = 0x0100;
constexpr std::uint32_t kCrcPoly = 0x04C11DB7;  // CRC-32/MPEG-2: not reflected, from all ones
constexpr std::size_t kPesHeader = 14;          // start code, id, length, flags, PTS
constexpr std::size_t kMaxPesPayload = 65535 - (kPesHeader - 6);

void put(std::string& out, std::uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i) {
        out += static_cast<char>(v >> (8 * i) & 0xFF);
    }
}

// A section (table_id on) with its CRC-32, in one packet of `pid` after a pointer field.
std::string psi_packet(std::uint16_t pid, std::uint8_t cc, const std::string& section)
{
    std::string body = section;
    put(body, crc::update_bytes<std::uint32_t, kCrcPoly>(0xFFFFFFFFu, reinterpret_cast<const std::uint8_t*>(body.data()),
                                                         body.size()),
        4);
    std::string p;
    p += '\x47';
    put(p, 0x4000u | pid, 2);  // payload_unit_start
    p += static_cast<char>(0x10 | (cc & 0x0F));
    p += '\0';  // pointer_field
    p += body;
    p.resize(kTsPacket, '\xFF');
    return p;
}

// The PAT: program 1 at kPmtPid.
std::string pat(std::uint8_t cc)
{
    std::string s;
    s += '\0';                   // table_id
    put(s, 0xB000u | 13, 2);     // section_syntax_indicator, section_length
    put(s, 1, 2);                // transport_stream_id
    s += '\xC1';                 // version 0, current
    s += '\0';
    s += '\0';
    put(s, 1, 2);                // program_number
    put(s, 0xE000u | kPmtPid, 2);
    return psi_packet(0, cc, s);
}

// The PMT: one audio stream at kAudioPid, which carries the PCR too.
std::string pmt(std::uint8_t cc, std::uint8_t stream_type)
{
    std::string s;
    s += '\x02';                 // table_id
    put(s, 0xB000u | 18, 2);
    put(s, 1, 2);                // program_number
    s += '\xC1';
    s += '\0';
    s += '\0';
    put(s, 0xE000u | kAudioPid, 2);  // PCR_PID
    put(s, 0xF000u, 2);              // program_info_length 0
    s += static_cast<char>(stream_type);
    put(s, 0xE000u | kAudioPid, 2);
    put(s, 0xF000u, 2);              // ES_info_length 0
    return psi_packet(kPmtPid, cc, s);
}

// A PES packet's header for `payload` bytes presented at `pts` (90 kHz).
std::string pes_header(std::size_t payload, std::uint64_t pts)
{
    std::string h("\0\0\x01\xC0", 4);
    put(h, payload + kPesHeader - 6, 2);
    h += '\x80';  // '10', not scrambled, no priority or alignment flags
    h += '\x80';  // PTS only
    h += '\x05';
    h += static_cast<char>(0x21 | (pts >> 29 & 0x0E));
    put(h, (pts >> 14 & 0xFFFE) | 1, 2);
    put(h, (pts << 1 & 0xFFFE) | 1, 2);
    return h;
}

// Writes one PES as transport packets of kAudioPid, spread over at least `packets` of them
// (more than it needs pads the last ones with stuffing: how a segment's count is made a multiple
// of 16); the first carries the PCR when `pcr` is set. Returns the packets written.
class PesWriter {
public:
    PesWriter(std::string& out, std::uint8_t& cc) : out_(out), cc_(cc) {}

    static std::size_t packets_for(std::size_t bytes, bool pcr)
    {
        const std::size_t first = 184 - (pcr ? 8 : 0);
        return bytes <= first ? 1 : 1 + (bytes - first + 183) / 184;
    }

    void write(std::string_view pes, std::size_t packets, const std::uint64_t* pcr)
    {
        std::size_t at = 0;
        for (std::size_t i = 0; i < packets; ++i) {
            const std::size_t left_packets = packets - i;
            const std::size_t room = 184 - (i == 0 && pcr ? 8 : 0);
            // As much as fits, but leave at least a byte for every packet after this one.
            const std::size_t take = std::min(room, pes.size() - at - (left_packets - 1));
            packet(pes.substr(at, take), i == 0, i == 0 ? pcr : nullptr);
            at += take;
        }
    }

private:
    void packet(std::string_view payload, bool start, const std::uint64_t* pcr)
    {
        std::string p;
        p += '\x47';
        put(p, (start ? 0x4000u : 0u) | kAudioPid, 2);
        const std::size_t adaptation = 184 - payload.size();  // bytes of adaptation field, length byte included
        p += static_cast<char>((adaptation ? 0x30 : 0x10) | (cc_++ & 0x0F));
        if (adaptation) {
            p += static_cast<char>(adaptation - 1);
            if (adaptation > 1) {
                p += static_cast<char>(pcr ? 0x50 : 0x00);  // random access, PCR
                if (pcr) {
                    put(p, *pcr << 15 | 0x7E00, 6);  // base, 6 reserved bits, extension 0
                }
                p.resize(4 + adaptation, '\xFF');
            }
        }
        p += payload;
        out_ += p;
    }

    std::string& out_;
    std::uint8_t& cc_;
};

}  // namespace

std::string ts_segment(const TsAudio& audio, std::uint64_t sequence, std::uint64_t first_sample,
                       std::string_view frames, const std::vector<std::uint32_t>& sizes)
{
    // The PES packets: up to kTsFramesPerPes frames each, each its first frame's PTS.
    struct Pes {
        std::size_t offset, length;
        std::uint64_t pts;
    };
    std::vector<Pes> pes;
    std::size_t at = 0;
    for (std::size_t i = 0; i < sizes.size();) {
        Pes p{at, 0, (first_sample + i * audio.frame_samples) * 90000 / audio.rate & 0x1FFFFFFFFull};
        for (std::size_t n = 0; n < kTsFramesPerPes && i < sizes.size() && p.length + sizes[i] <= kMaxPesPayload; ++n) {
            p.length += sizes[i++];
        }
        if (p.length == 0) {
            p.length = sizes[i++];  // a frame larger than a PES: never (MP3 frames are under 3 KiB)
        }
        at += p.length;
        pes.push_back(p);
    }
    std::string out = pat(static_cast<std::uint8_t>(sequence)) + pmt(static_cast<std::uint8_t>(sequence), audio.stream_type);
    std::uint8_t cc = 0;
    PesWriter writer(out, cc);
    std::size_t written = 0;
    for (std::size_t k = 0; k < pes.size(); ++k) {
        const std::string bytes = pes_header(pes[k].length, pes[k].pts) + std::string(frames.substr(pes[k].offset, pes[k].length));
        std::size_t packets = PesWriter::packets_for(bytes.size(), k == 0);
        if (k + 1 == pes.size()) {
            packets += (16 - (written + packets) % 16) % 16;  // the next segment's counter starts at 0
            packets = std::min(packets, bytes.size());
        }
        writer.write(bytes, packets, k == 0 ? &pes[k].pts : nullptr);
        written += packets;
    }
    return out;
}

}  // namespace audio_stream::hls
