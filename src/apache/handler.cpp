// One request, left to right:
//   check method -> check file -> open -> file headers -> representation (file or ?t= cut)
//   -> conditions -> plan (If-Range, ranges, piece window) -> headers -> emit.
// Each step either lets the request go on or answers it (Answer, glue.h).
#include "handler.h"

#include <cstring>
#include <exception>
#include <memory>
#include <string_view>

#include "../audio_types.h"
#include "../if_range.h"
#include "../piece_window.h"
#include "../representation.h"
#include "../response_plan.h"
#include "config.h"
#include "emit.h"
#include "hls.h"
#include "request_state.h"
#include "stats.h"
#include "time_seek.h"

namespace audio_stream::apache {

namespace {

int send_options(request_rec* r)
{
    apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS");
    ap_set_content_length(r, 0);
    apr_bucket_brigade* bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS || r->connection->aborted ? OK
                                                                                          : AP_FILTER_ERROR;
}

// GET and HEAD go on; OPTIONS is answered here; anything else is a 405.
Answer check_method(request_rec* r)
{
    // The 405 error page builds its Allow header from allowed_methods (HEAD comes with GET).
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, M_OPTIONS, -1);
    if (const int status = ap_discard_request_body(r); status != OK) {
        return status;
    }
    if (r->method_number == M_OPTIONS) {
        return send_options(r);
    }
    if (r->method_number != M_GET) {  // HEAD is M_GET with r->header_only
        return HTTP_METHOD_NOT_ALLOWED;
    }
    return std::nullopt;
}

// The same answers as the core handler for what is not a regular file.
Answer check_file(request_rec* r)
{
    if (r->finfo.filetype == APR_NOFILE) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0001: file does not exist: %s", r->filename);
        return HTTP_NOT_FOUND;
    }
    if (r->finfo.filetype == APR_DIR) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0002: not serving a directory: %s", r->filename);
        return HTTP_NOT_FOUND;
    }
    if (r->used_path_info != AP_REQ_ACCEPT_PATH_INFO && r->path_info && *r->path_info && !wants_hls(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0003: file does not exist: %s%s", r->filename,
                      r->path_info);
        return HTTP_NOT_FOUND;
    }
    if (r->finfo.filetype != APR_REG) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0004: not a regular file: %s", r->filename);
        return HTTP_FORBIDDEN;
    }
    return std::nullopt;
}

// The file, open on r->pool (closed with it: no path closes it by hand).
Answer open_file(request_rec* r, apr_file_t*& fd)
{
    apr_int32_t flags = APR_READ | APR_BINARY;
#if APR_HAS_SENDFILE
    const auto* core = static_cast<const core_dir_config*>(ap_get_core_module_config(r->per_dir_config));
    if (core->enable_sendfile != ENABLE_SENDFILE_OFF) {
        flags |= APR_SENDFILE_ENABLED;
    }
#endif
    const apr_status_t rv = apr_file_open(&fd, r->filename, flags, 0, r->pool);
    if (rv != APR_SUCCESS) {
        const bool gone = APR_STATUS_IS_ENOENT(rv);
        ap_log_rerror(APLOG_MARK, gone ? APLOG_INFO : APLOG_ERR, rv, r, "AS0005: cannot open %s", r->filename);
        return gone ? HTTP_NOT_FOUND : HTTP_FORBIDDEN;
    }
    return std::nullopt;
}

// Validators and type, by Apache's own rules (FileETag, mod_mime), and Accept-Ranges.
void set_file_headers(request_rec* r, apr_file_t* fd)
{
    ap_update_mtime(r, r->finfo.mtime);
    ap_set_last_modified(r);
    ap_set_etag_fd(r, fd);
    if (!r->content_type) {
        const std::string_view type = audio_type_for_path(r->filename);
        ap_set_content_type(r, apr_pstrmemdup(r->pool, type.data(), type.size()));
    }
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
}

// What the URL stands for: the whole file, or a time-seek cut or an HLS playlist or segment
// (which `cut` then owns, of media type `type`: null for the file's own).
struct Resolved {
    Representation file;
    std::shared_ptr<const Cut> cut;
    const char* type = nullptr;
    const Representation& rep() const { return cut ? cut->rep : file; }
};

Answer resolve_representation(request_rec* r, apr_file_t* fd, Resolved& out)
{
    if (Answer a = wants_hls(r) ? resolve_hls(r, fd, out.cut, out.type) : resolve_cut(r, fd, out.cut)) {
        return a;
    }
    if (!out.cut) {
        out.file = whole_file(static_cast<Offset>(r->finfo.size));
    }
    return std::nullopt;
}

// The plan for this request's Range, If-Range and Sec-Fetch-Dest over `rep`.
struct Planned {
    Plan plan;
    const char* range;
    bool if_range_failed;
    bool media_request;
};

Planned plan_request(const request_rec* r, const Resolved& resolved)
{
    const Representation& rep = resolved.rep();
    const DirConfig& conf = dir_config(r);
    const char* range = apr_table_get(r->headers_in, "Range");
    const char* if_range = range ? apr_table_get(r->headers_in, "If-Range") : nullptr;
    const char* etag = apr_table_get(r->headers_out, "ETag");
    const bool honour_range =
        range && (!if_range || if_range_matches(if_range, etag ? etag : "", apr_time_sec(r->mtime),
                                                apr_time_sec(r->request_time)));
    const char* dest = apr_table_get(r->headers_in, "Sec-Fetch-Dest");

    PlanRequest request{};
    request.representation = &rep;
    request.range = honour_range ? range : "";
    request.media_request = dest && is_media_destination(dest);
    request.piece = piece_policy(conf);
    request.max_ranges = max_ranges(conf);
    request.content_type = r->content_type;
    request.boundary_seed = etag ? etag : r->filename;
    if (resolved.cut) {
        // The cut's extents, kept alive by the plan (download counting reads it at log time).
        request.shared_extents = std::shared_ptr<const Extents>(resolved.cut, &resolved.cut->rep.extents);
    }
    return {plan_response(request), range, if_range && !honour_range, request.media_request};
}

