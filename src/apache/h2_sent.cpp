#include "h2_sent.h"

#include <algorithm>
#include <cstring>

#include "ap_release.h"

namespace audio_stream::apache {

namespace {

// mod_logio's count of a connection (its conn_config, private to mod_logio.c but the same since
// httpd 2.3): what the %I, %O and %S log formats print.
struct LogioCount {
    apr_off_t bytes_in;
    apr_off_t bytes_out;
    apr_off_t bytes_last_request;
};

// HTTP/2 frame header (RFC 9113 §4.1), and what HPACK spends on a header field written as a
// literal with a literal name at most (RFC 7541 §6.2: a prefix byte, two lengths of at most
// four bytes each, never Huffman-coded longer than the plain string).
constexpr Offset kFrameHeader = 9;
constexpr Offset kFieldOverhead = 9;
// Fields mod_http2 adds to r->headers_out's: :status, date, server (its banner, below).
constexpr Offset kAddedFields = 5 + 4 + 29 + 6 + 3 * kFieldOverhead;
// DATA frames are taken to carry 8 KiB at least (mod_http2 writes up to 16 KiB, the default
// largest frame), so that their headers are never credited as body.
constexpr Offset kLeastFrame = 8192;

bool counts_frames_written()
{
    ap_version_t v;
    ap_get_server_revision(&v);
    return v.major > 2 || (v.major == 2 && (v.minor > 4 || (v.minor == 4 && v.patch >= 58)));
}

int add_field(void* total, const char* name, const char* value)
{
    *static_cast<Offset*>(total) += std::strlen(name) + std::strlen(value) + kFieldOverhead;
    return 1;
}

// The most the response head's HEADERS frame (and CONTINUATION frames, one a 16 KiB) can be.
Offset head_frames_bound(const request_rec* r)
{
    Offset fields = kAddedFields + std::strlen(ap_get_server_banner());
    apr_table_do(add_field, &fields, r->headers_out, nullptr);
    apr_table_do(add_field, &fields, r->err_headers_out, nullptr);
    return fields + kFrameHeader * (1 + fields / 16384);
}

// mod_logio's count for the stream's connection; null where it is not kept.
const LogioCount* frames_written(const conn_rec* c)
{
    static const bool kept = counts_frames_written();
    static module* const logio = ap_find_linked_module("mod_logio.c");
    return kept && logio ? static_cast<const LogioCount*>(ap_get_module_config(c->conn_config, logio)) : nullptr;
}

}  // namespace

std::optional<Offset> h2_body_written(const request_rec* owner, const SentCount& sent, Offset length)
{
    const LogioCount* count = frames_written(owner->connection);
    if (!count || count->bytes_out < 0) {
        return std::nullopt;
    }
    if (sent.all_passed && !owner->connection->aborted) {
        return length;
    }
    const auto out = static_cast<Offset>(count->bytes_out);
    // The least a whole body costs in frames: the smallest HEADERS frame, the body, a frame
    // header per 16 KiB (the largest DATA frame mod_http2 sends by default). A client that
    // closed its connection just after the body (curl does) still had all of it.
    if (sent.all_passed && out >= kFrameHeader + 1 + length + kFrameHeader * ((length + 16383) / 16384)) {
        return length;
    }
    const Offset head = head_frames_bound(owner);
    const Offset data = out > head ? out - head : 0;
    const Offset body = data - std::min(data, kFrameHeader * (data / kLeastFrame + 1));
    // mod_http2 2.0.42 (httpd 2.4.71) was measured to count a stream reset while its handler
    // waited on flow control twice, now and then: never more than was handed on before then.
    const Offset handed = sent.all_passed ? length : sent.confirmed;
    return std::min({body, handed, length});
}

}  // namespace audio_stream::apache
