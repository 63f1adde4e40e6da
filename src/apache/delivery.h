// How a plan's body goes down on this request's connection, decided once per request
// (decide_delivery) and carried out by emit (emit.h): the transport, the body's way (none,
// read, snapshots, file buckets) and whether it goes in flushed slices.
#ifndef AUDIO_STREAM_APACHE_DELIVERY_H
#define AUDIO_STREAM_APACHE_DELIVERY_H

#include "glue.h"

#include "../response_plan.h"
#include "config.h"
#include "request_state.h"
#include "snapshot.h"

namespace audio_stream::apache {

// A plan of many extents (a FLAC or Ogg cut has two per frame or page) goes down in slices,
// each ended by a FLUSH so that the core writes it before the next is made: the request holds
// the buckets of at most kExtentsPerSlice extents, whatever the cut's length. The price: the
// worker thread writes to the client itself (no async write completion) for such bodies.
inline constexpr std::size_t kExtentsPerSlice = 512;

// Download counting needs the bytes a client that left early had received: larger bodies go
// down in windows of this size, each flushed (written) before the next, so that at log time
// all but the last window are known sent.
inline constexpr Offset kCountedWindow = 256 * 1024;

struct Delivery {
    enum class Transport {
        Http1,     // the core writes file buckets itself (sendfile or read, never mapped)
        Http1Tls,  // mod_ssl reads every body byte in user space
        Http2,     // mod_http2 frames body bytes in user space, on another thread
    };
    enum class Body {
        None,      // HEAD: headers only
        Read,      // the file bytes are read now and written with the headers (small windows)
        Snapshot,  // HTTP/2: the body copied into a private memory file (snapshot_pool.h),
                   // passed as one file bucket; bodies up to AudioStreamSnapshotSize, and
                   // larger bodies of one file range as a chain of them (chain)
        Files,     // HTTP/1: file buckets (sendfile or read); TLS and HTTP/2: the file read
                   // in chunks as it goes
    };
    Transport transport;
    Body body;
    bool sliced;  // Files with more extents than one brigade should hold, or counted in
                  // windows: flushed slices
    Offset window;  // download counting: at most this many bytes per slice, each counted in
                    // counter->confirmed once written (0: not counted)
    SentCount* counter;
    Snapshot snapshot;  // Snapshot: the slot and whether it is shared (a chain's first window)
    SnapshotChain chain;  // Snapshot of a larger body: its windows, then the rest (chunks)

    // For the AS0010 debug line: "no body", "read", "snapshot", "shared snapshot", "snapshots"
    // (a chain), "sendfile", "chunks" (TLS and HTTP/2 files read as they go) or "no file bytes".
    const char* name(const Plan& plan) const;
};

// How `plan` goes down on this request's connection. A snapshot's slot is taken here (and
// given back when r->pool goes): a published one holding this very range of `fd` as it is now,
// else a free one; with every slot in use the body is read in chunks instead.
Delivery decide_delivery(request_rec* r, apr_file_t* fd, const Plan& plan, const DirConfig& conf);

}  // namespace audio_stream::apache

#endif
