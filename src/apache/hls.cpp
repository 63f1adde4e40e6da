#include "hls.h"

#include <optional>
#include <string>

#include "../cache/cut_cache.h"
#include "../formats/dispatch.h"
#include "../hls/playlist.h"
#include "../hls/segment.h"
#include "config.h"
#include "file_source.h"

namespace audio_stream::apache {

namespace {

// Raised with every change to the bytes of a playlist or segment of one file, so that a client
// resuming one across an upgrade (If-Range) never joins two versions under one validator.
constexpr unsigned kHlsGeneration = 1;

// HLS representations share the cut cache under the file's format with this bit set.
constexpr unsigned kHlsKeys = 0x100;

constexpr const char* kPlaylistType = "application/vnd.apple.mpegurl";

// How a format's packets go into segments: packed audio for MP3 (RFC 8216 §3.4).
struct Form {
    hls::Variant variant;
    const char* segment_type;
};

std::optional<Form> form_of(unsigned format)
{
    if (format == format_of_type("audio/mpeg")) {
        return Form{{hls::SegmentForm::Packed, "mp3"}, "audio/mpeg"};
    }
    return std::nullopt;
}

// The cache key of a resource, and of the file's verdict (a refusal for every resource).
CutKey key_of(unsigned format, const hls::Name& name)
{
    return CutKey{format | kHlsKeys, Span{static_cast<Micros>(name.resource), static_cast<Micros>(name.segment)}};
}
CutKey verdict_key(unsigned format) { return CutKey{format | kHlsKeys, Span{-1, -1}}; }

std::shared_ptr<const Cut> text_rep(std::string text, std::string suffix)
{
    Cut c;
    c.status = Cut::Status::Ok;
    c.rep.length = text.size();
    append_memory(c.rep.extents, std::move(text));
    c.rep.etag_suffix = std::move(suffix);
    return std::make_shared<const Cut>(std::move(c));
}

std::shared_ptr<const Cut> refusal(Cut::Status status, std::string detail, bool whole_file)
{
    Cut c;
    c.status = status;
    c.detail = std::move(detail);
    c.whole_file = whole_file;
    return std::make_shared<const Cut>(std::move(c));
}

std::string suffix_of(const hls::Name& name)
{
    const std::string gen = "-h" + std::to_string(kHlsGeneration) + "-";
    switch (name.resource) {
    case hls::Resource::Master:
        return gen + "master";
    case hls::Resource::Media:
        return gen + "index";
    case hls::Resource::Init:
        return gen + "init";
    case hls::Resource::Segment:
        break;
    }
    return gen + "s" + std::to_string(name.segment);
}

// What `name` stands for in the file read by `src`: made now.
std::shared_ptr<const Cut> make_resource(request_rec* r, ByteSource& src, IndexSource& indexes,
                                         const hls::Name& name, const Form& form)
{
    const auto track = track_for_type(r->content_type, src, indexes);
    if (!track || track->status != Cut::Status::Ok) {
        return track ? refusal(track->status, track->detail, true)
                     : refusal(Cut::Status::Unsupported, "no packet reader", true);
    }
    const hls::Segmenting seg = hls::segmenting(*track, hls::kDefaultSegmentTarget);
    switch (name.resource) {
    case hls::Resource::Master:
        return text_rep(hls::master_playlist(*track, seg, form.variant), suffix_of(name));
    case hls::Resource::Media:
        return text_rep(hls::media_playlist(*track, seg, form.variant), suffix_of(name));
    case hls::Resource::Init:
        return refusal(Cut::Status::PastEnd, "", false);  // no init segment for packed audio
    case hls::Resource::Segment:
        break;
    }
    if (name.segment >= seg.count) {
        return refusal(Cut::Status::PastEnd, "", false);
    }
    const std::uint64_t first = seg.first_packet(name.segment);
    const PacketRun run = packets_for_type(r->content_type, src, indexes, first, seg.packets_in(name.segment, *track));
    if (run.status != Cut::Status::Ok) {
        return refusal(run.status, run.detail, false);
    }
    Cut c;
    c.status = Cut::Status::Ok;
    c.rep = hls::packed_segment(first * track->packet_samples, track->rate, run);
    c.rep.etag_suffix = suffix_of(name);
    return std::make_shared<const Cut>(std::move(c));
}

// The resource from the child's cache, or made now and kept there (refusals too: one about the
// file under its verdict key). `cached` says which.
std::shared_ptr<const Cut> find_resource(request_rec* r, apr_file_t* fd, unsigned format, const hls::Name& name,
                                         const Form& form, bool& cached)
{
    const apr_finfo_t now = opened_state(r, fd);
    const FileIdentity id = file_identity(now);
    CutCache* const cache = cut_cache(r->server);
    if (cache) {
        for (const CutKey& key : {verdict_key(format), key_of(format, name)}) {
            if (auto hit = cache->find(id, key)) {
                cached = true;
                return hit;
            }
        }
    }
    AprFileSource src(fd, static_cast<Offset>(now.size));
    IndexSource indexes(seek_index_cache(r->server), id);
    auto made = make_resource(r, src, indexes, name, form);
    if (cache) {
        cache->insert(id, made->whole_file ? verdict_key(format) : key_of(format, name), made);
    }
    return made;
}

// The status of a resource that cannot be served, with its one log line; nullopt for one that can.
Answer refuse(request_rec* r, const Cut& c, bool cached)
{
    const char* const again = cached ? " (verdict cached)" : "";
    switch (c.status) {
    case Cut::Status::Ok:
        return std::nullopt;
    case Cut::Status::PastEnd:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0033: no HLS resource %s in %s (past the last segment)",
                      r->path_info, r->filename);
        return HTTP_NOT_FOUND;
    case Cut::Status::Unsupported:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0032: no HLS form for %s: %s%s", r->filename,
                      c.detail.c_str(), again);
        return HTTP_NOT_FOUND;
    case Cut::Status::OverBudget:
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "AS0035: no HLS for %s: %s%s", r->filename,
                      c.detail.c_str(), again);
        return HTTP_NOT_IMPLEMENTED;
    case Cut::Status::Malformed:
        break;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0034: cannot segment %s: %s%s", r->filename, c.detail.c_str(),
                  again);
    return HTTP_INTERNAL_SERVER_ERROR;
}

}  // namespace

