// Which cutter serves a media type.
#ifndef AUDIO_STREAM_FORMATS_DISPATCH_H
#define AUDIO_STREAM_FORMATS_DISPATCH_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "../audio_layout.h"
#include "../audio_track.h"
#include "../cut.h"
#include "../cache/seek_index.h"

namespace audio_stream {

// The cut of a file of `content_type` (parameters ignored) over `span`, or nullopt when no
// cutter knows the type. An Ok cut is named here, once for every format: its rep.etag_suffix
// is cut_etag_suffix(cut), so that two spans that make the same cut share one validator.
std::optional<Cut> cut_for_type(std::string_view content_type, ByteSource& src, const Span& span);
// The same, with the file's seek index from `indexes` (a child's cache), made there if absent.
std::optional<Cut> cut_for_type(std::string_view content_type, ByteSource& src, const Span& span,
                                IndexSource& indexes);

// The generation of the formats' writers: raised with every change that alters the bytes of a
// cut or clip of one file and span, so that a client that resumes a download across an upgrade
// (If-Range) never joins two writers' bytes under one validator. 1 was the writers before clips;
// 3 leaves out of Ogg cuts the pages of no packets and no granule position.
inline constexpr unsigned kCutGeneration = 3;

// What a cut appends to the file's ETag: "-c<generation>-t<start>" from where it really starts
// to the end of the audio, "-c<generation>-t<start>-<end>" for a clip, in microseconds.
std::string cut_etag_suffix(const Cut& cut);

// Where the audio of a file of `content_type` lies and how long it plays (formats' layout_*):
// for a type no parser knows, or a file that does not parse, the whole file with an unknown
// duration (so that a download is the whole file).
AudioLayout layout_for_type(std::string_view content_type, ByteSource& src);

// The file's audio as packets (HLS segments are runs of them), or nullopt when no packet reader
// knows the type; the track's status says whether this file has them (Unsupported: a codec
// with no HLS form, such as Vorbis).
std::optional<AudioTrack> track_for_type(std::string_view content_type, ByteSource& src, IndexSource& indexes);
// Packets [first, first + count) of the track, count >= 1.
PacketRun packets_for_type(std::string_view content_type, ByteSource& src, IndexSource& indexes,
                           std::uint64_t first, std::uint64_t count);

// True when cut_for_type knows the type.
bool can_cut_type(std::string_view content_type);

// Which format reads a file of `content_type`: the same number for every name of one format, 0
// for a type none reads. What a per-file cache keys by beside the file: one file served under
// two types (ForceType in one directory, another AddType in the next) is two different readings.
unsigned format_of_type(std::string_view content_type);

}  // namespace audio_stream

#endif
