// mod_audio_stream: Apache glue. Config and hooks here; the logic lives in src/.
#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "src/audio_types.h"
#include "src/byte_source.h"
#include "src/config_values.h"
#include "src/file_read.h"
#include "src/formats/cut_cache.h"
#include "src/formats/dispatch.h"
#include "src/if_range.h"
#include "src/piece_window.h"
#include "src/representation.h"
#include "src/response_plan.h"
#include "src/small_window.h"
#include "src/time_param.h"

#include "httpd.h"  // first: the other httpd headers depend on it
#include "apr_buckets.h"
#include "apr_strings.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

namespace as = audio_stream;

extern "C" {
extern module AP_MODULE_DECLARE_DATA audio_stream_module;
}
APLOG_USE_MODULE(audio_stream);

namespace {

constexpr const char* kHandlerName = "audio-stream";
constexpr as::Offset kDefaultPieceSize = as::Offset{8} << 20;
constexpr unsigned kDefaultMaxRanges = 200;
// Measured with bench/run (BENCHMARKS.md): reading wins 2.5x on tiny windows and ~10% at
// 16 KiB; at 64 KiB it is at par with 50 connections but 9% slower with 200 (colder copies),
// and at 128 KiB 35% more CPU.
constexpr as::Offset kDefaultReadThreshold = as::Offset{16} << 10;
constexpr std::size_t kCutCacheEntries = 256;
constexpr std::size_t kCutCacheBytes = std::size_t{16} << 20;

constexpr apr_int64_t kUnsetSize = -1;
constexpr int kUnsetScope = -1;
constexpr int kUnsetCount = -1;

struct audio_stream_dir_conf {
    apr_int64_t piece_size;
    int scope;       // as::PieceScope, or kUnsetScope
    int max_ranges;  // 0 = unlimited, or kUnsetCount
    int time_seek;   // 0/1, or kUnsetFlag
    apr_int64_t read_threshold;  // 0 = always sendfile, or kUnsetSize
};

constexpr int kUnsetFlag = -1;

// What a response sent by sendfile/mmap promised, kept for log_transaction: over HTTP/1.1 the
// core writes the file after the handler has returned, so only then can a shrunk file be seen.
// Not the descriptor: the core sets file buckets aside and closes it when done writing.
struct audio_stream_sent_file {
    apr_dev_t device;
    apr_ino_t inode;
    apr_off_t needed_end;  // one past the last file byte the body needs
};

// Per server: the child's cut cache. child_init makes one per child process and points every
// server's record at it (after the fork each child writes its own copy); its threads share it
// (the cache locks itself). Null when it could not be made: time seek then works uncached.
struct audio_stream_server_conf {
    as::CutCache* cut_cache;
};

void* audio_stream_create_server_conf(apr_pool_t* p, server_rec*)
{
    return apr_pcalloc(p, sizeof(audio_stream_server_conf));
}

as::CutCache* cut_cache_of(const server_rec* s)
{
    return static_cast<audio_stream_server_conf*>(ap_get_module_config(s->module_config, &audio_stream_module))
        ->cut_cache;
}

void* audio_stream_create_dir_conf(apr_pool_t* p, char*)
{
    auto* c = static_cast<audio_stream_dir_conf*>(apr_palloc(p, sizeof(audio_stream_dir_conf)));
    c->piece_size = kUnsetSize;
    c->scope = kUnsetScope;
    c->max_ranges = kUnsetCount;
    c->time_seek = kUnsetFlag;
    c->read_threshold = kUnsetSize;
    return c;
}

void* audio_stream_merge_dir_conf(apr_pool_t* p, void* base_v, void* add_v)
{
    const auto* base = static_cast<const audio_stream_dir_conf*>(base_v);
    const auto* add = static_cast<const audio_stream_dir_conf*>(add_v);
    auto* c = static_cast<audio_stream_dir_conf*>(apr_palloc(p, sizeof(audio_stream_dir_conf)));
    c->piece_size = add->piece_size != kUnsetSize ? add->piece_size : base->piece_size;
    c->scope = add->scope != kUnsetScope ? add->scope : base->scope;
    c->max_ranges = add->max_ranges != kUnsetCount ? add->max_ranges : base->max_ranges;
    c->time_seek = add->time_seek != kUnsetFlag ? add->time_seek : base->time_seek;
    c->read_threshold =
        add->read_threshold != kUnsetSize ? add->read_threshold : base->read_threshold;
    return c;
}

as::PiecePolicy piece_policy(const audio_stream_dir_conf* c)
{
    return {c->piece_size == kUnsetSize ? kDefaultPieceSize : static_cast<as::Offset>(c->piece_size),
            c->scope == kUnsetScope ? as::PieceScope::Media : static_cast<as::PieceScope>(c->scope)};
}

unsigned max_ranges(const audio_stream_dir_conf* c)
{
    return c->max_ranges == kUnsetCount ? kDefaultMaxRanges : static_cast<unsigned>(c->max_ranges);
}

const char* set_piece_size(cmd_parms* cmd, void* conf, const char* arg)
{
    const auto size = as::parse_size(arg);
    if (!size) {
        return apr_psprintf(cmd->pool,
                            "AudioStreamPieceSize: '%s' is not a size (use bytes or K/M/G, "
                            "at most 1024T; 0 disables the cap)",
                            arg);
    }
    static_cast<audio_stream_dir_conf*>(conf)->piece_size = static_cast<apr_int64_t>(*size);
    return nullptr;
}

as::Offset read_threshold(const audio_stream_dir_conf* c)
{
    return c->read_threshold == kUnsetSize ? kDefaultReadThreshold
                                           : static_cast<as::Offset>(c->read_threshold);
}

const char* set_read_threshold(cmd_parms* cmd, void* conf, const char* arg)
{
    const auto size = as::parse_read_threshold(arg);
    if (!size) {
        return apr_psprintf(cmd->pool,
                            "AudioStreamReadThreshold: '%s' is not a size (use bytes or K/M, "
                            "at most 16M; 0 always uses sendfile)",
                            arg);
    }
    static_cast<audio_stream_dir_conf*>(conf)->read_threshold = static_cast<apr_int64_t>(*size);
    return nullptr;
}

const char* set_piece_scope(cmd_parms* cmd, void* conf, const char* arg)
{
    const auto scope = as::parse_scope(arg);
    if (!scope) {
        return apr_psprintf(cmd->pool, "AudioStreamPieceScope: '%s' is not a scope (use media or all)",
                            arg);
    }
    static_cast<audio_stream_dir_conf*>(conf)->scope = static_cast<int>(*scope);
    return nullptr;
}

const char* set_max_ranges(cmd_parms* cmd, void* conf, const char* arg)
{
    const auto n = as::parse_max_ranges(arg);
    if (!n) {
        return apr_psprintf(cmd->pool,
                            "AudioStreamMaxRanges: '%s' is not a count (use 1 to 100000 or unlimited)",
                            arg);
    }
    static_cast<audio_stream_dir_conf*>(conf)->max_ranges = static_cast<int>(*n);
    return nullptr;
}

// TAKE1 rather than FLAG: httpd's FLAG message does not name the value it refused.
const char* set_time_seek(cmd_parms* cmd, void* conf, const char* arg)
{
    const bool on = ap_cstr_casecmp(arg, "on") == 0;
    if (!on && ap_cstr_casecmp(arg, "off") != 0) {
        return apr_psprintf(cmd->pool, "AudioStreamTimeSeek: '%s' is not On or Off", arg);
    }
    static_cast<audio_stream_dir_conf*>(conf)->time_seek = on ? 1 : 0;
    return nullptr;
}

// httpd declares cmd_func without a prototype for C++; one cast (via void(*)(), which GCC
// accepts as the generic function pointer), here.
#define AUDIO_STREAM_TAKE1(name, fn, help)                                               \
    AP_INIT_TAKE1(name, reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(fn)), nullptr, \
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO, help)

