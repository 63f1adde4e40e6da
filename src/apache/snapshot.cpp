#include "snapshot.h"

#include "../memory_file.h"
#include "file_source.h"

namespace audio_stream::apache {

namespace {

// r->pool goes after mod_http2 has written everything the stream sent before it (its
// connection keeps the stream, and so the request, until a bucket queued after the stream's
// last DATA has passed the connection's output), so the slot and its reader are free once the
// request is. A pool cleanup, called by APR: an exception firewall (a slot not given back is
// only lost).
apr_status_t give_back_slot(void* hold_v) noexcept
{
    auto* hold = static_cast<SnapshotHold*>(hold_v);
    try {
        hold->pool->release(hold->slot, hold->reader);
    }
    catch (...) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

// `slot` (with `reader`, or -1), when not null, held in `s` and given back to `pool` when
// r->pool goes.
void hold_slot(request_rec* r, SnapshotPool* pool, SnapshotPool::Slot* slot, int reader, Snapshot& s)
{
    if (slot) {
        s.hold = static_cast<SnapshotHold*>(apr_palloc(r->pool, sizeof(SnapshotHold)));
        *s.hold = SnapshotHold{pool, slot, reader};
        apr_pool_cleanup_register(r->pool, s.hold, give_back_slot, apr_pool_cleanup_null);
    }
}

// A shared snapshot is only made of a file whose last change (its ctime) is at least this old.
// The kernel stamps times from a clock that moves in ticks, some filesystems to the second, so
// two writes close together can leave one ctime: bytes read between them must not be found
// again under it. Three seconds cover whole-second stamps and a tick of lag.
constexpr apr_time_t kSettled = apr_time_from_sec(3);

// What a snapshot of `body` would hold, when it can be shared (AudioStreamShareSnapshots, a
// body that is one range of the file: a 200, a single 206 or a window of either), with the
// file's identity (its ctime included) when it was made.
bool snapshot_key(apr_file_t* fd, const Extents& body, const DirConfig& conf, SnapshotKey& key)
{
    const FileExtent* f = single_file_range(body);
    apr_finfo_t now;
    if (!share_snapshots(conf) || !f || !file_state(fd, now)) {
        return false;
    }
    key = SnapshotKey{file_identity(now), f->offset, f->length};
    return true;
}

// Whether a snapshot of `fd` taken now may be shared: its last change is at least kSettled old,
// on a filesystem whose stamps prove it (timestamps_are_local).
bool settled(request_rec* r, apr_file_t* fd, const SnapshotKey& key)
{
    apr_os_file_t os_fd = -1;
    return r->request_time - key.file.ctime >= kSettled && apr_os_file_get(&os_fd, fd) == APR_SUCCESS &&
           timestamps_are_local(os_fd);
}

// Whether the file is still as `key` says, after its bytes were read.
bool unchanged(apr_file_t* fd, const SnapshotKey& key)
{
    apr_finfo_t now;
    return file_state(fd, now) && file_identity(now) == key.file;
}

// A descriptor of the slot's memory file for mod_http2, with a file offset of its own
// (mod_http2 seeks before each read), owned by the pool: apr_os_file_put registers no cleanup,
// nor does any pool mod_http2 sets the file aside into, and give_back_slot hands it back with
// the slot. Sendfile as the served file allows it (EnableSendfile).
apr_status_t open_slot(request_rec* r, apr_file_t* served, SnapshotPool& pool, SnapshotHold& hold, apr_file_t** file)
{
    const apr_int32_t flags = APR_FOPEN_READ | (apr_file_flags_get(served) & APR_FOPEN_SENDFILE_ENABLED);
    if (hold.reader < 0) {
        hold.reader = pool.take_reader(hold.slot);
        if (hold.reader < 0) {
            return APR_FROM_OS_ERROR(errno);
        }
    }
    apr_os_file_t reader = hold.reader;
    return apr_os_file_put(file, &reader, flags, r->pool);
}

}  // namespace

bool take_snapshot(request_rec* r, apr_file_t* fd, const Extents& body, const DirConfig& conf, Snapshot& s,
                   bool later_window)
{
    SnapshotPool* pool = snapshot_pool(r->server);
    if (!pool) {
        return false;
    }
    if (snapshot_key(fd, body, conf, s.key)) {
        int reader = -1;
        if (SnapshotPool::Slot* shared = pool->share(s.key, &reader)) {
            s.shared = true;
            hold_slot(r, pool, shared, reader, s);
            return true;
        }
        s.publish = settled(r, fd, s.key);
    }
    const std::size_t keep_free = later_window ? pool->max_bytes() / 2 : 0;
    hold_slot(r, pool, pool->acquire(static_cast<std::size_t>(extents_length(body)), keep_free), -1, s);
    return s.hold != nullptr;
}

apr_status_t open_snapshot(request_rec* r, apr_file_t* fd, const Extents& body, const Snapshot& s, apr_file_t** reader)
{
    SnapshotPool& pool = *snapshot_pool(r->server);
    if (!s.shared) {
        if (const apr_status_t rv = fill_snapshot(*s.slot(), fd, body); rv != APR_SUCCESS) {
            return rv;
        }
        if (s.publish && unchanged(fd, s.key)) {
            pool.publish(s.slot(), s.key);
        }
    }
    return open_slot(r, fd, pool, *s.hold, reader);
}

}  // namespace audio_stream::apache
