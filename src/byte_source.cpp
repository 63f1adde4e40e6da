#include "byte_source.h"

namespace audio_stream {

namespace {

// Adds n to `spent`, saturating; a message naming the budget when it is now past `limit`.
bool overspent(std::uint64_t& spent, std::uint64_t n, std::uint64_t limit, const char* what, std::string& detail)
{
    spent = n > UINT64_MAX - spent ? UINT64_MAX : spent + n;
    if (spent <= limit) {
        return false;
    }
    detail = "over the request's budget of " + std::to_string(limit) + " " + what;
    return true;
}

}  // namespace

void ByteSource::spend(std::uint64_t reads, std::uint64_t bytes, std::uint64_t steps)
{
    if (unbudgeted_ > 0) {
        return;
    }
    std::string detail;
    if (overspent(spent_.reads, reads, budget_.reads, "reads", detail) ||
        overspent(spent_.bytes, bytes, budget_.bytes, "bytes read", detail)) {
        throw BudgetSpent{std::move(detail), false};
    }
    if (overspent(spent_.steps, steps, budget_.steps, "steps", detail)) {
        throw BudgetSpent{std::move(detail), true};
    }
}

}  // namespace audio_stream