const command_rec audio_stream_cmds[] = {
    AUDIO_STREAM_TAKE1("AudioStreamPieceSize", set_piece_size,
                       "Largest 206 window in bytes (K/M/G suffix allowed); 0 = no cap"),
    AUDIO_STREAM_TAKE1("AudioStreamPieceScope", set_piece_scope,
                       "media (cap open-ended ranges of media elements) or all (cap every range)"),
    AUDIO_STREAM_TAKE1("AudioStreamMaxRanges", set_max_ranges,
                       "Most ranges honoured in one request (more: 200 whole file), or unlimited"),
    AUDIO_STREAM_TAKE1("AudioStreamReadThreshold", set_read_threshold,
                       "Answers with at most this many file bytes are read and written with "
                       "their headers instead of sent with sendfile (K/M suffix); 0 = always sendfile"),
    AUDIO_STREAM_TAKE1("AudioStreamTimeSeek", set_time_seek,
                       "On: ?t=SECONDS serves the file from that time on, as a file of its own"),
    {nullptr, {nullptr}, nullptr, 0, RAW_ARGS, nullptr},
};

// Largest file bucket, as apr_brigade_insert_file makes them (offsets past 4 GiB are fine).
constexpr as::Offset kMaxFileBucket = as::Offset{1} << 30;

