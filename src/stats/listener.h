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

// The cache key of (listener, file) on UTC day `day`: a character from '0' to 'o' (the low six
// bits of the hash's first byte, over '0'), "as1:<day>:" and 40 hex digits of SHA-1(salt,
// address, user agent, file), each length-prefixed so that no two differ only in where one
// ends. The first character spreads the keys over shmcb's subcaches.
std::string listener_key(std::string_view salt, std::string_view address, std::string_view user_agent,
                         std::string_view file, std::int64_t day);

// The listener (address as listener_address gives it, and user agent) on the salt's day, for the
// logs: 16 hex digits of SHA-1("listener", salt, address, user agent). One listener has one tag
// a day on every server that shares the salt; the tag cannot be turned back into an address
// without the salt, and the salt is gone from the store two days on.
std::string listener_tag(std::string_view salt, std::string_view address, std::string_view user_agent);

// The salt keys are made with: the store's daily salt as it is without a secret, else 40 hex
// digits of SHA-1(secret, salt), so that a reader of the store (where the salt is) cannot try
// addresses against its keys without the secret too (AudioStreamStatsSecret).
std::string keyed_salt(std::string_view secret, std::string_view salt);

}  // namespace audio_stream::stats

#endif