bool wants_hls(const request_rec* r)
{
    return r->path_info && *r->path_info && hls(dir_config(r));
}

Answer resolve_hls(request_rec* r, apr_file_t* fd, std::shared_ptr<const Cut>& rep, const char*& type)
{
    const unsigned format = format_of_type(r->content_type ? r->content_type : "");
    const auto form = form_of(format);
    if (!form) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0032: no HLS form for %s files: %s",
                      r->content_type ? r->content_type : "untyped", r->filename);
        return HTTP_NOT_FOUND;
    }
    const auto name = hls::parse_name(r->path_info, form->variant.form, form->variant.extension);
    if (!name) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "AS0031: not an HLS resource of %s: %s", r->filename,
                      r->path_info);
        return HTTP_NOT_FOUND;
    }
    bool cached = false;
    rep = find_resource(r, fd, format, *name, *form, cached);
    if (Answer refused = refuse(r, *rep, cached)) {
        rep.reset();
        return refused;
    }
    const bool playlist = name->resource == hls::Resource::Master || name->resource == hls::Resource::Media;
    type = playlist ? kPlaylistType : form->segment_type;
    if (const char* file_etag = apr_table_get(r->headers_out, "ETag")) {
        apr_table_set(r->headers_out, "ETag", suffixed_etag(file_etag, rep->rep.etag_suffix).c_str());
    }
    return std::nullopt;
}

}  // namespace audio_stream::apache
