#include "emit.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../file_read.h"
#include "log.h"

namespace audio_stream::apache {

namespace {

// Largest file bucket, as apr_brigade_insert_file makes them (offsets past 4 GiB are fine).
constexpr Offset kMaxFileBucket = Offset{1} << 30;

// HTTP/2: mod_http2 frames a file bucket by its length, then reads it; a file truncated in
// between makes it send frame headers as data. TLS: mod_ssl reads file buckets itself, from a
// mapping of the file (a truncated one raises SIGBUS) or by read. Over both, bodies too large for
// a snapshot are read here, in chunks, and a short read ends the response with an error bucket
// (as mod_proxy does when a backend breaks): the client sees a reset stream or a closed
// connection, never wrong bytes.
constexpr apr_size_t kReadChunk = 64 * 1024;
constexpr apr_off_t kPassEvery = 256 * 1024;
// pass_reading_files ended the response itself (logged, error bucket and EOS sent).
constexpr apr_status_t kStreamReset = APR_OS_START_USERERR + 1;

// HTTP/1.1 without sendfile (EnableSendfile Off, httpd's default): the core reads a file bucket
// by mapping it (EnableMMAP On), 4 MiB at a time, unless the bucket says not to. A file truncated
// under a mapping reads as zeros to the end of its last page, and writev sends those as body
// bytes; read() returns the short file instead, which the core takes as an error and closes the
// connection. So file buckets are never mapped, and are read this much at a time (a 64 KiB
// range in one read, not nine of the bucket's default 8000 bytes). Measured against mapping in
// alternating bench runs: random 64 KiB ranges 1.05 and 0.98 of core, mapped 1.00 and 0.92.
constexpr apr_size_t kFileBucketRead = 128 * 1024;

// Whichever way the core reads `b`, only true bytes of the file (see kFileBucketRead).
void never_map(apr_bucket* b)
{
#if APR_HAS_MMAP
    (void)apr_bucket_file_enable_mmap(b, 0);
#endif
    (void)apr_bucket_file_set_buf_size(b, kFileBucketRead);
}

// Turns extents [first, last) of a plan into buckets: file extents stay zero-copy (sendfile),
// memory blocks become transient buckets over the plan's own bytes (a filter that keeps one
// past the pass copies it, as transient buckets require), so the request pool does not grow
// with them. Every file bucket is a copy of one, so they share one refcounted file: mod_http2
// sets a file aside per shared file, and separate buckets on the same descriptor would be
// closed under each other (EBADF on multipart answers).
constexpr std::size_t kLargeBlock = 16 * 1024;

void append_extents(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const Extent* first,
                    const Extent* last)
{
    apr_bucket* file = nullptr;
    for (const Extent* it = first; it != last; ++it) {
        const auto* f = std::get_if<FileExtent>(it);
        if (!f) {
            const std::string& bytes = std::get<MemoryBlock>(*it).bytes;
            if (r->connection->master && bytes.size() > kLargeBlock) {
                // HTTP/2: mod_http2's beam would set a transient bucket aside (a copy of its
                // own) and hand the stream's connection the copy; a heap bucket made once is
                // handed on as it is.
                char* copy = static_cast<char*>(std::malloc(bytes.size()));
                if (copy) {
                    std::memcpy(copy, bytes.data(), bytes.size());
                    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(copy, bytes.size(), std::free, bb->bucket_alloc));
                    continue;
                }
            }
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(bytes.data(), bytes.size(),
                                                                      bb->bucket_alloc));
            continue;
        }
        for (Offset off = f->offset, left = f->length; left > 0;) {
            const Offset n = std::min(left, kMaxFileBucket);
            apr_bucket* b = nullptr;
            if (!file) {
                b = file = apr_bucket_file_create(fd, static_cast<apr_off_t>(off),
                                                  static_cast<apr_size_t>(n), r->pool, bb->bucket_alloc);
                never_map(file);
            }
            else {
                (void)apr_bucket_copy(file, &b);
                b->start = static_cast<apr_off_t>(off);
                b->length = static_cast<apr_size_t>(n);
            }
            APR_BRIGADE_INSERT_TAIL(bb, b);
            off += n;
            left -= n;
        }
    }
}

// The small-window path: every file extent read into a heap bucket of its own (together at
// most the read threshold), so that the core output filter writes headers and body in one
// writev. Reading happens before anything is sent: a short read (the file shrank after the
// stat whose size the headers promise) or a read error still becomes a clean 500.
apr_status_t append_extents_read(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd,
                                 const Extents& body)
{
    for (const auto& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            const auto len = static_cast<apr_size_t>(f->length);
            char* buf = static_cast<char*>(apr_bucket_alloc(len, bb->bucket_alloc));
            if (!buf) {
                return APR_ENOMEM;
            }
            const apr_status_t rv = read_exactly(fd, f->offset, buf, len);
            if (rv != APR_SUCCESS) {
                apr_bucket_free(buf);
                return rv;
            }
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(buf, len, apr_bucket_free, bb->bucket_alloc));
        }
        else {
            const std::string& bytes = std::get<MemoryBlock>(e).bytes;
            char* copy = static_cast<char*>(apr_pmemdup(r->pool, bytes.data(), bytes.size()));
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(copy, bytes.size(), r->pool, bb->bucket_alloc));
        }
    }
    return APR_SUCCESS;
}

