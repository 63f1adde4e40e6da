#include "small_window.h"

namespace audio_stream {

bool read_into_memory(const Extents& body, Offset threshold)
{
    const Offset n = file_bytes(body);
    return threshold > 0 && n > 0 && n <= threshold;
}

}  // namespace audio_stream
