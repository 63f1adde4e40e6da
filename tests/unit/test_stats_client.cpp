// classify_client: who is asking, by the User-Agent alone (IAB Podcast Measurement Technical
// Guidelines v2.3 §5.5): an app that counts, a self-declared bot, an Apple Watch, nobody.
#include "src/stats/client.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace audio_stream::stats {
namespace {

TEST(StatsClient, NoUserAgentIsNone)
{
    EXPECT_EQ(classify_client(nullptr), Client::None);
    EXPECT_EQ(classify_client(""), Client::None);
}

TEST(StatsClient, PodcastAppsBrowsersAndToolsCount)
{
    for (const char* ua : {
             "AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4_1 like Mac OS X; en_us)",
             "Podcasts/1.0 CFNetwork/1494.0.7 Darwin/23.4.0",
             "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)",
             "Spotify/8.9.2 Android/34 (Pixel 8)",
             "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
             // Tools and headless browsers do not call themselves bots: they are counted.
             "curl/8.5.0",
             "Wget/1.21.4",
             "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0.0.0 Safari/537.36",
             "x",
             " ",
         }) {
        EXPECT_EQ(classify_client(ua), Client::Ok) << ua;
    }
}

TEST(StatsClient, EveryBotWordAnywhereInAnyCaseIsABot)
{
    for (const std::string_view word : kBotWords) {
        const std::string w(word);
        std::string upper = w;
        for (char& c : upper) {
            c = static_cast<char>(c - 'a' + 'A');
        }
        std::string mixed = w;
        mixed[0] = static_cast<char>(mixed[0] - 'a' + 'A');
        for (const std::string& ua : {w, upper, mixed, "Mozilla/5.0 (compatible; " + mixed + "/2.1)",
                                      "prefix" + w, w + "suffix", "a" + upper + "b"}) {
            EXPECT_EQ(classify_client(ua.c_str()), Client::Bot) << ua;
        }
    }
}

TEST(StatsClient, WellKnownCrawlersAreBots)
{
    for (const char* ua : {
             "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
             "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
             "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
             "ia_archiver (+http://www.alexa.com/site/help/webmasters; crawler@alexa.com)",
             "Baiduspider+(+http://www.baidu.com/search/spider.htm)",
             "CCBot/2.0 (https://commoncrawl.org/faq/)",
             "Mozilla/5.0 (compatible; AhrefsBot/7.0)",
             "SomeScraper/1.0",
             "heritrix/3.4 (Internet Archive crawl; +http://archive.org)",
         }) {
        EXPECT_EQ(classify_client(ua), Client::Bot) << ua;
    }
}

// PTMG v2.3: the podcast app on the watch ("atc/... watchOS/...") and the system's agent
// ("(null)/(null) watchOS/...") repeat the phone's download.
TEST(StatsClient, AppleWatchAgentsAreWatchOs)
{
    EXPECT_EQ(classify_client("atc/1.0 watchOS/10.4 model/Watch6,1 hwp/t8301 build/21T216 (6; dt:303)"),
              Client::WatchOs);
    EXPECT_EQ(classify_client("(null)/(null) watchOS/10.4 model/Watch6,1 hwp/t8301 build/21T216 (6; dt:303)"),
              Client::WatchOs);
    EXPECT_EQ(classify_client("Something (null)/(null) watchOS/9.0"), Client::WatchOs);
}

TEST(StatsClient, WatchRulesAreExact)
{
    // "atc/" only at the start, "watchOS" with that case; "atc/" without watchOS is an app.
    EXPECT_EQ(classify_client("atc/1.0 iOS/17.4"), Client::Ok);
    EXPECT_EQ(classify_client("xatc/1.0 watchOS/10.4"), Client::Ok);
    EXPECT_EQ(classify_client("ATC/1.0 watchOS/10.4"), Client::Ok);
    EXPECT_EQ(classify_client("atc/1.0 WATCHOS/10.4"), Client::Ok);
    EXPECT_EQ(classify_client("(null)/(null) iOS/17.4"), Client::Ok);
    EXPECT_EQ(classify_client("(null) (null) watchOS/10.4"), Client::Ok);
    EXPECT_EQ(classify_client("atc/"), Client::Ok);
    EXPECT_EQ(classify_client("atc"), Client::Ok);
    EXPECT_EQ(classify_client("Mozilla/5.0 watchOS/10.4"), Client::Ok);
}

TEST(StatsClient, WatchRuleComesBeforeTheBotWords)
{
    EXPECT_EQ(classify_client("atc/1.0 watchOS/10.4 robot"), Client::WatchOs);
}

// A word split by the end of the string, or a prefix of one, is no match.
TEST(StatsClient, PartialWordsAreNotBots)
{
    for (const char* ua : {"bo", "b-o-t", "b ot", "craw", "spide", "slur", "scrape", "archive"}) {
        EXPECT_EQ(classify_client(ua), Client::Ok) << ua;
    }
    EXPECT_EQ(classify_client("archivers"), Client::Bot);  // the word is in it
}

// httpd's header limit is 8190 bytes by default: a User-Agent of 8 KiB is classified whole,
// with a word at its very end found and none invented.
TEST(StatsClient, AnEightKilobyteUserAgentIsClassifiedWhole)
{
    std::string ua(8192, 'a');
    EXPECT_EQ(classify_client(ua.c_str()), Client::Ok);
    ua.replace(ua.size() - 3, 3, "BoT");
    EXPECT_EQ(classify_client(ua.c_str()), Client::Bot);
    std::string watch = "atc/" + std::string(8192, 'x') + "watchOS";
    EXPECT_EQ(classify_client(watch.c_str()), Client::WatchOs);
    std::string spaced(8192, ' ');
    spaced.replace(4096, 6, "spider");
    EXPECT_EQ(classify_client(spaced.c_str()), Client::Bot);
}

// Not ASCII letters: no word is found by a case fold that reaches past ASCII.
TEST(StatsClient, BytesAbove127AreNotLetters)
{
    EXPECT_EQ(classify_client("\xc3\xa9mission/1.0 (b\xc3\xb6t)"), Client::Ok);
    EXPECT_EQ(classify_client("\xff\xfe\xfd"), Client::Ok);
}

TEST(StatsClient, NamesAreTheLogValues)
{
    EXPECT_STREQ(client_name(Client::Ok), "ok");
    EXPECT_STREQ(client_name(Client::Bot), "bot");
    EXPECT_STREQ(client_name(Client::WatchOs), "watchos");
    EXPECT_STREQ(client_name(Client::None), "none");
}

}  // namespace
}  // namespace audio_stream::stats