// Turns extents [first, last) of a plan into buckets: file extents stay zero-copy (sendfile),
// memory blocks become transient buckets over the plan's own bytes (a filter that keeps one
// past the pass copies it, as transient buckets require), so the request pool does not grow
// with them. Every file bucket is a copy of one, so they share one refcounted file: mod_http2
// sets a file aside per shared file, and separate buckets on the same descriptor would be
// closed under each other (EBADF on multipart answers).
void append_extents(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd,
                    const as::Extent* first, const as::Extent* last)
{
    apr_bucket* file = nullptr;
    for (const as::Extent* it = first; it != last; ++it) {
        const as::Extent& e = *it;
        if (const auto* f = std::get_if<as::FileExtent>(&e)) {
            for (as::Offset off = f->offset, left = f->length; left > 0;) {
                const as::Offset n = left < kMaxFileBucket ? left : kMaxFileBucket;
                apr_bucket* b = nullptr;
                if (!file) {
                    b = file = apr_bucket_file_create(fd, static_cast<apr_off_t>(off),
                                                      static_cast<apr_size_t>(n), r->pool,
                                                      bb->bucket_alloc);
#if APR_HAS_MMAP
                    const auto* core = static_cast<const core_dir_config*>(
                        ap_get_core_module_config(r->per_dir_config));
                    if (core->enable_mmap == ENABLE_MMAP_OFF) {
                        (void)apr_bucket_file_enable_mmap(file, 0);
                    }
#endif
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
        else {
            const std::string& bytes = std::get<as::MemoryBlock>(e).bytes;
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(bytes.data(), bytes.size(),
                                                                      bb->bucket_alloc));
        }
    }
}

void append_extents(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd, const as::Extents& body)
{
    append_extents(r, bb, fd, body.data(), body.data() + body.size());
}

// The small-window path: every file extent read into a heap bucket of its own (together at
// most the read threshold), so that the core output filter writes headers and body in one
// writev. Reading happens before anything is sent: a short read (the file shrank after the
// stat whose size the headers promise) or a read error still becomes a clean 500.
apr_status_t append_extents_read(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd,
                                 const as::Extents& body)
{
    for (const auto& e : body) {
        if (const auto* f = std::get_if<as::FileExtent>(&e)) {
            const auto len = static_cast<apr_size_t>(f->length);
            char* buf = static_cast<char*>(apr_bucket_alloc(len, bb->bucket_alloc));
            if (!buf) {
                return APR_ENOMEM;
            }
            const apr_status_t rv = as::read_exactly(fd, f->offset, buf, len);
            if (rv != APR_SUCCESS) {
                apr_bucket_free(buf);
                return rv;
            }
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_heap_create(buf, len, apr_bucket_free,
                                                                 bb->bucket_alloc));
        }
        else {
            const std::string& bytes = std::get<as::MemoryBlock>(e).bytes;
            char* copy = static_cast<char*>(apr_pmemdup(r->pool, bytes.data(), bytes.size()));
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(copy, bytes.size(), r->pool,
                                                                 bb->bucket_alloc));
        }
    }
    return APR_SUCCESS;
}

