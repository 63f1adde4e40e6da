// Who is asking, by the User-Agent alone (IAB Podcast Measurement Technical Guidelines v2.3
// §5.5): a listener's app, a self-declared bot, an Apple Watch repeating its phone's
// download, or nobody saying.
#ifndef AUDIO_STREAM_STATS_CLIENT_H
#define AUDIO_STREAM_STATS_CLIENT_H

#include <string_view>

namespace audio_stream::stats {

enum class Client {
    Ok,       // counts
    Bot,      // says it is a bot, crawler, spider... (kBotWords)
    WatchOs,  // an Apple Watch: its downloads duplicate the phone's
    None,     // no User-Agent (or an empty one): nobody to count
};

// The words that make a User-Agent a self-declared bot, matched case-insensitively anywhere in
// it (README lists them). Written in lowercase.
// Only words a client uses to say what it is: tools (curl, wget) and headless browsers are not
// bots by their own account, and are counted.
inline constexpr std::string_view kBotWords[] = {"bot", "crawl", "spider", "slurp", "scraper", "archiver"};

// nullptr or "" is None. Work is linear in the User-Agent's length (bounded by httpd's header
// limit).
Client classify_client(const char* user_agent);

// "ok", "bot", "watchos", "none": AUDIO_CLIENT.
const char* client_name(Client c);

}  // namespace audio_stream::stats

#endif
