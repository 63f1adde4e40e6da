#include "delivery.h"

#include "../small_window.h"
#include "http_ssl.h"
#include "stats.h"

namespace audio_stream::apache {

namespace {

// HTTP/2: whether `plan`'s body goes from snapshots, its first slot taken in `d`: a body up to
// AudioStreamSnapshotSize in one (Content-Length is the sum of its extents, multipart framing
// included), a larger one of one file range, not counted, as a chain (snapshot_chain).
bool snapshot(request_rec* r, apr_file_t* fd, const Plan& plan, const DirConfig& conf, Delivery& d)
{
    const Offset size = snapshot_size(conf);
    if (plan.content_length <= size) {
        return take_snapshot(r, fd, plan.body_extents(), conf, d.snapshot);
    }
    // Download counting confirms what a client received window by window, each flushed before
    // the next; snapshots are handed on with no word of when they are written, so a counted
    // body goes in counted chunks instead.
    const FileExtent* range = single_file_range(plan.body_extents());
    if (!range || size == 0 || d.counter) {
        return false;
    }
    d.chain = snapshot_chain(*range, size);
    if (take_snapshot(r, fd, Extents{d.chain.windows.front()}, conf, d.snapshot)) {
        return true;
    }
    d.chain = SnapshotChain{};
    return false;
}

}  // namespace

const char* Delivery::name(const Plan& plan) const
{
    switch (body) {
    case Body::None: return "no body";
    case Body::Read: return "read";
    case Body::Snapshot:
        if (!chain.windows.empty()) {
            return "snapshots";
        }
        return snapshot.shared ? "shared snapshot" : "snapshot";
    case Body::Files: break;
    }
    if (file_bytes(plan.body_extents()) == 0) {
        return "no file bytes";
    }
    return transport == Transport::Http1 ? "sendfile" : "chunks";
}

Delivery decide_delivery(request_rec* r, apr_file_t* fd, const Plan& plan, const DirConfig& conf)
{
    Delivery d{};
    d.counter = stats_sent_counter(r);
    d.transport = r->connection->master            ? Delivery::Transport::Http2
                  : ap_ssl_conn_is_ssl(r->connection) ? Delivery::Transport::Http1Tls
                                                      : Delivery::Transport::Http1;
    if (r->header_only) {
        d.body = Delivery::Body::None;
    }
    else if (read_into_memory(plan.body_extents(), read_threshold(conf))) {
        d.body = Delivery::Body::Read;
    }
    else if (d.transport == Delivery::Transport::Http2 && file_bytes(plan.body_extents()) > 0 &&
             snapshot(r, fd, plan, conf, d)) {
        d.body = Delivery::Body::Snapshot;
    }
    else {
        d.body = Delivery::Body::Files;
    }
    d.window = d.counter && d.body == Delivery::Body::Files && plan.content_length > kCountedWindow ? kCountedWindow : 0;
    d.sliced = d.body == Delivery::Body::Files && (plan.body_extents().size() > kExtentsPerSlice || d.window > 0);
    return d;
}

}  // namespace audio_stream::apache
