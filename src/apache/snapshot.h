// HTTP/2 snapshots for one request (snapshot_pool.h): the slot, shared or free, taken and given
// back with r->pool; the body copied into it and published for other requests when the file
// proves settled; the descriptor that mod_http2 reads it through.
#ifndef AUDIO_STREAM_APACHE_SNAPSHOT_H
#define AUDIO_STREAM_APACHE_SNAPSHOT_H

#include "glue.h"

#include "../response_plan.h"
#include "../snapshot_pool.h"
#include "config.h"

namespace audio_stream::apache {

// A slot taken for a request and its reader descriptor, given back when r->pool goes.
struct SnapshotHold {
    SnapshotPool* pool;
    SnapshotPool::Slot* slot;
    int reader;  // an idle one share() gave, else -1 until the descriptor is made
};

struct Snapshot {
    SnapshotHold* hold = nullptr;  // on r->pool; none when no slot was taken
    SnapshotPool::Slot* slot() const { return hold ? hold->slot : nullptr; }
    bool shared = false;   // the slot already holds the body (another request's)
    bool publish = false;  // once filled, the slot may serve `key` to others
    SnapshotKey key;       // the file's state and the range, when the body may be shared
};

// A slot for `body` (a plan's body, or one window of it): one published under this very range
// of `fd` as it is now (shared; AudioStreamShareSnapshots, a body that is one range of the
// file), else a free one. False when the pool has none for it (every slot in use, or the page
// budget spent). A chain's later window (`later_window`) takes a free slot only from the half
// of the budget that snapshots in use leave: a few long streams must not hold every page.
bool take_snapshot(request_rec* r, apr_file_t* fd, const Extents& body, const DirConfig& conf, Snapshot& s,
                   bool later_window = false);

// The body in the slot (read from `fd` unless shared; then published when it may be and the
// file is unchanged since the key was taken), and a descriptor on the slot for mod_http2,
// given back to the pool with r->pool (SnapshotPool::take_reader). APR_EOF when the file is
// shorter than `body`; else the read error, or the error of making a descriptor.
apr_status_t open_snapshot(request_rec* r, apr_file_t* fd, const Extents& body, const Snapshot& s, apr_file_t** reader);

}  // namespace audio_stream::apache

#endif
