// The ID3v2 tags of an MP3 cut or clip (id3.h, id3_write.h, through cut_mp3): a tag whose
// frames describe the original's timeline is rewritten, not dropped. Chapters (ID3v2 Chapter
// Frame Addendum: CHAP, CTOC) overlapping the cut are kept with their times rebased to it and
// their byte offsets unused, the others dropped, tables of contents list what remains; TLEN says
// the cut's length; SYLT, ETCO, SYTC, POSS, MLLT, ASPI, SEEK and iTunes gapless comments go;
// every other frame (titles, cover art, the chapters' own titles and images) is the original's
// bytes, referenced from the file. Checked on hand-made tags before a real stream.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "src/formats/mp3/id3.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace test_tools;
using namespace mp3_test;

// A frame in ID3v2.`major` (3 or 4), with its format flags.
std::string frame(const std::string& id, const std::string& body, unsigned major, unsigned char format = 0)
{
    const auto size = static_cast<std::uint32_t>(body.size());
    return id + (major == 4 ? syncsafe(size) : be32s(size)) + '\0' + static_cast<char>(format) + body;
}

// A tag of these frames and `padding` zero bytes.
std::string tag(const std::string& frames, unsigned major, std::size_t padding = 16)
{
    const std::string body = frames + std::string(padding, '\0');
    return std::string("ID3") + static_cast<char>(major) + '\0' + '\0' + syncsafe(static_cast<std::uint32_t>(body.size())) +
           body;
}

std::string text(const std::string& s) { return '\0' + s; }

std::string chap(const std::string& id, std::uint32_t start, std::uint32_t end, std::uint32_t start_byte,
                 std::uint32_t end_byte, const std::string& embedded)
{
    return id + '\0' + be32s(start) + be32s(end) + be32s(start_byte) + be32s(end_byte) + embedded;
}

std::string ctoc(const std::string& id, unsigned char flags, const std::vector<std::string>& children,
                 const std::string& embedded)
{
    std::string b = id + '\0' + static_cast<char>(flags) + static_cast<char>(children.size());
    for (const auto& c : children) {
        b += c + '\0';
    }
    return b + embedded;
}

// Bytes that no tag builder writes by chance: a picture's stand-in.
std::string picture(std::size_t n, char seed)
{
    std::string p = std::string("\0image/jpeg\0\3\0", 14);
    for (std::size_t i = 0; p.size() < n; ++i) {
        p.push_back(static_cast<char>(seed + i * 7));
    }
    return p;
}

constexpr std::uint32_t kUnused = 0xFFFFFFFF;

// A podcast's tag: a title, a table of contents, four chapters with titles (one with an image),
// its length, synced lyrics, iTunes' gapless comment, a comment, the cover.
std::string podcast_tag(unsigned major)
{
    const auto title = [&](const std::string& t) { return frame("TIT2", text(t), major); };
    return tag(frame("TIT2", text("Show"), major) +
                   frame("CTOC", ctoc("toc", 0x03, {"chp0", "chp1", "chp2", "chp3"}, title("Contents")), major) +
                   frame("CHAP", chap("chp0", 0, 4000, 0, 1000, title("Intro")), major) +
                   frame("CHAP", chap("chp1", 4000, 9000, 1000, 2000, title("One") + frame("APIC", picture(3000, 'a'), major)), major) +
                   frame("CHAP", chap("chp2", 9000, 15000, 2000, 3000, title("Two")), major) +
                   frame("CHAP", chap("chp3", 15000, 20000, 3000, 4000, title("Three")), major) +
                   frame("TLEN", text("20000"), major) + frame("SYLT", std::string(12, '\0'), major) +
                   frame("COMM", std::string("\0eng" "iTunSMPB\0 00000000 00000210", 31), major) +
                   frame("COMM", std::string("\0eng\0hello", 10), major) + frame("APIC", picture(5000, 'c'), major),
               major);
}

// Cuts of the fixture's audio behind hand-made tags.
class Mp3Id3Cuts : public Mp3Files {
protected:
    struct Made {
        Cut cut;
        std::string bytes;  // the whole cut
        std::string tags;   // what comes before its audio
    };

