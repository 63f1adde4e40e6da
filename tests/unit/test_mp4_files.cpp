// cut_mp4 on whole files, one test each: the shape of a cut (a faststart copy at 0, stsz's tail
// as a file extent, a roll group added, iTunSMPB dropped, the same cut twice), the caps, and
// audio past 4 GiB in a sparse file. Moved from test_mp4.cpp (split for length), each test
// saying so.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "src/formats/toolbox.h"
#include "tests/unit/mp4_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace mp4_test;

// ?t=0 of a file whose moov is at the end is its faststart copy: the same samples in the same
// order, the moov first, and the audio one file extent.
// (Moved from test_mp4.cpp.)
TEST_F(Mp4Files, CutAtZeroIsAFaststartCopy)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("AacMoovAtEnd").bytes;
    ASSERT_EQ(top_boxes(original)[2].type, "mdat") << "ffmpeg writes ftyp, free, mdat, moov";
    const Cut cut = cut_bytes(original, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, original);
    const Box mdat_in = *find_box(original, {"mdat"});
    const Box mdat_out = *find_box(bytes, {"mdat"});
    EXPECT_EQ(bytes.substr(mdat_out.payload), original.substr(mdat_in.payload, mdat_in.end - mdat_in.payload));
    ASSERT_GE(cut.rep.extents.size(), 2u);
    const auto* audio = std::get_if<FileExtent>(&cut.rep.extents.back());
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(audio->offset, mdat_in.payload);
    EXPECT_EQ(audio->length, mdat_in.end - mdat_in.payload);
    EXPECT_EQ(fixture("AacFaststart").bytes.size(), bytes.size() + 8) << "the same file as +faststart, less its free box";
}

// The memory a cut holds grows with the chunks it keeps, not its samples: the tail of stsz (4
// bytes a sample) is a file extent of the original's table, as is the audio.
// (Moved from test_mp4.cpp.)
TEST_F(Mp4Files, SampleSizesAfterTheCutAreAFileExtent)
{
    ASSERT_TRUE(have_tools());
    const TempDir dir("mp4long");
    const std::string path = dir.path() + "/long.m4a";
    const Command c = run("ffmpeg -nostdin -v error -y -f lavfi -i 'sine=frequency=500:sample_rate=44100:duration=600' "
                          "-c:a aac -b:a 32k '" + path + "'");
    ASSERT_EQ(c.status, 0) << c.output;
    const std::string original = slurp(path);
    const Tables t = audio_tables(original).at(0);
    ASSERT_GT(t.sizes.size(), 25000u);
    const Box stsz = *find_box(original, {"moov", "trak", "mdia", "minf", "stbl", "stsz"});
    const Cut cut = cut_bytes(original, 60000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    std::size_t memory = 0;
    bool sizes_by_extent = false;
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            memory += m->bytes.size();
        }
        else {
            const auto& f = std::get<FileExtent>(e);
            sizes_by_extent = sizes_by_extent || (f.offset > stsz.payload && f.offset + f.length == stsz.end);
        }
    }
    EXPECT_TRUE(sizes_by_extent);
    EXPECT_LT(memory, 4096u) << "headers only; the 4 bytes of each of " << t.sizes.size() << " samples stay in the file";
    const std::string bytes = materialise(cut, original);
    EXPECT_EQ(audio_tables(bytes).at(0).sizes,
              std::vector<std::uint64_t>(t.sizes.end() - static_cast<std::ptrdiff_t>(audio_tables(bytes).at(0).sizes.size()),
                                         t.sizes.end()));
}

// Without a roll group in the file, the cut of an AAC track adds one (sgpd 'roll' -1 for every
// sample), so players that read it know the first packet only primes the decoder.
// (Moved from test_mp4.cpp.)
TEST_F(Mp4Files, AacWithoutARollGroupGetsOne)
{
    ASSERT_EQ(errors(), "");
    const std::string original = without_roll_group(fixture("AacMoovAtEnd").bytes);
    ASSERT_FALSE(audio_tables(original).at(0).roll.has_value());
    const Cut cut = cut_bytes(original, 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, original);
    const Tables t = audio_tables(bytes).at(0);
    EXPECT_EQ(t.roll, std::optional<std::int16_t>(-1));
    EXPECT_EQ(t.roll_samples, t.sizes.size());
    const TempDir dir("mp4roll");
    spit(dir.path() + "/cut.m4a", bytes);
    std::string messages;
    EXPECT_FALSE(decode(dir.path() + "/cut.m4a", 0, &messages).empty());
    EXPECT_EQ(messages, "");
}

