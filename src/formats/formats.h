// The formats' entry points: a table, one group per format folder, alike by design. Each is
// defined, with what its cuts, clips and layouts are, in <folder>/<folder>.cpp; each reads the
// file (read.h or its kin), locates a span in it (locate.h) and writes the cut (write.h).
// cut_for_type and layout_for_type (dispatch.h) choose one by media type.
//
// A cut_* function never throws a Refusal (each returns the Cut of its status); a layout_* is
// the whole file of unknown duration when the file does not parse. The MP3 and FLAC cutters
// take the file's seek index from `indexes`; their overloads without it make one for the cut
// alone (tests, fuzzers).
#ifndef AUDIO_STREAM_FORMATS_FORMATS_H
#define AUDIO_STREAM_FORMATS_FORMATS_H

#include "../audio_layout.h"
#include "../audio_track.h"
#include "../byte_source.h"
#include "../cache/seek_index.h"
#include "../cut.h"

namespace audio_stream {

// mp3/: MPEG-1/2/2.5 Layer III, CBR and VBR
Cut cut_mp3(ByteSource& src, const Span& span, IndexSource& indexes);
Cut cut_mp3(ByteSource& src, const Span& span);
AudioLayout layout_mp3(ByteSource& src);
// Its audio frames as packets (HLS): the track, and frames [first, first + count).
AudioTrack track_mp3(ByteSource& src, IndexSource& indexes);
PacketRun packets_mp3(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count);

// mp4/: MP4 audio (.m4a, .m4b, audio-only .mp4)
Cut cut_mp4(ByteSource& src, const Span& span);
AudioLayout layout_mp4(ByteSource& src);
// Its first audio track's samples as packets (HLS).
AudioTrack track_mp4(ByteSource& src, IndexSource& indexes);
PacketRun packets_mp4(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count);

// ogg/: Ogg Vorbis and Ogg Opus
Cut cut_ogg(ByteSource& src, const Span& span);
AudioLayout layout_ogg(ByteSource& src);
// An Ogg Opus stream's packets (HLS), from its page index; Vorbis and chained files have none.
AudioTrack track_ogg(ByteSource& src, IndexSource& indexes);
PacketRun packets_ogg(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count);

// flac/: native FLAC
Cut cut_flac(ByteSource& src, const Span& span, IndexSource& indexes);
Cut cut_flac(ByteSource& src, const Span& span);
AudioLayout layout_flac(ByteSource& src);
// Its frames as packets (HLS), from its seek index: a fixed-blocksize stream's.
AudioTrack track_flac(ByteSource& src, IndexSource& indexes);
PacketRun packets_flac(ByteSource& src, IndexSource& indexes, std::uint64_t first, std::uint64_t count);

// wav/: RIFF/WAVE, PCM and IEEE float
Cut cut_wav(ByteSource& src, const Span& span);
AudioLayout layout_wav(ByteSource& src);

}  // namespace audio_stream

#endif