// HTTP/2: mod_http2 frames a file bucket by its length, then reads it; a file truncated in
// between makes it send frame headers as data. On a secondary (HTTP/2) connection the file is
// read here instead, in chunks, and a short read ends the stream with an error bucket (as
// mod_proxy does when a backend breaks): the client sees a reset, never wrong bytes.
constexpr apr_size_t kReadChunk = 64 * 1024;
// pass_reading_files ended the stream itself (logged, error bucket and EOS sent).
constexpr apr_status_t kStreamReset = APR_OS_START_USERERR + 1;
constexpr apr_off_t kPassEvery = 256 * 1024;

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
            const apr_size_t n = left < kReadChunk ? left : kReadChunk;
            char* buf = static_cast<char*>(apr_bucket_alloc(n, bb->bucket_alloc));
            const apr_status_t rv = as::read_exactly(fd, static_cast<as::Offset>(at), buf, n);
            if (rv != APR_SUCCESS) {
                apr_bucket_free(buf);
                apr_finfo_t now;
                const bool sized = apr_file_info_get(&now, APR_FINFO_SIZE, fd) == APR_SUCCESS;
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv == APR_EOF ? APR_SUCCESS : rv, r,
                              "AS0040: %s shrank while being sent: it ends at byte %" APR_OFF_T_FMT
                              ", response aborted",
                              r->filename, sized ? now.size : at);
                apr_brigade_cleanup(bb);
                APR_BRIGADE_INSERT_TAIL(out, ap_bucket_error_create(HTTP_BAD_GATEWAY, nullptr,
                                                                     r->pool, out->bucket_alloc));
                APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(out->bucket_alloc));
                (void)ap_pass_brigade(r->output_filters, out);
                return kStreamReset;  // logged; the error bucket resets the stream
            }
            APR_BRIGADE_INSERT_TAIL(out, apr_bucket_heap_create(buf, n, apr_bucket_free,
                                                                 out->bucket_alloc));
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

// A plan of many extents (a FLAC or Ogg cut has two per frame or page) goes down in slices,
// each ended by a FLUSH so that the core writes it before the next is made: the request holds
// the buckets of at most kExtentsPerSlice extents, whatever the cut's length. The price: the
// worker thread writes to the client itself (no async write completion) for such bodies.
constexpr std::size_t kExtentsPerSlice = 512;

apr_status_t pass_in_slices(request_rec* r, apr_bucket_brigade* bb, apr_file_t* fd,
                            const as::Extents& body)
{
    for (std::size_t at = 0; at < body.size(); at += kExtentsPerSlice) {
        const std::size_t end = std::min(body.size(), at + kExtentsPerSlice);
        append_extents(r, bb, fd, body.data() + at, body.data() + end);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(bb->bucket_alloc));
        const apr_status_t rv = r->connection->master ? pass_reading_files(r, bb)
                                                      : ap_pass_brigade(r->output_filters, bb);
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (r->connection->aborted) {
            return APR_ECONNABORTED;
        }
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    return r->connection->master ? pass_reading_files(r, bb) : ap_pass_brigade(r->output_filters, bb);
}

// The format parsers read the file through this.
class AprFileSource final : public as::ByteSource {
public:
    AprFileSource(apr_file_t* fd, as::Offset size) : fd_(fd), size_(size) {}
    as::Offset size() const override { return size_; }
    bool read(as::Offset offset, void* buf, std::size_t len) override
    {
        return as::read_exactly(fd_, offset, static_cast<char*>(buf), len) == APR_SUCCESS;
    }

private:
    apr_file_t* fd_;
    as::Offset size_;
};

// The cut of this file at t, from the child's cache (cached = true) or made now. nullptr for
// a type no cutter knows.
std::shared_ptr<const as::Cut> find_cut(request_rec* r, apr_file_t* fd, as::Micros t, bool& cached)
{
    const as::FileIdentity id{static_cast<std::uint64_t>(r->finfo.device),
                              static_cast<std::uint64_t>(r->finfo.inode),
                              static_cast<std::uint64_t>(r->finfo.size),
                              static_cast<std::int64_t>(r->finfo.mtime)};
    as::CutCache* const cut_cache = cut_cache_of(r->server);
    if (cut_cache) {
        if (auto hit = cut_cache->find(id, t)) {
            cached = true;
            return hit;
        }
    }
    AprFileSource src(fd, static_cast<as::Offset>(r->finfo.size));
    auto made = as::cut_for_type(r->content_type, src, t);
    if (!made) {
        return nullptr;
    }
    auto cut = std::make_shared<const as::Cut>(std::move(*made));
    if (cut_cache && cut->status == as::Cut::Status::Ok) {
        cut_cache->insert(id, t, cut);
    }
    return cut;
}