    // The cut of `tag_bytes` before the fixture's audio over `span`; its audio must be the same
    // cut's of the audio alone, whatever becomes of the tags.
    Made cut_with(const std::string& tag_bytes, const Span& span)
    {
        const std::string& original = fixture("CbrStereo44k").bytes;
        const std::string audio = original.substr(id3_size(original));
        const std::string file = tag_bytes + audio;
        Made m;
        m.cut = served_cut("audio/mpeg", file, span);
        EXPECT_EQ(m.cut.status, Cut::Status::Ok) << m.cut.detail;
        expect_invariants(m.cut, file.size());
        m.bytes = materialise(m.cut, file);
        const Cut bare = served_cut("audio/mpeg", audio, span);
        EXPECT_EQ(m.bytes.substr(m.bytes.size() - bare.rep.length), materialise(bare, audio));
        m.tags = m.bytes.substr(0, m.bytes.size() - bare.rep.length);
        return m;
    }
};

class Mp3Id3Rewrite : public Mp3Id3Cuts, public ::testing::WithParamInterface<unsigned> {};

TEST_P(Mp3Id3Rewrite, ACutKeepsTheTagWithItsChaptersRebased)
{
    ASSERT_EQ(errors(), "");
    const unsigned major = GetParam();
    const auto title = [&](const std::string& t) { return frame("TIT2", text(t), major); };
    const Made made = cut_with(podcast_tag(major), Span{5000000, Span::kToTheEnd});
    const Cut& cut = made.cut;
    const std::string& got = made.tags;
    ASSERT_EQ(cut.start, 5000000);
    ASSERT_EQ(cut.duration, 15000000);
    // chp0 ends before 5 s: gone. chp1 holds 5 s: from 0. The others 5 s earlier.
    const std::string expected =
        tag(frame("TIT2", text("Show"), major) +
                frame("CTOC", ctoc("toc", 0x03, {"chp1", "chp2", "chp3"}, title("Contents")), major) +
                frame("CHAP", chap("chp1", 0, 4000, kUnused, kUnused, title("One") + frame("APIC", picture(3000, 'a'), major)), major) +
                frame("CHAP", chap("chp2", 4000, 10000, kUnused, kUnused, title("Two")), major) +
                frame("CHAP", chap("chp3", 10000, 15000, kUnused, kUnused, title("Three")), major) +
                frame("TLEN", text("15000"), major) + frame("COMM", std::string("\0eng\0hello", 10), major) +
                frame("APIC", picture(5000, 'c'), major),
            major, 0);
    EXPECT_EQ(got, expected);
    // The pictures are the file's bytes, never copied into memory.
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            EXPECT_EQ(m->bytes.find(picture(3000, 'a').substr(20, 200)), std::string::npos);
            EXPECT_EQ(m->bytes.find(picture(5000, 'c').substr(20, 200)), std::string::npos);
        }
    }
}

TEST_P(Mp3Id3Rewrite, AClipKeepsTheChaptersItOverlapsEndingAtItsEnd)
{
    ASSERT_EQ(errors(), "");
    const unsigned major = GetParam();
    const auto title = [&](const std::string& t) { return frame("TIT2", text(t), major); };
    const std::string got = cut_with(podcast_tag(major), Span{5000000, 12000000}).tags;
    const std::string expected =
        tag(frame("TIT2", text("Show"), major) +
                frame("CTOC", ctoc("toc", 0x03, {"chp1", "chp2"}, title("Contents")), major) +
                frame("CHAP", chap("chp1", 0, 4000, kUnused, kUnused, title("One") + frame("APIC", picture(3000, 'a'), major)), major) +
                frame("CHAP", chap("chp2", 4000, 7000, kUnused, kUnused, title("Two")), major) +
                frame("TLEN", text("7000"), major) + frame("COMM", std::string("\0eng\0hello", 10), major) +
                frame("APIC", picture(5000, 'c'), major),
            major, 0);
    EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Versions, Mp3Id3Rewrite, ::testing::Values(3u, 4u),
                         [](const auto& info) { return "Id3v2_" + std::to_string(info.param); });

