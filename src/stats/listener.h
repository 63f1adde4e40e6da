// Who a listener is, for counting: the client address (an IPv6 address cut to its /64, the
// part a household or phone keeps while the rest rotates) and the User-Agent, hashed with a
// salt together with the file, so that the shared cache never holds an address.
#ifndef AUDIO_STREAM_STATS_LISTENER_H
#define AUDIO_STREAM_STATS_LISTENER_H

#include <cstdint>
#include <string>
#include <string_view>

namespace audio_stream::stats {

// IPv4 as it is; IPv6 as its /64 prefix ("2001:db8:1:2::/64"); an IPv4-mapped IPv6 address
// as the IPv4 one. Anything that does not parse as an address comes back as it is.
std::string listener_address(std::string_view ip);

// The cache key of (listener, file) on UTC day `day`: "as1:<day>:" and 40 hex digits of
// SHA-1(salt, address, user agent, file), each length-prefixed so that no two differ only in
// where one ends.
std::string listener_key(std::string_view salt, std::string_view address, std::string_view user_agent,
                         std::string_view file, std::int64_t day);

}  // namespace audio_stream::stats

#endif
