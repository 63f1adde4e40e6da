#include "log.h"

namespace audio_stream::apache {

namespace {

// Not the descriptor: the core sets file buckets aside and closes it when done writing.
struct SentFile {
    apr_dev_t device;
    apr_ino_t inode;
    apr_off_t needed_end;
};

}  // namespace

void remember_sent_file(request_rec* r, Offset needed_end)
{
    auto* sent = static_cast<SentFile*>(apr_palloc(r->pool, sizeof(SentFile)));
    sent->device = r->finfo.device;
    sent->inode = r->finfo.inode;
    sent->needed_end = static_cast<apr_off_t>(needed_end);
    ap_set_module_config(r->request_config, &audio_stream_module, sent);
}

// A connection closed before a sendfile/mmap body was all sent: if the file (the same one, by
// device and inode) shrank under it, say so once, since the core closes silently. Only
// aborted requests pay for the stat. Only C calls: nothing here can throw.
int log_transaction(request_rec* r) noexcept
{
    const auto* sent = static_cast<const SentFile*>(ap_get_module_config(r->request_config, &audio_stream_module));
    if (!sent || !r->connection->aborted) {
        return DECLINED;
    }
    apr_finfo_t now;
    const apr_int32_t wanted = APR_FINFO_SIZE | APR_FINFO_DEV | APR_FINFO_INODE;
    if (apr_stat(&now, r->filename, wanted, r->pool) == APR_SUCCESS && now.device == sent->device &&
        now.inode == sent->inode && now.size < sent->needed_end) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AS0041: %s shrank while being sent: it ends at byte %" APR_OFF_T_FMT
                      ", the response needed %" APR_OFF_T_FMT "; connection closed",
                      r->filename, now.size, sent->needed_end);
    }
    return DECLINED;
}

}  // namespace audio_stream::apache
