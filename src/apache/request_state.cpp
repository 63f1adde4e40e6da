#include "request_state.h"

#include <new>

namespace audio_stream::apache {

namespace {

// Destroyed with r->pool (it holds no resources, only values).
apr_status_t destroy_state(void* state) noexcept
{
    static_cast<RequestState*>(state)->~RequestState();
    return APR_SUCCESS;
}

}  // namespace

RequestState& request_state(request_rec* r)
{
    if (auto* state = static_cast<RequestState*>(ap_get_module_config(r->request_config, &audio_stream_module))) {
        return *state;
    }
    auto* state = new (apr_palloc(r->pool, sizeof(RequestState))) RequestState();
    apr_pool_cleanup_register(r->pool, state, destroy_state, apr_pool_cleanup_null);
    ap_set_module_config(r->request_config, &audio_stream_module, state);
    return *state;
}

RequestState* find_request_state(request_rec* r, request_rec** owner)
{
    for (request_rec* at = r; at; at = at->next) {
        if (auto* state = static_cast<RequestState*>(ap_get_module_config(at->request_config, &audio_stream_module))) {
            *owner = at;
            return state;
        }
    }
    return nullptr;
}

}  // namespace audio_stream::apache