int send_options(request_rec* r)
{
    apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS");
    ap_set_content_length(r, 0);
    apr_bucket_brigade* bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS || r->connection->aborted
               ? OK
               : AP_FILTER_ERROR;
}

int serve(request_rec* r)
{
    // The 405 error page builds its Allow header from allowed_methods (HEAD comes with GET).
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, M_OPTIONS, -1);
    int status = ap_discard_request_body(r);
    if (status != OK) {
        return status;
    }
    if (r->method_number == M_OPTIONS) {
        return send_options(r);
    }
    if (r->method_number != M_GET) {  // HEAD is M_GET with r->header_only
        return HTTP_METHOD_NOT_ALLOWED;
    }
    // The same answers as the core handler for what is not a file.
    if (r->finfo.filetype == APR_NOFILE) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0001: file does not exist: %s", r->filename);
        return HTTP_NOT_FOUND;
    }
    if (r->finfo.filetype == APR_DIR) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0002: not serving a directory: %s",
                      r->filename);
        return HTTP_NOT_FOUND;
    }
    if (r->used_path_info != AP_REQ_ACCEPT_PATH_INFO && r->path_info && *r->path_info) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0003: file does not exist: %s%s",
                      r->filename, r->path_info);
        return HTTP_NOT_FOUND;
    }
    if (r->finfo.filetype != APR_REG) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0004: not a regular file: %s", r->filename);
        return HTTP_FORBIDDEN;
    }

    core_dir_config* core = static_cast<core_dir_config*>(ap_get_core_module_config(r->per_dir_config));
    apr_file_t* fd = nullptr;
    apr_int32_t flags = APR_READ | APR_BINARY;
#if APR_HAS_SENDFILE
    if (core->enable_sendfile != ENABLE_SENDFILE_OFF) {
        flags |= APR_SENDFILE_ENABLED;
    }
