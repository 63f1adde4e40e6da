// The request side of download counting: what the handler notes of a request (its file's
// layout, its plan, what emit sent), and at log time the AUDIO_* variables and the listen
// recorded in the shared cache (stats_store.cpp).
#include "stats.h"

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "../formats/dispatch.h"
#include "../stats/client.h"
#include "../stats/listener.h"
#include "../stats/sent.h"
#include "../stats/tally.h"
#include "config.h"
#include "file_source.h"
#include "h2_sent.h"
#include "request_state.h"
#include "stats_store.h"

namespace audio_stream::apache {

namespace {

using namespace audio_stream::stats;

// AUDIO_KIND of the response the handler made (owner) with `state`.
Kind kind_of(const request_rec* owner, const RequestState& state)
{
    if (owner->header_only || owner->method_number == M_OPTIONS) {
        return Kind::Head;
    }
    if (owner->status == HTTP_NOT_MODIFIED) {
        return Kind::NotModified;
    }
    const Plan* plan = state.plan;
    if (owner->status >= 400 || !plan || owner->status != plan->status) {
        return Kind::Error;
    }
    if (plan->status == HTTP_PARTIAL_CONTENT && plan->parts.size() == 1 && plan->parts[0].range.first == 0 &&
        plan->parts[0].range.last <= 1) {
        return Kind::Probe;
    }
    if (state.cut) {
        return Kind::Cut;
    }
    return plan->status == HTTP_PARTIAL_CONTENT ? Kind::Range : Kind::Full;
}

// Body bytes sent: all of them unless the connection broke (HTTP/1: the core writes the last
// window after the handler returned, and marks the connection aborted if it could not), then
// those known written. HTTP/2: what mod_http2 wrote for the stream (h2_sent.h); where that is
// not kept, a body counts as sent once all of it was handed to mod_http2 (which marks a
// stream's connection aborted when the client closes it even after the whole body).
Offset body_sent(const request_rec* owner, const RequestState& state, Kind kind)
{
    if (!state.plan || kind == Kind::Head || kind == Kind::NotModified || kind == Kind::Error) {
        return 0;
    }
    const Offset length = state.plan->content_length;
    if (owner->connection->master) {
        const auto written = h2_body_written(owner, state.sent, length);
        return written ? *written : state.sent.all_passed ? length : state.sent.confirmed;
    }
    return owner->connection->aborted ? state.sent.confirmed : length;
}

// The URI of the file the request is for: an HLS playlist or segment (FILE/seg-3.mp3) counts
// toward FILE, as a cut does.
std::string file_uri(const request_rec* r)
{
    const std::string_view uri = r->uri ? r->uri : "";
    const std::string_view info = r->path_info ? r->path_info : "";
    const bool under = !info.empty() && uri.size() > info.size() && uri.substr(uri.size() - info.size()) == info;
    return std::string(under ? uri.substr(0, uri.size() - info.size()) : uri);
}

void set_variable(request_rec* r, request_rec* owner, const char* name, const char* value)
{
    apr_table_setn(r->subprocess_env, name, value);
    if (owner != r) {
        apr_table_setn(owner->subprocess_env, name, value);
    }
}

void log_counted(request_rec* r, request_rec* owner, RequestState& state)
{
    const Kind kind = kind_of(owner, state);
    const Offset sent = body_sent(owner, state, kind);
    const char* ua = apr_table_get(owner->headers_in, "User-Agent");
    const Client client = classify_client(ua);

    std::vector<FileRange> ranges;
    std::string sent_text_value = "-";
    if (sent > 0) {
        ranges = state.source ? source_file_ranges(*state.source, state.plan->total, state.plan->parts, sent)
                              : sent_file_ranges(state.plan->body_extents(), state.plan->parts, sent);
        sent_text_value = sent_text(state.plan->parts, state.plan->total, sent);
    }
    const Offset threshold = state.layout_known ? download_threshold(state.layout) : 0;

    Verdict verdict{State::Ignored, false};
    if (state.layout_known) {
        const std::string address = listener_address(owner->useragent_ip ? owner->useragent_ip : "");
        const std::string file =
            std::string(owner->server->server_hostname ? owner->server->server_hostname : "") + file_uri(owner);
        const Listen listen{file, address, ua ? ua : "", client, kind, ranges, threshold};
        verdict = record_listen(owner, listen);
    }

    apr_pool_t* p = r->pool;
    set_variable(r, owner, "AUDIO_KIND", kind_name(kind));
    set_variable(r, owner, "AUDIO_SENT", apr_pstrdup(p, sent_text_value.c_str()));
    set_variable(r, owner, "AUDIO_SECONDS",
                 apr_pstrdup(p, state.layout_known ? seconds_text(state.layout, ranges).c_str() : "-"));
    set_variable(r, owner, "AUDIO_THRESHOLD",
                 state.layout_known ? apr_off_t_toa(p, static_cast<apr_off_t>(threshold)) : "-");
    set_variable(r, owner, "AUDIO_CLIENT", client_name(client));
    set_variable(r, owner, "AUDIO_STATE", state_name(verdict.state));
    set_variable(r, owner, "AUDIO_LISTENER", verdict.listener.empty() ? "-" : apr_pstrdup(p, verdict.listener.c_str()));
    if (verdict.download) {
        set_variable(r, owner, "AUDIO_DOWNLOAD", "1");
    }
}

}  // namespace

void stats_note_request(request_rec* r)
{
    if (stats(dir_config(r))) {
        request_state(r).stats = true;
    }
}

void stats_note_file(request_rec* r, apr_file_t* fd, const std::shared_ptr<const Cut>& cut)
{
    if (!stats(dir_config(r))) {
        return;
    }
    RequestState& state = request_state(r);
    state.stats = true;
    state.cut = cut != nullptr;
    if (cut && !cut->rep.source.empty()) {
        state.source = &pool_owned<std::shared_ptr<const Cut>>(r->pool, cut)->get()->rep.source;
    }
    // The layout is read from the descriptor: keyed by its identity, not the path's earlier stat.
    const apr_finfo_t now = opened_state(r, fd);
    const FileIdentity id = file_identity(now);
    const char* type = r->content_type ? r->content_type : "";
    const unsigned format = format_of_type(type);
    LayoutCache* const layouts = layout_cache(r->server);
    if (auto known = layouts ? layouts->find(id, format) : std::nullopt) {
        state.layout = *known;
    }
    else {
        AprFileSource src(fd, static_cast<Offset>(now.size));
        state.layout = layout_for_type(type, src);
        if (layouts) {
            layouts->insert(id, format, state.layout);
        }
    }
    state.layout_known = true;
}

void stats_note_plan(request_rec* r, const Plan& plan)
{
    if (stats(dir_config(r))) {
        RequestState& state = request_state(r);
        state.stats = true;
        state.plan = &plan;
    }
}

SentCount* stats_sent_counter(request_rec* r)
{
    if (!stats(dir_config(r))) {
        return nullptr;
    }
    return &request_state(r).sent;
}

void stats_log(request_rec* r, request_rec* owner) noexcept
{
    try {
        RequestState& state = request_state(owner);
        if (state.stats) {
            log_counted(r, owner, state);
        }
    }
    catch (const std::exception& e) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0099: download counting: %s", e.what());
    }
    catch (...) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "AS0099: download counting failed");
    }
}

}  // namespace audio_stream::apache
