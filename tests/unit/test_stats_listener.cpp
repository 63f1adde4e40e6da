// listener_address (an IPv6 client is its /64, an IPv4-mapped one its IPv4 address) and
// listener_key (the salted SHA-1 that stands for a listener and a file on one UTC day),
// listener_tag (the listener in the logs) and keyed_salt (AudioStreamStatsSecret).
#include "src/stats/listener.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

namespace audio_stream::stats {
namespace {

TEST(ListenerAddress, Ipv4IsUnchanged)
{
    EXPECT_EQ(listener_address("192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(listener_address("203.0.113.254"), "203.0.113.254");
    EXPECT_EQ(listener_address("0.0.0.0"), "0.0.0.0");
}

// The /64 a household or a phone keeps while the interface identifier rotates.
TEST(ListenerAddress, Ipv6IsItsSlash64)
{
    EXPECT_EQ(listener_address("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    EXPECT_EQ(listener_address("2001:0db8:0001:0002:abcd:ef01:2345:6789"), "2001:db8:1:2::/64");
    EXPECT_EQ(listener_address("2001:DB8:1:2::1"), "2001:db8:1:2::/64");
    EXPECT_EQ(listener_address("2001:db8::1"), "2001:db8::/64");
    EXPECT_EQ(listener_address("::1"), "::/64");
    EXPECT_EQ(listener_address("::"), "::/64");
    EXPECT_EQ(listener_address("fe80::1"), "fe80::/64");
    EXPECT_EQ(listener_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "ffff:ffff:ffff:ffff::/64");
}

TEST(ListenerAddress, TwoAddressesInOneSlash64AreOneListener)
{
    const std::string a = listener_address("2001:db8:abcd:12::1");
    const std::string b = listener_address("2001:db8:abcd:12:a1b2:c3d4:e5f6:789");
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, "2001:db8:abcd:12::/64");
    // The next /64 is another listener.
    EXPECT_NE(listener_address("2001:db8:abcd:13::1"), a);
    // So are the keys: one listener, one key.
    EXPECT_EQ(listener_key("salt", a, "ua", "f", 1), listener_key("salt", b, "ua", "f", 1));
}

TEST(ListenerAddress, Ipv4MappedIpv6IsTheIpv4Address)
{
    EXPECT_EQ(listener_address("::ffff:192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(listener_address("::FFFF:198.51.100.7"), "198.51.100.7");
    EXPECT_EQ(listener_address("::ffff:c000:0201"), "192.0.2.1");
    EXPECT_EQ(listener_address("::ffff:192.0.2.1"), listener_address("192.0.2.1"));
    // Not mapped (the deprecated IPv4-compatible form, NAT64): an IPv6 /64 like any other.
    EXPECT_EQ(listener_address("::192.0.2.1"), "::/64");
    EXPECT_EQ(listener_address("64:ff9b::192.0.2.1"), "64:ff9b::/64");
}

TEST(ListenerAddress, WhatIsNotAnAddressComesBackAsItIs)
{
    for (const char* text : {"", "localhost", "not an address", "2001:db8::1::2", "2001:db8:::1", "1.2.3",
                             "fe80::1%eth0", "[2001:db8::1]", "2001:db8::1/64", ":::", "12345::"}) {
        EXPECT_EQ(listener_address(text), text) << text;
    }
    // Longer than any address text: not parsed, not cut.
    const std::string long_text = "2001:db8:1:2:3:4:5:6" + std::string(100, ' ');
    EXPECT_EQ(listener_address(long_text), long_text);
    const std::string huge(9000, '1');
    EXPECT_EQ(listener_address(huge), huge);
}

// The view need not be NUL-terminated: only its bytes are parsed.
TEST(ListenerAddress, OnlyTheViewIsRead)
{
    const std::string text = "2001:db8:1:2::1 and more";
    EXPECT_EQ(listener_address(std::string_view(text).substr(0, 15)), "2001:db8:1:2::/64");
    const std::string v4 = "192.0.2.1999";
    EXPECT_EQ(listener_address(std::string_view(v4).substr(0, 9)), "192.0.2.1");
}

// The spreading character, then `prefix`, then 40 hex digits whose first byte's low six bits,
// over '0', are that character.
bool is_hex_key(const std::string& key, const std::string& prefix)
{
    if (key.size() != 1 + prefix.size() + 40 || key.compare(1, prefix.size(), prefix) != 0) {
        return false;
    }
    for (std::size_t i = 1 + prefix.size(); i < key.size(); ++i) {
        const char c = key[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    const int first = std::stoi(key.substr(1 + prefix.size(), 2), nullptr, 16);
    return key[0] == '0' + (first & 63);
}

TEST(ListenerKey, IsASpreadingCharacterVersionDayAndFortyLowercaseHexDigits)
{
    EXPECT_TRUE(is_hex_key(listener_key("s", "192.0.2.1", "ua", "host/a.mp3", 19700), "as1:19700:"));
    EXPECT_TRUE(is_hex_key(listener_key("", "", "", "", 0), "as1:0:"));
    EXPECT_TRUE(is_hex_key(listener_key("s", "a", "u", "f", -1), "as1:-1:"));
}

// SHA-1 over "<len>:<field>" for salt, address, user agent and file, in that order: an
// independent value, so that the hashing cannot change without this test noticing. The first
// character: 0xaf & 63 = 47, '0' + 47 = '_'; 0x19 & 63 = 25, '0' + 25 = 'I'.
TEST(ListenerKey, IsTheSha1OfTheLengthPrefixedFields)
{
    // printf '0:0:0:0:' | sha1sum
    EXPECT_EQ(listener_key("", "", "", "", 0), "_as1:0:af7d6b824c96b832606097156d3f5aec9a15b5af");
    // printf '4:salt9:192.0.2.12:ua10:host/a.mp3' | sha1sum
    EXPECT_EQ(listener_key("salt", "192.0.2.1", "ua", "host/a.mp3", 20000),
              "Ias1:20000:19ea098f0f8b779b557ead834eee9365998e8765");
}

TEST(ListenerKey, TheSameInputsGiveTheSameKey)
{
    EXPECT_EQ(listener_key("salt", "192.0.2.1", "Podcasts/1.0", "example.org/ep1.mp3", 20000),
              listener_key("salt", "192.0.2.1", "Podcasts/1.0", "example.org/ep1.mp3", 20000));
}

TEST(ListenerKey, EveryFieldChangesTheKey)
{
    const std::string base = listener_key("salt", "192.0.2.1", "ua", "f", 20000);
    EXPECT_NE(listener_key("tlas", "192.0.2.1", "ua", "f", 20000), base);
    EXPECT_NE(listener_key("salt", "192.0.2.2", "ua", "f", 20000), base);
    EXPECT_NE(listener_key("salt", "192.0.2.1", "ub", "f", 20000), base);
    EXPECT_NE(listener_key("salt", "192.0.2.1", "ua", "g", 20000), base);
    const std::string next_day = listener_key("salt", "192.0.2.1", "ua", "f", 20001);
    EXPECT_NE(next_day, base);
    // The day is in the prefix, not in the hash: the same 40 digits on another day.
    EXPECT_EQ(next_day.substr(next_day.size() - 40), base.substr(base.size() - 40));
}

// Length-prefixed fields: moving bytes from one field to the next gives another key.
TEST(ListenerKey, FieldBoundariesCannotBeShifted)
{
    std::set<std::string> keys;
    keys.insert(listener_key("ab", "c", "d", "e", 1));
    keys.insert(listener_key("a", "bc", "d", "e", 1));
    keys.insert(listener_key("a", "b", "cd", "e", 1));
    keys.insert(listener_key("a", "b", "c", "de", 1));
    keys.insert(listener_key("abcde", "", "", "", 1));
    keys.insert(listener_key("", "", "", "abcde", 1));
    // A field that looks like a length prefix does not forge one.
    keys.insert(listener_key("a", "1:b", "c", "d", 1));
    keys.insert(listener_key("a1:", "b", "c", "d", 1));
    EXPECT_EQ(keys.size(), 8u);
}

// The salt is raw bytes: NUL and high bytes count, and the address never appears in the key.
TEST(ListenerKey, BinarySaltAndNoAddressInTheKey)
{
    const std::string salt_a("\0\x01\xff\x80", 4);
    const std::string salt_b("\0\x01\xff\x81", 4);
    const std::string a = listener_key(salt_a, "192.0.2.1", "ua", "f", 7);
    EXPECT_NE(a, listener_key(salt_b, "192.0.2.1", "ua", "f", 7));
    EXPECT_NE(a, listener_key(std::string("\0", 1), "192.0.2.1", "ua", "f", 7));
    EXPECT_EQ(a.find("192.0.2.1"), std::string::npos);
}

TEST(ListenerKey, ExtremeDaysAndLongFields)
{
    EXPECT_TRUE(is_hex_key(listener_key("s", "a", "u", "f", INT64_MAX), "as1:9223372036854775807:"));
    EXPECT_TRUE(is_hex_key(listener_key("s", "a", "u", "f", INT64_MIN), "as1:-9223372036854775808:"));
    const std::string ua(8192, 'u');
    EXPECT_TRUE(is_hex_key(listener_key("s", "a", ua, "f", 3), "as1:3:"));
    EXPECT_NE(listener_key("s", "a", ua, "f", 3), listener_key("s", "a", ua + "u", "f", 3));
}

// ---- the listener's tag in the logs, and the secret ------------------------------------------

// SHA-1 over "listener", salt, address and user agent (length-prefixed), its first 8 bytes.
TEST(ListenerTag, IsSixteenHexDigitsOfTheSha1)
{
    // printf '8:listener4:salt9:192.0.2.12:ua' | sha1sum
    EXPECT_EQ(listener_tag("salt", "192.0.2.1", "ua"), "0c86ff900d527ffe");
}

// One listener a day whatever the file, another on another day (salt) or with another agent;
// the tag is not the file's key, and holds no address.
TEST(ListenerTag, NamesTheListenerForTheDayOnly)
{
    const std::string a = listener_tag("salt", listener_address("2001:db8:1:2::1"), "ua");
    EXPECT_EQ(a, listener_tag("salt", listener_address("2001:db8:1:2:ffff::9"), "ua"));
    EXPECT_NE(a, listener_tag("salt", listener_address("2001:db8:1:3::1"), "ua"));
    EXPECT_NE(a, listener_tag("tlas", listener_address("2001:db8:1:2::1"), "ua"));
    EXPECT_NE(a, listener_tag("salt", listener_address("2001:db8:1:2::1"), "ub"));
    EXPECT_EQ(listener_key("salt", "192.0.2.1", "ua", "f", 1).find(listener_tag("salt", "192.0.2.1", "ua")),
              std::string::npos);
    EXPECT_EQ(a.find("2001"), std::string::npos);
}

// Without a secret the store's salt is the key's; with one, SHA-1(secret, salt), so that the
// store's salt alone does not make the keys.
TEST(KeyedSalt, TheSecretIsMixedIntoTheSalt)
{
    EXPECT_EQ(keyed_salt("", "salt"), "salt");
    // printf '6:secret6:hunter4:salt' | sha1sum
    EXPECT_EQ(keyed_salt("hunter", "salt"), "8637641c136083ca01c795b247db2e5d31c2369c");
    EXPECT_NE(keyed_salt("hunter", "salt"), keyed_salt("hunted", "salt"));
    EXPECT_NE(keyed_salt("hunter", "salt"), keyed_salt("hunter", "tlas"));
}

}  // namespace
}  // namespace audio_stream::stats