#endif
    apr_status_t rv = apr_file_open(&fd, r->filename, flags, 0, r->pool);
    if (rv != APR_SUCCESS) {
        const bool gone = APR_STATUS_IS_ENOENT(rv);
        ap_log_rerror(APLOG_MARK, gone ? APLOG_INFO : APLOG_ERR, rv, r, "AS0005: cannot open %s",
                      r->filename);
        return gone ? HTTP_NOT_FOUND : HTTP_FORBIDDEN;
    }

    // Validators and type, by Apache's own rules (FileETag, mod_mime).
    ap_update_mtime(r, r->finfo.mtime);
    ap_set_last_modified(r);
    ap_set_etag_fd(r, fd);
    if (!r->content_type) {
        const std::string_view type = as::audio_type_for_path(r->filename);
        ap_set_content_type(r, apr_pstrmemdup(r->pool, type.data(), type.size()));
    }
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");

    const auto* conf = static_cast<const audio_stream_dir_conf*>(
        ap_get_module_config(r->per_dir_config, &audio_stream_module));
    // ?t= asks for the file from a time on: a representation of its own (RFC 9110 §3.2).
    std::shared_ptr<const as::Cut> cut;
    const as::QueryParam t_param =
        conf->time_seek != 0 && r->args ? as::query_param(r->args, "t") : as::QueryParam{};
    if (t_param.present) {
        const auto t = t_param.malformed ? std::nullopt : as::parse_time(t_param.value);
        if (!t) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0020: malformed time in ?t=: %s",
                          r->args);
            apr_file_close(fd);
            return HTTP_BAD_REQUEST;
        }
        bool cached = false;
        cut = find_cut(r, fd, *t, cached);
        if (!cut) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "AS0021: no time seek for %s files: %s", r->content_type, r->filename);
            apr_file_close(fd);
            return HTTP_NOT_IMPLEMENTED;
        }
        if (cut->status == as::Cut::Status::PastEnd) {
            // No cut exists, so there is no length to put in a Content-Range.
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AS0022: ?t=%s is past the end of %s",
                          t_param.value.c_str(), r->filename);
            apr_file_close(fd);
            return HTTP_RANGE_NOT_SATISFIABLE;
        }
        if (cut->status != as::Cut::Status::Ok) {
            // The request is fine; the file is not what its type says: the server's fault.
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0023: cannot cut %s at %s: %s",
                          r->filename, t_param.value.c_str(), cut->detail.c_str());
            apr_file_close(fd);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "AS0024: ?t=%s -> cut from %" APR_INT64_T_FMT " us, %" APR_UINT64_T_FMT
                      " bytes (%s)",
                      t_param.value.c_str(), static_cast<apr_int64_t>(cut->start),
                      static_cast<apr_uint64_t>(cut->rep.length), cached ? "cached" : "made");
        if (const char* file_etag = apr_table_get(r->headers_out, "ETag")) {
            apr_table_set(r->headers_out, "ETag",
                          as::suffixed_etag(file_etag, cut->rep.etag_suffix).c_str());
        }
    }

    // We answer ranges ourselves; the byterange filter must not answer them again.
    ap_remove_output_filter_byhandle(r->output_filters, "BYTERANGE");

    status = ap_meets_conditions(r);
    if (status != OK) {
        apr_file_close(fd);
        return status;
    }

    const char* range = apr_table_get(r->headers_in, "Range");
    const char* if_range = range ? apr_table_get(r->headers_in, "If-Range") : nullptr;
    const char* etag = apr_table_get(r->headers_out, "ETag");
    bool honour_range = range != nullptr;
    if (honour_range && if_range) {
        honour_range = as::if_range_matches(if_range, etag ? etag : "",
                                            apr_time_sec(r->mtime), apr_time_sec(r->request_time));
    }
    const char* dest = apr_table_get(r->headers_in, "Sec-Fetch-Dest");

    const as::Representation file = cut ? as::Representation{} : as::whole_file(static_cast<as::Offset>(r->finfo.size));
    as::PlanRequest request{};
    request.representation = cut ? &cut->rep : &file;
    request.range = honour_range ? range : "";
    request.media_request = dest && as::is_media_destination(dest);
    request.piece = piece_policy(conf);
    request.max_ranges = max_ranges(conf);
    request.content_type = r->content_type;
    request.boundary_seed = etag ? etag : r->filename;
    const as::Plan plan = as::plan_response(request);

    const bool read_body = !r->header_only && as::read_into_memory(plan.body, read_threshold(conf));
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AS0010: range '%s'%s%s -> %d %s (%" APR_UINT64_T_FMT " bytes, %s) %s",
                  range ? range : "", if_range && !honour_range ? " (If-Range failed)" : "",
                  request.media_request ? " media" : "", plan.status,
                  plan.content_range.empty() ? "-" : plan.content_range.c_str(),
                  static_cast<apr_uint64_t>(plan.content_length), plan.note.c_str(),
                  r->header_only                ? "no body"
                  : read_body                   ? "read"
                  : as::file_bytes(plan.body) > 0 ? "sendfile"
                                                : "no file bytes");

    if (plan.status == HTTP_RANGE_NOT_SATISFIABLE) {
        // The error response replaces headers_out with err_headers_out.
        apr_table_setn(r->err_headers_out, "Content-Range",
                       apr_pstrdup(r->pool, plan.content_range.c_str()));
        apr_file_close(fd);
        return HTTP_RANGE_NOT_SATISFIABLE;
    }
    r->status = plan.status;
    if (!plan.content_range.empty()) {
        apr_table_setn(r->headers_out, "Content-Range", apr_pstrdup(r->pool, plan.content_range.c_str()));
    }
    if (!plan.content_type.empty()) {
        ap_set_content_type(r, apr_pstrdup(r->pool, plan.content_type.c_str()));
    }
    ap_set_content_length(r, static_cast<apr_off_t>(plan.content_length));

    apr_bucket_brigade* bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    const bool sliced = !read_body && !r->header_only && plan.body.size() > kExtentsPerSlice;
    if (read_body) {
        rv = append_extents_read(r, bb, fd, plan.body);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AS0030: cannot read %" APR_UINT64_T_FMT " bytes of %s (%s)",
                          static_cast<apr_uint64_t>(as::file_bytes(plan.body)), r->filename,
                          rv == APR_EOF ? "the file is shorter than its size said" : "read error");
            apr_brigade_cleanup(bb);
            apr_file_close(fd);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_file_close(fd);  // no bucket refers to it
    }
    else if (!r->header_only) {
        if (!sliced) {
            append_extents(r, bb, fd, plan.body);
        }
        if (!r->connection->master) {
            auto* sent = static_cast<audio_stream_sent_file*>(apr_palloc(r->pool, sizeof(audio_stream_sent_file)));
            sent->device = r->finfo.device;
            sent->inode = r->finfo.inode;
            sent->needed_end = static_cast<apr_off_t>(as::file_end(plan.body));
            ap_set_module_config(r->request_config, &audio_stream_module, sent);
        }
    }
    if (sliced) {
        rv = pass_in_slices(r, bb, fd, plan.body);
    }
    else {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
        rv = r->connection->master ? pass_reading_files(r, bb)
                                   : ap_pass_brigade(r->output_filters, bb);
    }
    if (rv == APR_SUCCESS || rv == kStreamReset || r->connection->aborted) {
        return OK;  // a client that went away is not an error; a reset stream is logged
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "AS0011: sending %s failed", r->filename);
    return AP_FILTER_ERROR;
}

