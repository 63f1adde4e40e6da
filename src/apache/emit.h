// A plan into buckets. How a body goes down is decided once per request (decide_delivery) and
// carried out in one place (emit): HTTP/1.x or HTTP/2, read into memory or sent as file
// buckets, in one pass or in slices.
#ifndef AUDIO_STREAM_APACHE_EMIT_H
#define AUDIO_STREAM_APACHE_EMIT_H

#include "glue.h"

#include "../response_plan.h"
#include "config.h"
#include "request_state.h"
#include "snapshot.h"

namespace audio_stream::apache {

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

// Sends the plan's body (headers are set by the caller) and ends the response: the handler's
// return value. A file that proves shorter than the plan needs never yields wrong bytes under
// the promised length: before anything is sent (read, snapshot) it is a 500 (AS0030); mid-body
// the response is cut short (HTTP/1: the connection closes, log.cpp says AS0041; HTTP/2:
// AS0040, the stream is reset).
int emit(request_rec* r, apr_file_t* fd, const Plan& plan, const Delivery& how);

}  // namespace audio_stream::apache

#endif
