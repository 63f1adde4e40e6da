#include "listener.h"

#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>

#include "apr_sha1.h"

namespace audio_stream::stats {

std::string listener_address(std::string_view ip)
{
    char text[INET6_ADDRSTRLEN + 4] = {};
    if (ip.size() >= sizeof text) {
        return std::string(ip);
    }
    std::memcpy(text, ip.data(), ip.size());
    unsigned char v6[16];
    if (inet_pton(AF_INET6, text, v6) != 1) {
        return std::string(ip);  // IPv4, or not an address
    }
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6, kMapped, sizeof kMapped) == 0) {
        return inet_ntop(AF_INET, v6 + 12, text, sizeof text) ? std::string(text) : std::string(ip);
    }
    std::memset(v6 + 8, 0, 8);
    if (!inet_ntop(AF_INET6, v6, text, sizeof text)) {
        return std::string(ip);
    }
    return std::string(text) + "/64";
}

namespace {

void add_field(apr_sha1_ctx_t& ctx, std::string_view field)
{
    const std::string length = std::to_string(field.size()) + ":";
    apr_sha1_update_binary(&ctx, reinterpret_cast<const unsigned char*>(length.data()),
                           static_cast<unsigned int>(length.size()));
    apr_sha1_update_binary(&ctx, reinterpret_cast<const unsigned char*>(field.data()),
                           static_cast<unsigned int>(field.size()));
}

// The first `bytes` bytes of SHA-1 over the fields (each length-prefixed), in hex.
std::string hashed(std::initializer_list<std::string_view> fields, std::size_t bytes = APR_SHA1_DIGESTSIZE)
{
    apr_sha1_ctx_t ctx;
    apr_sha1_init(&ctx);
    for (const std::string_view field : fields) {
        add_field(ctx, field);
    }
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    apr_sha1_final(digest, &ctx);
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (std::size_t i = 0; i < bytes && i < sizeof digest; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 15];
    }
    return hex;
}

}  // namespace

std::string listener_key(std::string_view salt, std::string_view address, std::string_view user_agent,
                         std::string_view file, std::int64_t day)
{
    const std::string hex = hashed({salt, address, user_agent, file});
    // shmcb files an entry in the subcache its key's first byte picks (the byte's low bits): a
    // first byte from 64 consecutive characters ('0' to 'o'), drawn from the hash, spreads the
    // listeners over all of them (up to 64); with "as1:" first every listener went to one, and
    // a 512 KB shmcb kept about 130 of them.
    const int spread = std::stoi(hex.substr(0, 2), nullptr, 16) & 63;
    return static_cast<char>('0' + spread) + ("as1:" + std::to_string(day) + ":" + hex);
}

std::string listener_tag(std::string_view salt, std::string_view address, std::string_view user_agent)
{
    return hashed({"listener", salt, address, user_agent}, 8);
}

std::string keyed_salt(std::string_view secret, std::string_view salt)
{
    return secret.empty() ? std::string(salt) : hashed({"secret", secret, salt});
}

}  // namespace audio_stream::stats