// The file ended before `at`: one AS0040 line, then an error bucket and EOS, which make
// mod_http2 reset the stream and HTTP/1 close the connection.
apr_status_t reset_stream(request_rec* r, apr_bucket_brigade* out, apr_file_t* fd, apr_off_t at,
                          apr_status_t rv)
{
    apr_finfo_t now;
    const bool sized = apr_file_info_get(&now, APR_FINFO_SIZE, fd) == APR_SUCCESS;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv == APR_EOF ? APR_SUCCESS : rv, r,
                  "AS0040: %s shrank while being sent: it ends at byte %" APR_OFF_T_FMT
                  ", response aborted",
                  r->filename, sized ? now.size : at);
    APR_BRIGADE_INSERT_TAIL(out, ap_bucket_error_create(HTTP_BAD_GATEWAY, nullptr, r->pool, out->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(out->bucket_alloc));
    (void)ap_pass_brigade(r->output_filters, out);
    return kStreamReset;
}

// TLS and HTTP/2: passes `bb` with every file bucket replaced by the file's bytes, read in
// chunks and passed every kPassEvery bytes.
apr_status_t pass_reading_files(request_rec* r, apr_bucket_brigade* bb)
{
    apr_bucket_brigade* out = apr_brigade_create(r->pool, bb->bucket_alloc);
    apr_off_t held = 0;
    while (!APR_BRIGADE_EMPTY(bb)) {
        apr_bucket* b = APR_BRIGADE_FIRST(bb);
        if (!APR_BUCKET_IS_FILE(b)) {
            APR_BUCKET_REMOVE(b);
            APR_BRIGADE_INSERT_TAIL(out, b);
            continue;
        }
        apr_file_t* fd = static_cast<apr_bucket_file*>(b->data)->fd;
        apr_off_t at = b->start;
        for (apr_size_t left = b->length; left > 0;) {
            const apr_size_t n = std::min(left, kReadChunk);
            char* buf = static_cast<char*>(apr_bucket_alloc(n, bb->bucket_alloc));
            const apr_status_t rv = read_exactly(fd, static_cast<Offset>(at), buf, n);
            if (rv != APR_SUCCESS) {
                apr_bucket_free(buf);
                apr_brigade_cleanup(bb);
                return reset_stream(r, out, fd, at, rv);
            }
            APR_BRIGADE_INSERT_TAIL(out, apr_bucket_heap_create(buf, n, apr_bucket_free, out->bucket_alloc));
            at += static_cast<apr_off_t>(n);
            left -= n;
            held += static_cast<apr_off_t>(n);
            if (held >= kPassEvery) {
                const apr_status_t sent = ap_pass_brigade(r->output_filters, out);
                apr_brigade_cleanup(out);
                held = 0;
                if (sent != APR_SUCCESS) {
                    apr_brigade_cleanup(bb);
                    return sent;
                }
            }
        }
        apr_bucket_delete(b);
    }
    return ap_pass_brigade(r->output_filters, out);
}

// One brigade down the filter chain, as the transport needs it.
apr_status_t pass(request_rec* r, apr_bucket_brigade* bb, Delivery::Transport transport)
{
    return transport == Delivery::Transport::Http1 ? ap_pass_brigade(r->output_filters, bb)
                                                   : pass_reading_files(r, bb);
}

// Slices of at most kExtentsPerSlice extents and how.window bytes, each but the last flushed
// and, once written, counted.
apr_status_t pass_in_slices(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const Extents& body,
                            const Delivery& how)
{
    SliceCursor at;
    do {
        // Alive until its pass returns: its memory blocks are transient buckets. So the last
        // slice goes down with the EOS here, inside its scope.
        const Extents slice = next_slice(body, at, kExtentsPerSlice, how.window);
        append_extents(r, bb, fd, slice.data(), slice.data() + slice.size());
        if (at.done(body)) {
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
            return pass(r, bb, how.transport);
        }
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(bb->bucket_alloc));
        const apr_status_t rv = pass(r, bb, how.transport);
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (r->connection->aborted) {
            return APR_ECONNABORTED;
        }
        if (how.counter) {
            how.counter->confirmed += extents_length(slice);
        }
    } while (true);
}

// A body that could not be read before anything was sent: one AS0030 line and a 500.
int refuse_unreadable(request_rec* r, const Plan& plan, apr_status_t rv)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv == APR_EOF ? APR_SUCCESS : rv, r,
                  "AS0030: cannot read %" APR_UINT64_T_FMT " bytes of %s (%s)",
                  static_cast<apr_uint64_t>(file_bytes(plan.body_extents())), r->filename,
                  rv == APR_EOF ? "the file is shorter than its size said" : "read error");
    return HTTP_INTERNAL_SERVER_ERROR;
}

