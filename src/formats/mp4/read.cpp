#include "read.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "caps.h"

namespace audio_stream::mp4 {

namespace {

// The top level (§6.2): ftyp (the first one before the moov) and the one moov.
struct Top {
    std::optional<Box> ftyp;
    Box moov;
};

Top walk_top(ByteSource& src)
{
    const Offset size = src.size();
    Top top;
    std::optional<Box> moov;
    Offset at = 0;
    for (int i = 0; at < size; ++i) {
        if (i == kMaxTopBoxes) {
            refuse_malformed("more than 1024 top-level boxes");
        }
        const auto b = box_at(src, at, size);
        if (!b) {
            refuse_malformed("a top-level box runs past the end of the file");
        }
        if (is(*b, "moof")) {
            refuse_unsupported("a fragmented MP4 (moof)");
        }
        if (is(*b, "ftyp") && !top.ftyp && !moov) {
            top.ftyp = b;
        }
        if (is(*b, "moov") && moov) {
            refuse_malformed("two moov boxes");
        }
        moov = is(*b, "moov") ? b : moov;
        at = b->end;
    }
    if (!moov) {
        refuse_malformed("no moov box");
    }
    if (moov->size() > kMaxMoov) {
        refuse_malformed("a moov of " + std::to_string(moov->size()) + " bytes (the cap is 64 MiB)");
    }
    top.moov = *moov;
    return top;
}

void read_moov(BoxWalk& walk, Movie& movie)
{
    movie.kids = walk.children(movie.moov);
    if (movie.kids.size() > kMaxMoovChildren) {
        refuse_malformed("more than 1024 boxes in the moov");
    }
    if (BoxWalk::find(movie.kids, "cmov")) {
        refuse_unsupported("a compressed moov (cmov)");
    }
    if (BoxWalk::find(movie.kids, "mvex")) {
        refuse_unsupported("a fragmented MP4 (mvex)");
    }
    const Box* mvhd = BoxWalk::find(movie.kids, "mvhd");
    if (!mvhd) {
        refuse_malformed("no mvhd box");
    }
    movie.mvhd = *mvhd;
    const std::string p = walk.payload(*mvhd);
    const Reader r(p, "mvhd");
    const bool v1 = r.u8(0) == 1;
    movie.timescale = r.u32(v1 ? 20 : 12);
    movie.duration = r.be_at(v1 ? 24 : 16, v1 ? 8 : 4);
    if (movie.timescale == 0) {
        refuse_malformed("the movie timescale is 0");
    }
    for (const Box& b : movie.kids) {
        if (is(b, "trak")) {
            if (movie.tracks.size() == kMaxTracks) {
                refuse_malformed("more than 16 tracks (the cap)");
            }
            movie.tracks.push_back(read_track(walk, b));
        }
    }
}

// A text track an audio track names in its tref 'chap' holds chapters (QuickTime); any other
// track that is not audio is refused.
void classify(Movie& movie)
{
    std::vector<std::uint32_t> chapter_ids;
    for (const Track& t : movie.tracks) {
        if (t.kind == Kind::Audio) {
            chapter_ids.insert(chapter_ids.end(), t.chapter_refs.begin(), t.chapter_refs.end());
        }
    }
    const auto named = [&](std::uint32_t id) {
        return std::find(chapter_ids.begin(), chapter_ids.end(), id) != chapter_ids.end();
    };
    for (Track& t : movie.tracks) {
        for (const Track& o : movie.tracks) {
            if (&o != &t && o.id == t.id) {
                refuse_malformed("two tracks with one track ID");
            }
        }
        const auto handler = [&](const char* h) { return std::memcmp(t.handler, h, 4) == 0; };
        if (t.kind == Kind::Audio) {
            continue;
        }
        if (named(t.id) && (handler("text") || handler("sbtl"))) {
            t.kind = Kind::Chapters;
        }
        else if (handler("vide")) {
            refuse_unsupported("a video track");
        }
        else {
            refuse_unsupported("a track of handler '" + std::string(t.handler, 4) + "'");
        }
    }
    const bool audio = std::any_of(movie.tracks.begin(), movie.tracks.end(),
                                   [](const Track& t) { return t.kind == Kind::Audio; });
    if (!audio) {
        refuse_unsupported("no audio track");
    }
}

}  // namespace

Movie read_movie(BoxWalk& walk)
{
    const Top top = walk_top(walk.src());
    Movie movie;
    movie.ftyp = top.ftyp;
    movie.moov = top.moov;
    read_moov(walk, movie);
    classify(movie);
    return movie;
}

}  // namespace audio_stream::mp4
