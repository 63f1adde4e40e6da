#include "hls.h"

#include <optional>
#include <string>

#include "../cache/cut_cache.h"
#include "../formats/dispatch.h"
#include "../formats/toolbox.h"
#include "../hls/playlist.h"
#include "../hls/segment.h"
#include "../hls/ts.h"
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

// How a format's packets go into segments: MPEG-TS for MP3 (RFC 8216 §3.2; Chromium takes no
// MP3 in fragmented MP4, and its own player no packed MP3), or packed audio (§3.4) where
// AudioStreamHLSMP3 says so; fragmented MP4 for the rest (§3.3). `key` tells the forms of one
// format apart in the cache.
struct Form {
    hls::Variant variant;
    const char* segment_type;
    unsigned key;
};

std::optional<Form> form_of(const request_rec* r, unsigned format)
{
    if (format == format_of_type("audio/mpeg")) {
        return hls_mp3_packed(dir_config(r)) ? Form{{hls::SegmentForm::Packed, "mp3"}, "audio/mpeg", 0x200}
                                             : Form{{hls::SegmentForm::Ts, "ts"}, "video/mp2t", 0};
    }
    for (const char* type : {"audio/flac", "audio/mp4", "audio/ogg"}) {
        if (format == format_of_type(type)) {
            return Form{{hls::SegmentForm::Fmp4, "m4s"}, "audio/mp4", 0};
        }
    }
    return std::nullopt;
}

// The cache key of a resource, and of the file's verdict (a refusal for every resource).
CutKey key_of(unsigned format, const Form& form, const hls::Name& name)
{
    return CutKey{format | kHlsKeys | form.key,
                  Span{static_cast<Micros>(name.resource), static_cast<Micros>(name.segment)}};
}
CutKey verdict_key(unsigned format) { return CutKey{format | kHlsKeys, Span{-1, -1}}; }

Cut memory_rep(std::string bytes)
{
    Cut c;
    c.status = Cut::Status::Ok;
    c.rep.length = bytes.size();
    append_memory(c.rep.extents, std::move(bytes));
    return c;
}

Cut refusal(Cut::Status status, std::string detail, bool whole_file)
{
    Cut c;
    c.status = status;
    c.detail = std::move(detail);
    c.whole_file = whole_file;
    return c;
}