// iTunSMPB (iTunes' gapless info: priming, padding and length of the whole file) would be wrong
// for a cut: it is dropped, the other tags are kept.
// (Moved from test_mp4.cpp.)
TEST_F(Mp4Files, ItunSmpbIsDroppedOtherTagsKept)
{
    ASSERT_EQ(errors(), "");
    const std::string original = with_itunsmpb(fixture("AacMoovAtEnd").bytes);
    ASSERT_NE(original.find("iTunSMPB"), std::string::npos);
    ASSERT_NE(original.find("\xa9too"), std::string::npos) << "ffmpeg's encoder tag";
    const Cut cut = cut_bytes(original, 3000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, original);
    EXPECT_EQ(bytes.find("iTunSMPB"), std::string::npos);
    EXPECT_NE(bytes.find("\xa9too"), std::string::npos);
    const auto ilst = find_box(bytes, {"moov", "udta", "meta", "ilst"});
    ASSERT_TRUE(ilst.has_value());
    EXPECT_EQ(kids(bytes, *ilst).back().end, ilst->end) << "ilst's size covers its items exactly";
}

// The same input gives the same cut, named for its start; the cut of a cut plays from where
// the sum of the two starts would. (Moved from test_mp4.cpp.)
TEST_F(Mp4Files, SameInputSameCutAndACutOfTheCutStartsWhereOneCutWould)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("Alac").bytes;
    const Cut a = cut_bytes(original, 5000000);
    const Cut b = cut_bytes(original, 5000000);
    ASSERT_EQ(a.status, Cut::Status::Ok);
    EXPECT_EQ(a.rep.extents, b.rep.extents);
    EXPECT_EQ(a.rep.etag_suffix, "-c3-t5000000");
    // The cut at 5 s cut again at 3 s plays from 8 s of the original.
    const std::string once = materialise(a, original);
    const Cut again = cut_bytes(once, 3000000);
    ASSERT_EQ(again.status, Cut::Status::Ok) << again.detail;
    const std::string twice = materialise(again, once);
    const TempDir dir("mp4twice");
    spit(dir.path() + "/twice.m4a", twice);
    const auto a8 = decode(fixture("Alac").path, 0);
    const auto b8 = decode(dir.path() + "/twice.m4a", 0);
    const std::size_t first = std::size_t{8} * 44100 * 2;
    ASSERT_EQ(b8.size(), a8.size() - first);
    EXPECT_TRUE(std::equal(b8.begin(), b8.end(), a8.begin() + static_cast<std::ptrdiff_t>(first)));
}

// ---- caps and 64-bit offsets ----------------------------------------------------------------

// The caps: a moov over 64 MiB is refused before it is read.
// (Moved from test_mp4.cpp.)
TEST(Mp4Caps, MoovOverTheCapIsMalformedUnread)
{
    const std::string ftyp = box("ftyp", "M4A \0\0\0\0M4A mp42" + std::string(1, '\0'));
    const Offset moov_size = mp4::kMaxMoov + 1;
    SparseSource src(ftyp.size() + moov_size, {{0, ftyp}, {ftyp.size(), bes(moov_size, 4) + "moov"}});
    const Cut cut = cut_mp4(src, 0);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_NE(cut.detail.find("cap"), std::string::npos) << cut.detail;
}

// A file past 4 GiB made from a real one (AacCo64: co64 already, the moov at the end): its
// samples split into two chunks, `a` at the start of a 64-bit mdat and `b` 5 GiB on, in a sparse
// file of which only the boxes and the samples exist.
struct BigFile {
    Offset a_at = 0, b_at = 0, moov_at = 0;
    std::size_t samples_in_a = 0;
    Offset size = 0;
    std::vector<std::pair<Offset, std::string>> pieces;
};

