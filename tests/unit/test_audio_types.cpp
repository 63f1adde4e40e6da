// audio_type_for_path: the registered media type for an audio file's extension
// (RFC 9110 §8.3: Content-Type names the representation's media type).
#include "src/audio_types.h"

#include <gtest/gtest.h>

#include <string>

namespace audio_stream {
namespace {

struct TypeCase {
    const char* name;
    const char* path;
    const char* type;
    friend void PrintTo(const TypeCase& c, std::ostream* os) { *os << c.name; }
};

const TypeCase kTypes[] = {
    // RFC 3003: MPEG audio is audio/mpeg; audio/mp3 is not a registered type.
    {"Rfc3003_Mp3IsAudioMpeg", "/music/track.mp3", "audio/mpeg"},
    {"Rfc3003_Mp3WithoutDirectory", "track.mp3", "audio/mpeg"},
    {"Rfc3003_ExtensionCaseInsensitiveUpper", "/music/TRACK.MP3", "audio/mpeg"},
    {"Rfc3003_ExtensionCaseInsensitiveMixed", "/music/track.Mp3", "audio/mpeg"},
    {"Rfc3003_LastExtensionWins", "/music/notes.txt.mp3", "audio/mpeg"},
    // RFC 9639: FLAC.
    {"Rfc9639_FlacIsAudioFlac", "/music/track.flac", "audio/flac"},
    {"Rfc9639_FlacCaseInsensitive", "/music/track.FLAC", "audio/flac"},
    // RFC 5334: Ogg audio.
    {"Rfc5334_OggIsAudioOgg", "/music/track.ogg", "audio/ogg"},
    {"Rfc5334_OgaIsAudioOgg", "/music/track.oga", "audio/ogg"},
    // RFC 7845 §9: Ogg Opus files.
    {"Rfc7845_OpusIsAudioOpus", "/music/track.opus", "audio/opus"},
    {"Iana_WavIsAudioWav", "/music/track.wav", "audio/wav"},
    // RFC 4337: MPEG-4 audio.
    {"Rfc4337_M4aIsAudioMp4", "/music/track.m4a", "audio/mp4"},
    {"Iana_AacIsAudioAac", "/music/track.aac", "audio/aac"},
    {"WebM_WebaIsAudioWebm", "/music/track.weba", "audio/webm"},
    {"WebM_WebmIsAudioWebm", "/music/track.webm", "audio/webm"},
    // RFC 2046 §4.5.1: anything we cannot name is application/octet-stream.
    {"Rfc2046_UnknownExtensionIsOctetStream", "/music/track.xyz", "application/octet-stream"},
    {"Rfc2046_NoExtensionIsOctetStream", "/music/track", "application/octet-stream"},
    {"Rfc2046_TrailingDotIsOctetStream", "/music/track.", "application/octet-stream"},
    {"Rfc2046_DotInDirectoryOnlyIsOctetStream", "/a.b/file", "application/octet-stream"},
    {"Rfc2046_AudioExtensionOnDirectoryOnlyIsOctetStream", "/music.mp3/file",
     "application/octet-stream"},
    {"Rfc2046_AudioExtensionNotLastIsOctetStream", "/music/track.mp3.txt",
     "application/octet-stream"},
    {"Rfc2046_ExtensionPrefixIsOctetStream", "/music/track.mp", "application/octet-stream"},
    {"Rfc2046_ExtensionWithExtraCharIsOctetStream", "/music/track.mp33",
     "application/octet-stream"},
    {"Rfc2046_EmptyPathIsOctetStream", "", "application/octet-stream"},
    {"Rfc2046_PathEndingInSlashIsOctetStream", "/music.mp3/", "application/octet-stream"},
};

class AudioTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(AudioTypeTest, TypeIsExact)
{
    EXPECT_EQ(audio_type_for_path(GetParam().path), GetParam().type);
}

INSTANTIATE_TEST_SUITE_P(AudioTypes, AudioTypeTest, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AudioTypes, Rfc2046_UnknownTypeConstantIsOctetStream)
{
    EXPECT_EQ(kUnknownType, "application/octet-stream");
}

}  // namespace
}  // namespace audio_stream