// The body of a Read delivery, or a 500 before anything was sent.
int emit_read(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const Plan& plan)
{
    const apr_status_t rv = append_extents_read(r, bb, fd, plan.body_extents());
    if (rv != APR_SUCCESS) {
        apr_brigade_cleanup(bb);
        return refuse_unreadable(r, plan, rv);
    }
    return OK;
}

// A snapshot of `body` as one file bucket on the snapshot's own descriptor (mod_http2 passes a
// file bucket to its connection thread by reference only when no other bucket shares the file,
// and closes it with the stream).
apr_status_t append_snapshot(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const Extents& body,
                             const Snapshot& s)
{
    apr_file_t* file = nullptr;
    if (const apr_status_t rv = open_snapshot(r, fd, body, s, &file); rv != APR_SUCCESS) {
        return rv;
    }
    apr_bucket* b = apr_bucket_file_create(file, 0, s.slot()->length, r->pool, bb->bucket_alloc);
    never_map(b);
    APR_BRIGADE_INSERT_TAIL(bb, b);
    return APR_SUCCESS;
}

// The body of a Snapshot delivery (a chain's first window), or a 500 before anything was sent
// when the file is shorter than the plan.
int emit_snapshot(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const Plan& plan, const Delivery& how)
{
    const apr_status_t rv = how.chain.windows.empty()
                                ? append_snapshot(r, bb, fd, plan.body_extents(), how.snapshot)
                                : append_snapshot(r, bb, fd, Extents{how.chain.windows.front()}, how.snapshot);
    if (rv != APR_SUCCESS) {
        return refuse_unreadable(r, plan, rv);
    }
    return OK;
}

// A chain (snapshot_chain): `bb` holds the headers' first window, passed now; each later
// window is read into a snapshot of its own and passed while mod_http2 sends the ones before;
// what follows the windows, or every window from the first one no slot is left for, is read
// in chunks. The file shrinking under a window resets the stream, as in chunks.
apr_status_t pass_chain(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const Delivery& how)
{
    FileExtent rest = how.chain.rest;
    for (std::size_t i = 1; i <= how.chain.windows.size(); ++i) {
        const apr_status_t sent = ap_pass_brigade(r->output_filters, bb);
        apr_brigade_cleanup(bb);
        if (sent != APR_SUCCESS) {
            return sent;
        }
        if (r->connection->aborted) {
            return APR_ECONNABORTED;
        }
        if (i == how.chain.windows.size()) {
            break;
        }
        const FileExtent& w = how.chain.windows[i];
        const Extents window{w};
        Snapshot s;
        if (!take_snapshot(r, fd, window, dir_config(r), s, true)) {
            rest = FileExtent{w.offset, how.chain.rest.offset + how.chain.rest.length - w.offset};
            break;
        }
        if (const apr_status_t rv = append_snapshot(r, bb, fd, window, s); rv != APR_SUCCESS) {
            return reset_stream(r, bb, fd, static_cast<apr_off_t>(w.offset), rv);
        }
    }
    if (rest.length > 0) {
        const Extent tail{rest};
        append_extents(r, bb, fd, &tail, &tail + 1);
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    return pass_reading_files(r, bb);
}

}  // namespace

int emit(request_rec* r, apr_file_t* fd, const Plan& plan, const Delivery& how)
{
    apr_bucket_brigade* bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (how.body == Delivery::Body::Read || how.body == Delivery::Body::Snapshot) {
        const int status = how.body == Delivery::Body::Read ? emit_read(r, bb, fd, plan)
                                                            : emit_snapshot(r, bb, fd, plan, how);
        if (status != OK) {
            return status;
        }
    }
    if (how.body == Delivery::Body::Files && how.transport == Delivery::Transport::Http1) {
        // The core writes file-bucket bodies after we return: only log_transaction can see a
        // file that shrank under them.
        remember_sent_file(r, file_end(plan.body_extents()));
    }
    apr_status_t rv;
    if (how.sliced) {
        rv = pass_in_slices(r, bb, fd, plan.body_extents(), how);
    }
    else if (!how.chain.windows.empty()) {
        rv = pass_chain(r, bb, fd, how);
    }
    else {
        if (how.body == Delivery::Body::Files) {
            const Extents& body = plan.body_extents();
            append_extents(r, bb, fd, body.data(), body.data() + body.size());
        }
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
        rv = how.body == Delivery::Body::Files ? pass(r, bb, how.transport) : ap_pass_brigade(r->output_filters, bb);
    }
    if (rv == APR_SUCCESS && how.counter) {
        how.counter->all_passed = true;
    }
    if (rv == APR_SUCCESS || rv == kStreamReset || r->connection->aborted) {
        return OK;  // a client that went away is not an error; a reset stream is logged
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "AS0011: sending %s failed", r->filename);
    return AP_FILTER_ERROR;
}

}  // namespace audio_stream::apache
