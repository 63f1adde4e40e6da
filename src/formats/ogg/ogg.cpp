// Time-seek cuts and clips of Ogg Vorbis and Ogg Opus files (RFC 3533, Vorbis I §A, RFC 7845).
#include "../formats.h"

#include <cstdint>

#include "chain.h"
#include "write.h"

namespace audio_stream {

// The header pages as they are, then the audio pages from a packet at or before START, each with
// its granule position rebased to the cut, its sequence number following the headers', the last
// one flagged end-of-stream, and its CRC recomputed from the old one (CRC linearity: the audio is
// never read). Each rewritten page header costs a small MemoryBlock and a FileExtent.
//
// Vorbis starts at a packet at least half a long block before START (decoders produce audio
// from the second packet on, as after any seek), and its granule positions are rebased to START:
// the first page's is then lower than the samples decoded from it, which tells decoders to
// discard those before START (Vorbis I §A.2), so the output starts at START. Opus starts at the
// packet 80 ms (RFC 7845 §4.6 pre-roll) before START, and the OpusHead pre-skip is set so that
// the output starts exactly at START.
//
// A clip (END set) ends with the page on which END's packet ends (the first packet that ends at
// or after END), cut after that packet and given END's granule position: decoders trim the last
// packet to it (Vorbis I §A.2, RFC 7845 §4.4), so the output ends at END's sample. A clip shorter
// than a packet may start up to a packet before START: Vorbis where its primed packet's output
// does, Opus where the packet holding START and END does (ffmpeg cancels what is left of the
// pre-skip on the packet that carries the end trim). END at or past the end (the last granule
// position, whatever pages without one follow it) is the cut from START. A clip reads what the
// cut from START reads but for the pages after END, and END's page; an Opus clip of 120 ms or
// less also walks the page headers from its start to END's page before writing does, and may
// search for its start again (within what the first search found): a page walk's cap
// (kMaxCutPages) bounds both walks.
//
// The codec is read from the first packet; other codecs and multiplexed streams are Malformed,
// a chained file (a link after the first, seen in the file's last kMaxPage bytes) Unsupported.
Cut cut_ogg(ByteSource& src, const Span& span)
{
    return as_cut([&] {
        ogg::Pages pages(src);
        const ogg::Stream s = ogg::read_stream(pages);
        ogg::refuse_chained(pages, s);
        return ogg::write_cut(pages, src, s, ogg::locate(pages, s, span));
    });
}

namespace {

// The floor: 4 kbit/s, below the lowest bitrate libopus and opusenc encode at (6 kbit/s) and
// libvorbis's lowest (about 8 kbit/s, 8 kHz mono at -q -1), with room for VBR pauses.
constexpr std::uint64_t kFloorBitrate = 4000;

// The longest a packet plays: Opus 120 ms (RFC 6716 §3.2.5), Vorbis half its long block (Vorbis
// I §1.3.2), of the first link for a chained file.
Micros longest_packet(const ogg::Stream& s)
{
    return s.opus ? 120'000 : samples_to_micros(static_cast<std::uint64_t>(s.header.long_block / 2), s.header.rate);
}

// Whether `audio` bytes can play for `duration`: a packet that plays is at least a byte and a
// lacing value, so they hold at most audio / 2 packets. Past that the last granule is a lie.
bool holds(const ogg::Stream& s, Offset audio, Micros duration)
{
    const auto most = static_cast<unsigned __int128>(audio / 2) * static_cast<std::uint64_t>(longest_packet(s));
    return static_cast<unsigned __int128>(duration) <= most;
}

}  // namespace

// The audio starts after the header pages; the duration is the last page's granule position
// (less the Opus pre-skip), found within the last kMaxPage bytes, 0 when none is or when the
// audio bytes cannot hold it; a chained file's is the sum of its links' (chain.h), unknown (0)
// when they cannot all be read.
AudioLayout layout_ogg(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        ogg::Pages pages(src);
        const ogg::Stream s = ogg::read_stream(pages);
        l.audio_start = s.audio_start;
        const Micros duration = ogg::chain_duration(pages, s).value_or(0);
        l.duration = holds(s, l.audio_end - l.audio_start, duration) ? duration : 0;
        l.floor_bitrate = kFloorBitrate;
    });
    return l;
}

}  // namespace audio_stream
