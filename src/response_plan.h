// Plan a response as a value: status, the headers we own, and the body as extents.
#ifndef AUDIO_STREAM_RESPONSE_PLAN_H
#define AUDIO_STREAM_RESPONSE_PLAN_H

#include <memory>
#include <string>
#include <string_view>

#include "byte_range.h"
#include "piece_window.h"
#include "representation.h"

namespace audio_stream {

struct PlanRequest {
    const Representation* representation;
    // The Range header to honour, or empty when there is none (or If-Range said no).
    std::string_view range;
    bool media_request;  // Sec-Fetch-Dest: audio|video
    PiecePolicy piece;
    unsigned max_ranges;            // 0: unlimited
    std::string_view content_type;  // of the representation, repeated in multipart parts
    std::string_view boundary_seed; // makes the multipart boundary (use the ETag)
    // The representation's extents when something else owns them (a cached cut): an answer of
    // the whole then shares them rather than copying (a cut may hold a million extents).
    std::shared_ptr<const Extents> shared_extents;
};

// A range of the representation the body carries, and where its bytes start in the body
// (after a multipart part's own headers).
struct Part {
    ByteRange range;
    Offset body_offset;
};

struct Plan {
    int status = 200;            // 200, 206 or 416
    std::string content_range;   // 206 single part, or "bytes */len" for 416
    std::string content_type;    // set only for multipart/byteranges
    Offset content_length = 0;
    Extents body;                          // the body, unless `shared_body` is it
    std::shared_ptr<const Extents> shared_body;  // the representation's, when the body is all of it
    std::vector<Part> parts;     // in body order; none for a 416 or an empty representation
    Offset total = 0;            // the representation's length
    std::string note;            // why: for the debug log ("piece", "invalid range ignored", ...)
    // The piece window made it shorter than asked (a media element's open range): an answer a
    // shared cache must not keep, nor give to another client for the same Range.
    bool capped = false;

    // The body as extents, whichever holds it.
    const Extents& body_extents() const { return shared_body ? *shared_body : body; }
};

// A multipart answer larger than twice the representation is replaced by a 200 of the whole:
// many small ranges must not amplify the response (RFC 9110 §14.3 lets a server ignore them).
Plan plan_response(const PlanRequest& request);

}  // namespace audio_stream

#endif