BigFile past_4gib(const std::string& small)
{
    const Tables t = tables(small, tracks(small).at(0));
    EXPECT_EQ(t.chunks.size(), 1u) << "ffmpeg writes one chunk for an audio-only file";
    const auto spans = sample_spans(t);
    BigFile f;
    f.samples_in_a = spans.size() / 2;
    const std::size_t half = f.samples_in_a;
    const std::string a = small.substr(spans[0].first, spans[half].first - spans[0].first);
    const std::string b = small.substr(spans[half].first, spans.back().first + spans.back().second - spans[half].first);
    // ftyp, a 64-bit mdat of [a, zeros, b], then the moov with two chunks.
    const std::string ftyp = small.substr(0, top_boxes(small)[0].end);
    f.a_at = ftyp.size() + 16;
    f.b_at = Offset{5} << 30;
    f.moov_at = f.b_at + b.size();
    const std::string mdat_header = bes(1, 4) + "mdat" + bes(f.moov_at - ftyp.size(), 8);
    const Box old_moov = *find_box(small, {"moov"});
    std::string moov = small.substr(old_moov.offset, old_moov.end - old_moov.offset);
    const Box stbl = *find_box(moov, {"moov", "trak", "mdia", "minf", "stbl"});
    moov = replace_box(moov, *find_box(moov, {"co64"}, stbl), full_box("co64", 0, bes(2, 4) + bes(f.a_at, 8) + bes(f.b_at, 8)));
    const Box stbl2 = *find_box(moov, {"moov", "trak", "mdia", "minf", "stbl"});
    moov = replace_box(moov, *find_box(moov, {"stsc"}, stbl2),
                       full_box("stsc", 0, bes(2, 4) + bes(1, 4) + bes(half, 4) + bes(1, 4) + bes(2, 4) +
                                               bes(spans.size() - half, 4) + bes(1, 4)));
    f.size = f.moov_at + moov.size();
    f.pieces = {{0, ftyp + mdat_header}, {f.a_at, a}, {f.b_at, b}, {f.moov_at, moov}};
    return f;
}

// A cut's headers: everything before its first file extent.
std::string head_of(const Cut& cut)
{
    std::string head;
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            head += m->bytes;
        }
        else {
            break;
        }
    }
    return head;
}

// Audio past 4 GiB: the cut's chunk offsets need 64 bits, so stco becomes co64 and the mdat a
// 64-bit box. (Moved from test_mp4.cpp; the file it makes is past_4gib's.)
TEST_F(Mp4Files, AudioPast4GiBGetsCo64AndA64BitMdat)
{
    ASSERT_EQ(errors(), "");
    const BigFile f = past_4gib(fixture("AacCo64").bytes);
    SparseSource src(f.size, f.pieces);
    const Cut cut = cut_mp4(src, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    ASSERT_EQ(cut.rep.length, extents_length(cut.rep.extents));
    const std::string head = head_of(cut);
    const auto top = boxes(head, 0, head.size());
    ASSERT_EQ(top.size(), 2u) << "ftyp and moov whole; the mdat header follows";
    const Tables out = tables(head, tracks(head).at(0));
    ASSERT_TRUE(out.co64);
    ASSERT_EQ(out.chunks.size(), 2u);
    const std::string rest = head.substr(top[1].end);
    ASSERT_EQ(rest.size(), 16u) << "a 64-bit mdat header";
    EXPECT_EQ(be(rest, 0, 4), 1u);
    EXPECT_EQ(rest.substr(4, 4), "mdat");
    EXPECT_EQ(be(rest, 8, 8), cut.rep.length - top[1].end);
    // Both chunks are where the cut puts the original's bytes.
    EXPECT_EQ(out.chunks[0], head.size());
    EXPECT_EQ(out.chunks[1], head.size() + (f.b_at - f.a_at));
    EXPECT_GT(out.chunks[1], Offset{1} << 32);
    EXPECT_EQ(cut.rep.length, head.size() + (f.moov_at - f.a_at));
}

// Whether a clip needs co64 and a 64-bit mdat is decided by the bytes it keeps, not the file's:
// a clip inside either chunk of past_4gib's file (the second 5 GiB into it) is small, with stco
// and an 8-byte mdat header; one across both keeps the 5 GiB between them, and needs 64 bits.
TEST_F(Mp4Files, AClipPast4GiBNeeds64BitsOnlyWhenWhatItKeepsDoes)
{
    ASSERT_EQ(errors(), "");
    const BigFile f = past_4gib(fixture("AacCo64").bytes);
    SparseSource src(f.size, f.pieces);
    const struct {
        Span span;
        bool wide;
    } cases[] = {{Span{1000000, 5000000}, false}, {Span{13000000, 17000000}, false}, {Span{5000000, 15000000}, true}};
    for (const auto& c : cases) {
        const Cut cut = cut_mp4(src, c.span);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        ASSERT_NE(cut.end, Span::kToTheEnd) << "a clip";
        const std::string head = head_of(cut);
        const auto top = boxes(head, 0, head.size());
        ASSERT_EQ(top.size(), 2u) << "ftyp and moov whole; the mdat header follows";
        const Tables out = tables(head, tracks(head).at(0));
        EXPECT_EQ(out.co64, c.wide) << c.span.start;
        EXPECT_EQ(out.chunks.size(), c.wide ? 2u : 1u) << c.span.start;
        EXPECT_EQ(head.size() - top[1].end, c.wide ? 16u : 8u) << "the mdat header";
        EXPECT_EQ(out.chunks.at(0), head.size());
        EXPECT_EQ(cut.rep.length > (Offset{1} << 32), c.wide);
    }
}

}  // namespace
}  // namespace audio_stream
