// What every libFuzzer target here shares: CHECK, which traps on a failed invariant (libFuzzer
// then saves the input), and the split of an input into a fixed settings prefix and the rest.
#ifndef AUDIO_STREAM_FUZZ_CHECK_H
#define AUDIO_STREAM_FUZZ_CHECK_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace fuzz_check {

// Printed under a failed invariant: what the code under test answered (a target fills it in).
inline char context[160];

// The first N bytes of an input, zeros where the input is shorter, and the bytes after them.
template <std::size_t N>
struct Input {
    std::uint8_t prefix[N] = {};
    std::string_view rest;
};

template <std::size_t N>
Input<N> split(const std::uint8_t* data, std::size_t size)
{
    Input<N> in;
    if (size != 0) {
        std::memcpy(in.prefix, data, size < N ? size : N);
    }
    if (size > N) {
        in.rest = std::string_view(reinterpret_cast<const char*>(data) + N, size - N);
    }
    return in;
}

}  // namespace fuzz_check

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "invariant failed: %s (line %d)\n%s\n", #cond, __LINE__,     \
                         fuzz_check::context);                                                 \
            __builtin_trap();                                                                  \
        }                                                                                      \
    } while (0)

#endif
