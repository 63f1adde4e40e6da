#include "client.h"

#include <cstring>

#include "../ascii.h"

namespace audio_stream::stats {

namespace {

bool contains(std::string_view text, std::string_view word)
{
    if (word.size() > text.size()) {
        return false;
    }
    for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
        if (ascii_iequals(text.substr(i, word.size()), word)) {
            return true;
        }
    }
    return false;
}

// PTMG v2.3: "atc/... watchOS/..." (the podcast app's own agent on the watch) or
// "(null)/(null) watchOS/..." (the system's).
bool is_watch(std::string_view ua)
{
    const bool atc = ua.substr(0, 4) == "atc/" && ua.find("watchOS") != std::string_view::npos;
    return atc || ua.find("(null)/(null) watchOS") != std::string_view::npos;
}

}  // namespace

Client classify_client(const char* user_agent)
{
    if (!user_agent || !*user_agent) {
        return Client::None;
    }
    const std::string_view ua(user_agent, std::strlen(user_agent));
    if (is_watch(ua)) {
        return Client::WatchOs;
    }
    for (const std::string_view word : kBotWords) {
        if (contains(ua, word)) {
            return Client::Bot;
        }
    }
    return Client::Ok;
}

const char* client_name(Client c)
{
    switch (c) {
    case Client::Ok: return "ok";
    case Client::Bot: return "bot";
    case Client::WatchOs: return "watchos";
    case Client::None: break;
    }
    return "none";
}

}  // namespace audio_stream::stats