TEST_F(Mp3Files, Id3v22LengthIsRewrittenAndLyricsDropped)
{
    ASSERT_EQ(errors(), "");
    const auto v22 = [](const std::string& frames) {
        return std::string("ID3\2\0\0", 6) + syncsafe(static_cast<std::uint32_t>(frames.size())) + frames;
    };
    const auto f22 = [](const std::string& id, const std::string& body) {
        return id + be32s(static_cast<std::uint32_t>(body.size())).substr(1) + body;
    };
    const std::string& original = fixture("CbrStereo44k").bytes;
    const std::string audio = original.substr(id3_size(original));
    const std::string file = v22(f22("TT2", text("Show")) + f22("TLE", text("20000")) + f22("SLT", std::string(8, '\0'))) + audio;
    const Cut cut = served_cut("audio/mpeg", file, Span{5000000, Span::kToTheEnd});
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string expected = v22(f22("TT2", text("Show")) + f22("TLE", text("15000")));
    EXPECT_EQ(materialise(cut, file).substr(0, expected.size()), expected);
}

// A tag without timeline frames goes into a cut as it is (moved from test_mp3_frames.cpp); what
// a cut cannot vouch for leaves the tags out, and the cut is made all the same.
struct Id3Case {
    const char* name;
    std::string tag;
    bool kept;
};

std::vector<Id3Case> id3_cases()
{
    const std::string title = std::string("\0x", 2);
    std::string many;
    for (unsigned i = 0; i <= mp3::kMaxId3Edits; ++i) {
        many += frame("CHAP", chap("c" + std::to_string(i), i, i + 1, 0, 0, ""), 3);
    }
    return {
        {"TextFramesAreKept", id3_tag({{"TIT2", title}, {"TPE1", title}}), true},
        {"Version24WithFooterIsKept", id3_tag({{"TIT2", title}}, 4, 0x10), true},
        {"TwoTagsInARowAreKept", id3_tag({{"TIT2", title}}) + id3_tag({{"TALB", title}}), true},
        // Whole-tag unsynchronisation (v2.3) hides frame headers: not vouched for.
        {"UnsynchronisedTagIsDropped", id3_tag({{"TIT2", title}}, 3, 0x80), false},
        {"UnknownMajorVersionIsDropped", id3_tag({{"TIT2", title}}, 5), false},
        {"BadFrameIdIsDropped", id3_tag({{"T!T2", title}}), false},
        {"CompressedChapter", tag(frame("CHAP", chap("chp0", 0, 4000, 0, 0, ""), 4, 0x08), 4), false},
        {"ChapterIdWithoutTerminator", tag(frame("CHAP", std::string(300, 'x'), 3), 3), false},
        {"ChapterTooShortForItsTimes", tag(frame("CHAP", std::string("chp0\0\0\0\0\0", 9), 3), 3), false},
        {"TocWithMissingChildren", tag(frame("CTOC", std::string("toc\0\3\4a\0b\0", 10), 3), 3), false},
        {"MoreEditsThanTheCap", tag(many, 3), false},
        {"MoreElementIdBytesThanTheCap",
         tag(frame("CTOC", ctoc("toc", 0, std::vector<std::string>(70, std::string(250, 'i')), ""), 3), 3), false},
    };
}

class Mp3Id3 : public Mp3Id3Cuts, public ::testing::WithParamInterface<Id3Case> {};

TEST_P(Mp3Id3, TagIsKeptAsItIsOrLeftOut)
{
    ASSERT_EQ(errors(), "");
    const std::string& tag = GetParam().tag;
    const Made made = cut_with(tag, Span{5000000, Span::kToTheEnd});
    if (GetParam().kept) {
        EXPECT_EQ(made.tags, tag);
        EXPECT_TRUE(read_xing(made.bytes, tag.size()).ok);
    }
    else {
        EXPECT_EQ(made.tags, "");
        EXPECT_TRUE(read_xing(made.bytes, 0).ok) << "the cut starts with its header frame";
    }
}

INSTANTIATE_TEST_SUITE_P(Tags, Mp3Id3, ::testing::ValuesIn(id3_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
