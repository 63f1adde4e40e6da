// Exact reads from an open file, for the bodies read into memory (small_window.h) and for the
// cutters' ByteSource in the glue.
#ifndef AUDIO_STREAM_FILE_READ_H
#define AUDIO_STREAM_FILE_READ_H

#include <cstddef>

#include "apr_file_io.h"
#include "representation.h"

namespace audio_stream {

// Reads exactly `len` bytes at `offset` with pread (the file position is left alone, so the
// same descriptor may be shared). APR_SUCCESS; APR_EOF when the file ends first (it shrank
// after the stat whose size the response promises); else the read error.
apr_status_t read_exactly(apr_file_t* file, Offset offset, char* buf, std::size_t len);

}  // namespace audio_stream

#endif
