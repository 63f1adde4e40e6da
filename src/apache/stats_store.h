// The shared cache of download counting (stats_store.cpp), as the request side (stats.cpp)
// sees it: one call that records a listen.
#ifndef AUDIO_STREAM_APACHE_STATS_STORE_H
#define AUDIO_STREAM_APACHE_STATS_STORE_H

#include "glue.h"

#include "../stats/tally.h"

namespace audio_stream::apache {

// The verdict on `listen`, from the shared cache when there is one (alone in this child when it
// could not be made), and the cache's health noted.
stats::Verdict record_listen(request_rec* owner, const stats::Listen& listen);

}  // namespace audio_stream::apache

#endif
