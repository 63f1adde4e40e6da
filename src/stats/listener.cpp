#include "listener.h"

#include <arpa/inet.h>

#include <cstring>

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

}  // namespace

std::string listener_key(std::string_view salt, std::string_view address, std::string_view user_agent,
                         std::string_view file, std::int64_t day)
{
    apr_sha1_ctx_t ctx;
    apr_sha1_init(&ctx);
    for (const std::string_view field : {salt, address, user_agent, file}) {
        add_field(ctx, field);
    }
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    apr_sha1_final(digest, &ctx);
    static const char kHex[] = "0123456789abcdef";
    std::string key = "as1:" + std::to_string(day) + ":";
    for (const unsigned char b : digest) {
        key += kHex[b >> 4];
        key += kHex[b & 15];
    }
    return key;
}

}  // namespace audio_stream::stats