// "-h<generation>-[packed-]<resource>": packed audio's playlists list other segments than TS's.
std::string suffix_of(const hls::Name& name, const Form& form)
{
    const std::string gen = "-h" + std::to_string(kHlsGeneration) + (form.key ? "-packed-" : "-");
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

// The file's track, from the child's cache or read now (and kept there, a refusal too).
std::shared_ptr<const AudioTrack> track_of(request_rec* r, ByteSource& src, IndexSource& indexes,
                                           const FileIdentity& id, unsigned format)
{
    TrackCache* const cache = track_cache(r->server);
    if (auto hit = cache ? cache->find(id, format) : nullptr) {
        return hit;
    }
    auto read = track_for_type(r->content_type, src, indexes);
    if (!read) {
        read.emplace();
        read->status = Cut::Status::Unsupported;
        read->detail = "no packet reader for this type";
    }
    auto track = std::make_shared<const AudioTrack>(std::move(*read));
    if (cache) {
        cache->insert(id, format, track);
    }
    return track;
}

// An MPEG-TS segment: the packets' bytes read (a segment's worth: at most seconds of audio),
// then packetized in memory.
Cut ts_segment(ByteSource& src, const AudioTrack& track, std::uint64_t n, std::uint64_t first, const PacketRun& run)
{
    std::string frames(static_cast<std::size_t>(extents_length(run.data)), '\0');
    std::size_t at = 0;
    for (const Extent& e : run.data) {
        const auto& f = std::get<FileExtent>(e);
        if (!src.read(f.offset, frames.data() + at, static_cast<std::size_t>(f.length))) {
            return refusal(Cut::Status::Malformed, "read error", false);
        }
        at += static_cast<std::size_t>(f.length);
    }
    const hls::TsAudio audio{static_cast<std::uint8_t>(track.sample_rate < 32000 ? 0x04 : 0x03), track.rate,
                             track.packet_samples};
    Cut c = memory_rep(hls::ts_segment(audio, n, first * track.packet_samples, frames, run.sizes));
    c.rep.source = run.data;  // what counting credits: the frames
    return c;
}

// Segment n of the track: its packets read now, behind their container bytes.
Cut make_segment(request_rec* r, ByteSource& src, IndexSource& indexes, const AudioTrack& track,
                 const hls::Segmenting& seg, std::uint64_t n, const Form& form)
{
    if (n >= seg.count) {
        return refusal(Cut::Status::PastEnd, "", false);
    }
    const std::uint64_t first = seg.first_packet(n);
    const PacketRun run = packets_for_type(r->content_type, src, indexes, first, seg.packets_in(n, track));
    if (run.status != Cut::Status::Ok) {
        return refusal(run.status, run.detail, false);
    }
    Cut c;
    c.status = Cut::Status::Ok;
    switch (form.variant.form) {
    case hls::SegmentForm::Packed:
        c.rep = hls::packed_segment(first * track.packet_samples, track.rate, run);
        break;
    case hls::SegmentForm::Ts:
        return as_cut([&] { return ts_segment(src, track, n, first, run); });  // the budget too
    case hls::SegmentForm::Fmp4:
        c.rep = hls::fmp4_segment(track, first, static_cast<std::uint32_t>(n + 1), run);
        break;
    }
    return c;
}

// What `name` stands for in the file of `track`, made now.
Cut make_resource(request_rec* r, ByteSource& src, IndexSource& indexes, const AudioTrack& track,
                  const hls::Name& name, const Form& form)
{
    if (track.status != Cut::Status::Ok) {
        return refusal(track.status, track.detail, true);
    }
    const hls::Segmenting seg = hls::segmenting(track, hls::kDefaultSegmentTarget);
    if (seg.count > hls::kMaxSegments) {
        return refusal(Cut::Status::OverBudget,
                       "more than " + std::to_string(hls::kMaxSegments) + " segments (packets too short)", true);
    }
    switch (name.resource) {
    case hls::Resource::Master:
        return memory_rep(hls::master_playlist(track, seg, form.variant));
    case hls::Resource::Media:
        return memory_rep(hls::media_playlist(track, seg, form.variant));
    case hls::Resource::Init:
        return as_cut([&] { return memory_rep(hls::init_of(track)); });
    case hls::Resource::Segment:
        break;
    }
    return make_segment(r, src, indexes, track, seg, name.segment, form);
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
        for (const CutKey& key : {verdict_key(format), key_of(format, form, name)}) {
            if (auto hit = cache->find(id, key)) {
                cached = true;
                return hit;
            }
        }
    }
    AprFileSource src(fd, static_cast<Offset>(now.size));
    IndexSource indexes(seek_index_cache(r->server), id);
    const auto track = track_of(r, src, indexes, id, format);
    Cut c = make_resource(r, src, indexes, *track, name, form);
    if (c.status == Cut::Status::Ok) {
        c.rep.etag_suffix = suffix_of(name, form);
    }
    auto made = std::make_shared<const Cut>(std::move(c));
    // Past the last segment is not kept: any number may be asked, and the track answers it.
    if (cache && made->status != Cut::Status::PastEnd) {
        cache->insert(id, made->whole_file ? verdict_key(format) : key_of(format, form, name), made);
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
    const auto form = form_of(r, format);
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
    type = playlist ? kPlaylistType : name->resource == hls::Resource::Init ? "audio/mp4" : form->segment_type;
    if (const char* file_etag = apr_table_get(r->headers_out, "ETag")) {
        apr_table_set(r->headers_out, "ETag", suffixed_etag(file_etag, rep->rep.etag_suffix).c_str());
    }
    return std::nullopt;
}

}  // namespace audio_stream::apache