// Exception firewall: nothing C++ crosses into httpd.
int audio_stream_handler(request_rec* r)
{
    if (!r->handler || std::strcmp(r->handler, kHandlerName) != 0) {
        return DECLINED;
    }
    try {
        return serve(r);
    }
    catch (const std::exception& e) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0099: internal error: %s", e.what());
    }
    catch (...) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0099: internal error");
    }
    return HTTP_INTERNAL_SERVER_ERROR;
}

void set_cut_cache(server_rec* main, as::CutCache* cache)
{
    for (server_rec* s = main; s; s = s->next) {
        static_cast<audio_stream_server_conf*>(ap_get_module_config(s->module_config, &audio_stream_module))
            ->cut_cache = cache;
    }
}

apr_status_t audio_stream_drop_cache(void* main_v)
{
    auto* main = static_cast<server_rec*>(main_v);
    as::CutCache* cache = cut_cache_of(main);
    set_cut_cache(main, nullptr);
    delete cache;
    return APR_SUCCESS;
}

void audio_stream_child_init(apr_pool_t* pchild, server_rec* s)
{
    try {
        set_cut_cache(s, new as::CutCache(kCutCacheEntries, kCutCacheBytes));
        apr_pool_cleanup_register(pchild, s, audio_stream_drop_cache, apr_pool_cleanup_null);
    }
    catch (const std::exception& e) {
        // Time seek still works, uncached.
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no cut cache: %s", e.what());
    }
}

// A connection closed before a sendfile/mmap body was all sent: if the file (the same one, by
// device and inode) shrank under it, say so once, since the core closes silently. Only
// aborted requests pay for the stat.
int audio_stream_log_transaction(request_rec* r)
{
    const auto* sent = static_cast<const audio_stream_sent_file*>(
        ap_get_module_config(r->request_config, &audio_stream_module));
    if (!sent || !r->connection->aborted) {
        return DECLINED;
    }
    apr_finfo_t now;
    const apr_int32_t wanted = APR_FINFO_SIZE | APR_FINFO_DEV | APR_FINFO_INODE;
    if (apr_stat(&now, r->filename, wanted, r->pool) == APR_SUCCESS &&
        now.device == sent->device && now.inode == sent->inode && now.size < sent->needed_end) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AS0041: %s shrank while being sent: it ends at byte %" APR_OFF_T_FMT
                      ", the response needed %" APR_OFF_T_FMT "; connection closed",
                      r->filename, now.size, sent->needed_end);
    }
    return DECLINED;
}

void audio_stream_register_hooks(apr_pool_t*)
{
    ap_hook_log_transaction(audio_stream_log_transaction, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_child_init(audio_stream_child_init, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_handler(audio_stream_handler, nullptr, nullptr, APR_HOOK_MIDDLE);
}

}  // namespace

// AP_DECLARE_MODULE would repeat APLOG_USE_MODULE, which the handler needed above.
extern "C" {
module AP_MODULE_DECLARE_DATA audio_stream_module = {
    STANDARD20_MODULE_STUFF,
    audio_stream_create_dir_conf,
    audio_stream_merge_dir_conf,
    audio_stream_create_server_conf,
    nullptr,
    audio_stream_cmds,
    audio_stream_register_hooks,
    AP_MODULE_FLAG_NONE,
};
}
