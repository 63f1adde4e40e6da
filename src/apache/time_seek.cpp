#include "time_seek.h"

#include "../cache/cut_cache.h"
#include "../formats/dispatch.h"
#include "../file_read.h"
#include "../time_param.h"
#include "config.h"
#include "file_source.h"

namespace audio_stream::apache {

namespace {

// How a cut was found, for the debug log.
struct Found {
    bool cached = false;   // from the cut cache
    bool indexed = false;  // made now, reading the file to build its seek index
};

// A file's verdict, whatever the span: the key a refusal of the file itself is kept under too.
const Span kWholeFile{-1, -1};

// The cut of this file over `span`, from the child's cache or made now. nullptr for a type no
// cutter knows. A refusal is cached as a cut is, and one that is about the file
// (Cut::whole_file: malformed, unsupported, its tables over the budget) for every span: a file
// that costs its parser a budget to refuse costs it once, and any request for it again a lookup.
// A cost that depends on where the cut starts (the FLAC frames or Ogg pages it renumbers from
// there) is a lookup for its span: a 4.8-hour FLAC refused at t=60 is still cut at t=4h. The
// key is the open descriptor's identity, the file the cut is read from, not the one the
// request's stat of its path saw.
std::shared_ptr<const Cut> find_cut(request_rec* r, apr_file_t* fd, const Span& span, Found& found)
{
    const unsigned format = format_of_type(r->content_type);
    if (format == 0) {
        return nullptr;  // before the cache: a file a format read under another type is not this one
    }
    const apr_finfo_t now = opened_state(r, fd);
    const FileIdentity id = file_identity(now);
    CutCache* const cache = cut_cache(r->server);
    if (cache) {
        for (const Span& key : {kWholeFile, span}) {
            if (auto hit = cache->find(id, CutKey{format, key})) {
                found.cached = true;
                return hit;
            }
        }
    }
    AprFileSource src(fd, static_cast<Offset>(now.size));
    IndexSource indexes(seek_index_cache(r->server), id);
    auto made = cut_for_type(r->content_type, src, span, indexes);
    found.indexed = indexes.built();
    if (!made) {
        return nullptr;
    }
    auto cut = std::make_shared<const Cut>(std::move(*made));
    if (cache) {
        cache->insert(id, CutKey{format, cut->whole_file ? kWholeFile : span}, cut);
    }
    return cut;
}

// The status for a cut that cannot be served, with its one log line (which says when the verdict
// was the cache's); nullopt for a good one.
Answer refuse_cut(request_rec* r, const Cut* cut, const std::string& t, bool cached)
{
    const char* const again = cached ? " (verdict cached)" : "";
    if (!cut) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0021: no time seek for %s files: %s", r->content_type,
                      r->filename);
        return HTTP_NOT_IMPLEMENTED;
    }
    switch (cut->status) {
    case Cut::Status::Ok:
        return std::nullopt;
    case Cut::Status::PastEnd:
        // No cut exists, so there is no length to put in a Content-Range.
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "AS0022: ?t=%s is past the end of %s%s", t.c_str(),
                      r->filename, again);
        return HTTP_RANGE_NOT_SATISFIABLE;
    case Cut::Status::Unsupported:
        // A well-formed file of a kind the cutter does not cut (fragmented MP4, a video track).
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AS0025: no time seek for %s at %s: %s%s", r->filename,
                      t.c_str(), cut->detail.c_str(), again);
        return HTTP_NOT_IMPLEMENTED;
    case Cut::Status::OverBudget:
        // Maybe well-formed, but built to cost more than any real file: not cut.
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AS0026: no time seek for %s at %s: %s%s", r->filename,
                      t.c_str(), cut->detail.c_str(), again);
        return HTTP_NOT_IMPLEMENTED;
    case Cut::Status::Malformed:
        break;
    }
    // The request is fine; the file is not what its type says: the server's fault.
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0023: cannot cut %s at %s: %s%s", r->filename, t.c_str(),
                  cut->detail.c_str(), again);
    return HTTP_INTERNAL_SERVER_ERROR;
}

}  // namespace

Answer resolve_cut(request_rec* r, apr_file_t* fd, std::shared_ptr<const Cut>& cut)
{
    // ?t= asks for the file from a time on, or between two: a representation of its own (RFC
    // 9110 §3.2).
    const QueryParam param = time_seek(dir_config(r)) && r->args ? query_param(r->args, "t") : QueryParam{};
    if (!param.present) {
        return std::nullopt;
    }
    const auto span = param.malformed ? std::nullopt : parse_span(param.value);
    if (!span) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0020: malformed time in ?t=: %s", r->args);
        return HTTP_BAD_REQUEST;
    }
    Found found;
    cut = find_cut(r, fd, *span, found);
    if (Answer refused = refuse_cut(r, cut.get(), param.value, found.cached)) {
        return refused;
    }
    if (APLOGrdebug(r)) {
        const bool clip = cut->end != Span::kToTheEnd;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "AS0024: ?t=%s -> %s from %" APR_INT64_T_FMT " us%s%s, %" APR_UINT64_T_FMT " bytes (%s)",
                      param.value.c_str(), clip ? "clip" : "cut", static_cast<apr_int64_t>(cut->start),
                      clip ? " to " : "", clip ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT " us", cut->end) : "",
                      static_cast<apr_uint64_t>(cut->rep.length),
                      found.cached ? "cached" : found.indexed ? "made, file indexed" : "made");
    }
    if (const char* file_etag = apr_table_get(r->headers_out, "ETag")) {
        apr_table_set(r->headers_out, "ETag", suffixed_etag(file_etag, cut->rep.etag_suffix).c_str());
    }
    return std::nullopt;
}

}  // namespace audio_stream::apache
