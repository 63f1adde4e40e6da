// What a request leaves for its log_transaction: made on first use, on r->pool, in the
// module's request_config slot.
#ifndef AUDIO_STREAM_APACHE_REQUEST_STATE_H
#define AUDIO_STREAM_APACHE_REQUEST_STATE_H

#include "glue.h"

#include "../audio_layout.h"
#include "../response_plan.h"

namespace audio_stream::apache {

// What emit knows was sent of a body.
struct SentCount {
    Offset confirmed = 0;     // bytes of the windows written (flushed) before the last one
    bool all_passed = false;  // the last pass (EOS) succeeded: every byte was handed on
};

struct RequestState {
    // log.cpp: a file-bucket body the core writes after the handler returns. Not the
    // descriptor: the core sets file buckets aside and closes it when done writing.
    bool sent_file = false;
    apr_dev_t device = 0;
    apr_ino_t inode = 0;
    apr_off_t needed_end = 0;

    // stats.cpp, when AudioStreamStats is On.
    bool stats = false;
    bool cut = false;                 // a ?t= cut
    bool layout_known = false;
    AudioLayout layout;               // of the file
    const Plan* plan = nullptr;       // the response's, once planned (lives on r->pool)
    const Extents* source = nullptr;  // Representation::source when not empty (kept on r->pool)
    SentCount sent;                   // emit's count of the body
};

// This request's state, made (zeroed) on first use.
RequestState& request_state(request_rec* r);
// The state of the request that ran the handler: `r` or the last of its internal redirects;
// nullptr when none has one.
RequestState* find_request_state(request_rec* r, request_rec** owner);

// An object of type T owned by `pool`: deleted when the pool is cleared.
template <typename T, typename... Args>
T* pool_owned(apr_pool_t* pool, Args&&... args)
{
    T* object = new T(std::forward<Args>(args)...);
    apr_pool_cleanup_register(
        pool, object,
        [](void* o) noexcept -> apr_status_t {
            delete static_cast<T*>(o);
            return APR_SUCCESS;
        },
        apr_pool_cleanup_null);
    return object;
}

}  // namespace audio_stream::apache

#endif