// The AS0010 debug line: what was asked, what is answered and how the body goes.
void log_plan(request_rec* r, const Planned& p, const Plan& plan, const Delivery& how)
{
    // In C++ ap_log_rerror is a plain call (httpd's level check is a C99 macro): check first,
    // so that the arguments are not formatted on every request.
    if (!APLOGrdebug(r)) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AS0010: range '%s'%s%s -> %d %s (%" APR_UINT64_T_FMT " bytes, %s) %s",
                  p.range ? p.range : "", p.if_range_failed ? " (If-Range failed)" : "",
                  p.media_request ? " media" : "", plan.status,
                  plan.content_range.empty() ? "-" : plan.content_range.c_str(),
                  static_cast<apr_uint64_t>(plan.content_length), plan.note.c_str(), how.name(plan));
}

// An answer the piece window made shorter than asked: a shared cache keyed by the Range (a CDN
// that stores partials) must neither keep it nor hand it to a download tool, which would end
// with a short file (`private`); in the media scope the cap came from Sec-Fetch-Dest (`Vary`).
// Uncapped answers say neither: some CDNs cache nothing that varies on more than
// Accept-Encoding.
void set_capped_signals(request_rec* r)
{
    apr_table_mergen(r->headers_out, "Cache-Control", "private");
    if (piece_policy(dir_config(r)).scope == PieceScope::Media) {
        apr_table_mergen(r->headers_out, "Vary", "Sec-Fetch-Dest");
    }
}

// Status and the headers the plan owns. A 416 is an error response, which replaces
// headers_out with err_headers_out: its Content-Range goes there.
Answer set_plan_headers(request_rec* r, const Plan& plan)
{
    if (plan.status == HTTP_RANGE_NOT_SATISFIABLE) {
        apr_table_setn(r->err_headers_out, "Content-Range", apr_pstrdup(r->pool, plan.content_range.c_str()));
        return HTTP_RANGE_NOT_SATISFIABLE;
    }
    r->status = plan.status;
    if (plan.capped) {
        set_capped_signals(r);
    }
    if (!plan.content_range.empty()) {
        apr_table_setn(r->headers_out, "Content-Range", apr_pstrdup(r->pool, plan.content_range.c_str()));
    }
    if (!plan.content_type.empty()) {
        ap_set_content_type(r, apr_pstrdup(r->pool, plan.content_type.c_str()));
    }
    ap_set_content_length(r, static_cast<apr_off_t>(plan.content_length));
    return std::nullopt;
}

// mod_cache on this server stores what its CACHE_SAVE filter sees (CacheEnable covers the
// path) and then answers the URL itself, in its quick handler or before ours: no piece window,
// no count, a stored cut for as long as its lifetime. Our answers are kept out of it
// (r->no_cache, which the filter obeys), and the child says once what to configure (AS0027).
void keep_out_of_mod_cache(request_rec* r)
{
    for (const ap_filter_t* f = r->output_filters; f; f = f->next) {
        const char* name = f->frec ? f->frec->name : nullptr;
        if (name && (ap_cstr_casecmp(name, "CACHE_SAVE") == 0 || ap_cstr_casecmp(name, "CACHE_SAVE_SUBREQ") == 0)) {
            r->no_cache = 1;
            ChildWarnings* const warnings = child_state(r->server).warnings;
            if (warnings && !warnings->same_server_cache.exchange(true)) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              "AS0027: mod_cache is enabled for %s (CacheEnable): the module's answers "
                              "are kept out of it, since its hits would skip the piece window and "
                              "download counting; add CacheDisable for this path (said once per child)",
                              r->uri);
            }
            return;
        }
    }
}

int serve(request_rec* r)
{
    stats_note_request(r);
    keep_out_of_mod_cache(r);
    if (Answer a = check_method(r)) {
        return *a;
    }
    if (Answer a = check_file(r)) {
        return *a;
    }
    apr_file_t* fd = nullptr;
    if (Answer a = open_file(r, fd)) {
        return *a;
    }
    set_file_headers(r, fd);
    Resolved resolved;
    if (Answer a = resolve_representation(r, fd, resolved)) {
        return *a;
    }
    stats_note_file(r, fd, resolved.cut);
    if (resolved.type) {
        ap_set_content_type(r, resolved.type);  // after counting read the file's own
    }
    // We answer ranges ourselves; the byterange filter must not answer them again.
    ap_remove_output_filter_byhandle(r->output_filters, "BYTERANGE");
    if (const int status = ap_meets_conditions(r); status != OK) {
        return status;
    }
    Planned planned = plan_request(r, resolved);
    // Download counting reads the plan at log time: it then lives as long as the request.
    const DirConfig& conf = dir_config(r);
    const Plan& plan = stats(conf) ? *pool_owned<Plan>(r->pool, std::move(planned.plan)) : planned.plan;
    stats_note_plan(r, plan);
    const Delivery how = decide_delivery(r, fd, plan, conf);
    log_plan(r, planned, plan, how);
    if (Answer a = set_plan_headers(r, plan)) {
        return *a;
    }
    return emit(r, fd, plan, how);
}

}  // namespace

int handler(request_rec* r) noexcept
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

}  // namespace audio_stream::apache
