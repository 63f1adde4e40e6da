#include "piece_window.h"

namespace audio_stream {

bool is_media_destination(std::string_view dest)
{
    return dest == "audio" || dest == "video";
}

Window apply_piece_window(ByteRange asked, bool open_ended, bool media_request,
                          const PiecePolicy& policy)
{
    if (policy.piece_size == 0 || asked.length() <= policy.piece_size) {
        return {asked, false};
    }
    // A closed range is an exact request (Safari fails on a shorter answer); browsers' media
    // elements ask bytes=a- and re-request from where a short window ended.
    if (policy.scope == PieceScope::Media && !(open_ended && media_request)) {
        return {asked, false};
    }
    // Exactly piece_size bytes: first .. first + piece - 1.
    return {{asked.first, asked.first + policy.piece_size - 1}, true};
}

}  // namespace audio_stream
