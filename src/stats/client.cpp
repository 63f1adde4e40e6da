#include "client.h"

#include <cstring>
#include <string>

#include "../ascii.h"

namespace audio_stream::stats {

namespace {

// Lowercased once, then searched for each (lowercase) word: every request of a counted
// location asks, so this is one pass and a few substring searches, not a comparison of every
// word at every position.
bool has_bot_word(std::string_view ua)
{
    std::string lower(ua);
    for (char& c : lower) {
        c = ascii_lower(c);
    }
    for (const std::string_view word : kBotWords) {
        if (lower.find(word) != std::string::npos) {
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
    return has_bot_word(ua) ? Client::Bot : Client::Ok;
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
