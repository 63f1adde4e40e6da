// The piece window: how much of a single range one 206 carries.
#ifndef AUDIO_STREAM_PIECE_WINDOW_H
#define AUDIO_STREAM_PIECE_WINDOW_H

#include <string_view>

#include "byte_range.h"

namespace audio_stream {

enum class PieceScope {
    Media,  // cap only open-ended ranges (bytes=a-) asked by media elements
    All,    // cap every single-range answer, whatever the client
};

struct PiecePolicy {
    Offset piece_size;  // 0: no cap
    PieceScope scope;
};

struct Window {
    ByteRange range;
    bool capped;
};

// Sec-Fetch-Dest values sent by <audio> and <video> elements (Fetch spec, "destination").
bool is_media_destination(std::string_view sec_fetch_dest);

// The window to send for `asked`. `open_ended`: the request was a single bytes=a- spec.
Window apply_piece_window(ByteRange asked, bool open_ended, bool media_request,
                          const PiecePolicy& policy);

}  // namespace audio_stream

#endif
