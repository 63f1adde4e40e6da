// child_init: what a child process makes once for all its threads.
#ifndef AUDIO_STREAM_APACHE_CHILD_H
#define AUDIO_STREAM_APACHE_CHILD_H

#include "glue.h"

namespace audio_stream::apache {

// The child's cut cache and snapshot pool, released with the child's pool. What cannot be
// made is logged once (AS0098) and done without.
void child_init(apr_pool_t* pchild, server_rec* s) noexcept;

}  // namespace audio_stream::apache

#endif
