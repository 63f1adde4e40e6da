// Time in the core: a signed count of microseconds. The ?t= parser (time_param.h) yields it,
// the cutters (formats/) take it and report where a cut starts in it.
#ifndef AUDIO_STREAM_MICROS_H
#define AUDIO_STREAM_MICROS_H

#include <cstdint>

namespace audio_stream {

using Micros = std::int64_t;  // a time offset, microseconds

}  // namespace audio_stream

#endif
