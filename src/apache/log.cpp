#include "log.h"

#include "request_state.h"
#include "stats.h"

namespace audio_stream::apache {

namespace {

// A connection closed before a file-bucket body was all sent: if the file (the same one, by
// device and inode) shrank under it, say so once, since the core closes silently. Only
// aborted requests pay for the stat.
void check_shrunk(request_rec* r, const RequestState& sent)
{
    apr_finfo_t now;
    const apr_int32_t wanted = APR_FINFO_SIZE | APR_FINFO_DEV | APR_FINFO_INODE;
    if (apr_stat(&now, r->filename, wanted, r->pool) == APR_SUCCESS && now.device == sent.device &&
        now.inode == sent.inode && now.size < sent.needed_end) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AS0041: %s shrank while being sent: it ends at byte %" APR_OFF_T_FMT
                      ", the response needed %" APR_OFF_T_FMT "; connection closed",
                      r->filename, now.size, sent.needed_end);
    }
}

}  // namespace

void remember_sent_file(request_rec* r, Offset needed_end)
{
    RequestState& state = request_state(r);
    state.sent_file = true;
    state.device = r->finfo.device;
    state.inode = r->finfo.inode;
    state.needed_end = static_cast<apr_off_t>(needed_end);
}

// `r` is the request as it arrived; the state is on the one that ran the handler (itself, or
// an internal redirect of it). Only C calls here; stats_log is its own firewall.
int log_transaction(request_rec* r) noexcept
{
    request_rec* owner = nullptr;
    RequestState* state = find_request_state(r, &owner);
    if (!state) {
        return DECLINED;
    }
    if (state->sent_file && owner->connection->aborted) {
        check_shrunk(owner, *state);
    }
    if (state->stats) {
        stats_log(r, owner);
    }
    return DECLINED;
}

}  // namespace audio_stream::apache
