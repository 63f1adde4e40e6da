// The shared body of the format fuzz targets (fuzz_wav.cpp, fuzz_mp3.cpp, fuzz_flac.cpp,
// fuzz_ogg.cpp, fuzz_mp4.cpp): each calls run or run_indexed.
//
// Input: bytes 0-3, little-endian u32 V, the start asked: bit 31 clear, V milliseconds; set,
// (V & 0x7fffffff) seconds (past any real file, and near the cutters' overflow guards). Bytes
// 4-7, read the same way, the length of the clip asked (0: to the end; END = START + it). Then
// the file, read through a ByteSource over memory that counts what the cutter reads.
//
// Invariants (any violation traps):
//   no crash, no sanitizer report, no exception;
//   Malformed and Unsupported carry a detail for the error log; no extents unless Ok;
//   Ok: rep.length is the sum of the extents and not 0; every file extent is non-empty and
//   inside the file; every memory block non-empty and at most kMaxBlock; all memory blocks
//   together at most kMaxBlock + the file's length (rewritten headers replace file bytes);
//   start <= START, start and duration not negative; a clip (end set) ends after its start, at
//   or less than a second after END; the same input cut twice gives the same cut (same start and end, so the
//   dispatch gives it the same ETag suffix);
//   work: the cutter reads at most kReadFactor x the file + kReadSlack bytes, in at most
//   kMaxReads reads.
// With a seek index (run_indexed): the cut made through a cache equals the one made alone, and
// once the file's index is cached a cut at another START reads at most the bytes before the audio
// twice plus kIndexedSlack (four of the MP3 reader's 64 KiB windows: the index answers, the
// file is not read again).
// The format's layout (download counting) on the same file: audio_start <= audio_end <= the
// file, duration not negative, the download threshold within the file and at least the
// header and, past a minute, not below the floor (60 s at floor_bitrate, or all the audio),
// time_at within [0, duration] and not decreasing, the same layout twice, and the same read
// bounds.
#ifndef AUDIO_STREAM_FUZZ_CUT_H
#define AUDIO_STREAM_FUZZ_CUT_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string_view>
#include <variant>

#include "src/audio_layout.h"
#include "src/audio_track.h"
#include "src/byte_source.h"
#include "src/cut.h"
#include "src/cache/seek_index.h"
#include "tests/fuzz/fuzz_check.h"

namespace fuzz_cut {

using namespace audio_stream;


constexpr std::size_t kPrefix = 8;
// The largest block a cutter writes: a FLAC SEEKTABLE (64 KiB at most) with fLaC, STREAMINFO
// and their block headers; Ogg page headers and MP3 Xing frames are far smaller.
constexpr std::size_t kMaxBlock = 64 * 1024 + 4 + 4 + 34 + 4;
// Window-based readers may read a 64 KiB window more than once at the edges of a scan.
constexpr Offset kReadFactor = 8;
constexpr Offset kReadSlack = Offset{4} << 20;
// The request's budget of reads (byte_source.h), spent at most once over (the read that threw),
// with a fuzz input's index build counted too: the cost check of every target.
constexpr std::uint64_t kMaxReads = kRequestBudget.reads + 1;
constexpr Offset kIndexedSlack = 4 * 64 * 1024;

// MemorySource, counting.
class CountingSource final : public ByteSource {
public:
    explicit CountingSource(std::string_view bytes) : inner_(bytes) { inner_.set_budget(kNoBudget); }
    Offset size() const override { return inner_.size(); }
    bool fetch(Offset offset, void* buf, std::size_t len) override
    {
        ++reads;
        bytes_read += len;
        return inner_.read(offset, buf, len);
    }
    std::uint64_t reads = 0;
    Offset bytes_read = 0;

private:
    MemorySource inner_;
};

inline Micros time_asked(const std::uint8_t* p)
{
    const std::uint32_t v = std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                            std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
    return (v & 0x80000000u) ? Micros{v & 0x7fffffffu} * 1000000 : Micros{v} * 1000;
}

inline Span span_asked(const std::uint8_t* p)
{
    const Micros start = time_asked(p);
    const Micros length = time_asked(p + 4);
    return length == 0 ? Span{start} : Span{start, start + length};
}

inline void check_cut(const Cut& cut, Offset file_len, const Span& span)
{
    const Micros t = span.start;
    std::snprintf(fuzz_check::context, sizeof fuzz_check::context,
                 "cut: status %d t %lld start %lld duration %lld length %llu extents %zu",
                 static_cast<int>(cut.status), static_cast<long long>(t),
                 static_cast<long long>(cut.start), static_cast<long long>(cut.duration),
                 static_cast<unsigned long long>(cut.rep.length), cut.rep.extents.size());
    if (cut.status != Cut::Status::Ok) {
        CHECK(cut.status == Cut::Status::PastEnd || cut.status == Cut::Status::Malformed ||
              cut.status == Cut::Status::Unsupported || cut.status == Cut::Status::OverBudget);
        CHECK(cut.status == Cut::Status::PastEnd || !cut.detail.empty());
        return;
    }
    CHECK(cut.rep.length > 0);
    CHECK(cut.rep.length == extents_length(cut.rep.extents));
    Offset memory = 0;
    for (const auto& e : cut.rep.extents) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            CHECK(f->length > 0);
            CHECK(f->offset < file_len);
            CHECK(f->length <= file_len - f->offset);
        }
        else {
            const std::string& bytes = std::get<MemoryBlock>(e).bytes;
            CHECK(!bytes.empty());
            CHECK(bytes.size() <= kMaxBlock);
            memory += bytes.size();
        }
    }
    CHECK(memory <= kMaxBlock + file_len);
    CHECK(cut.start >= 0 && cut.start <= t);
    CHECK(cut.duration >= 0);
    // A clip ends on the first sample boundary at or after END: less than a second after it
    // at any rate.
    CHECK(cut.end == Span::kToTheEnd || (cut.end > cut.start && cut.end >= span.end && cut.end - span.end < 1000000));
}

inline bool same_cut(const Cut& a, const Cut& b)
{
    return a.status == b.status && a.rep.length == b.rep.length && a.rep.extents == b.rep.extents &&
           a.rep.etag_suffix == b.rep.etag_suffix && a.start == b.start && a.end == b.end &&
           a.duration == b.duration;
}

inline AudioLayout check_layout(AudioLayout (*layout)(ByteSource&), std::string_view file)
{
    CountingSource src(file);
    const AudioLayout l = layout(src);
    std::snprintf(fuzz_check::context, sizeof fuzz_check::context,
                  "layout: size %llu audio %llu-%llu duration %lld",
                  static_cast<unsigned long long>(l.size), static_cast<unsigned long long>(l.audio_start),
                  static_cast<unsigned long long>(l.audio_end), static_cast<long long>(l.duration));
    CHECK(l.size == file.size());
    CHECK(l.audio_start <= l.audio_end && l.audio_end <= l.size);
    CHECK(l.duration >= 0);
    const Offset threshold = download_threshold(l);
    CHECK(threshold <= l.size);
    CHECK(threshold >= l.audio_start || threshold == l.size);
    // The floor: past a minute, never fewer audio bytes than 60 s at the floor bitrate (or all).
    const Offset audio = l.audio_end - l.audio_start;
    if (l.duration > 60'000'000 && audio > 0) {
        CHECK(threshold >= l.size - audio + std::min(audio, bytes_at_bitrate(l.floor_bitrate, 60'000'000)));
    }
    Micros before = 0;
    for (Offset at : {Offset{0}, l.audio_start, (l.audio_start + l.audio_end) / 2, l.audio_end, l.size}) {
        if (const auto t = time_at(l, at)) {
            CHECK(*t >= before && *t <= l.duration);
            before = *t;
        }
    }
    CHECK(src.reads <= kMaxReads);
    CHECK(src.bytes_read <= kReadFactor * file.size() + kReadSlack);
    CountingSource again(file);
    const AudioLayout m = layout(again);
    CHECK(m.audio_start == l.audio_start && m.audio_end == l.audio_end && m.duration == l.duration &&
          m.floor_bitrate == l.floor_bitrate);
    return l;
}

inline int run(Cut (*cutter)(ByteSource&, const Span&), AudioLayout (*layout)(ByteSource&),
               const std::uint8_t* data, std::size_t size)
{
    const auto in = fuzz_check::split<kPrefix>(data, size);
    const Span span = span_asked(in.prefix);
    const std::string_view file = in.rest;
    try {
        CountingSource src(file);
        const Cut cut = cutter(src, span);
        check_cut(cut, file.size(), span);
        CHECK(src.reads <= kMaxReads);
        CHECK(src.bytes_read <= kReadFactor * file.size() + kReadSlack);
        CountingSource again(file);
        CHECK(same_cut(cut, cutter(again, span)));
        check_layout(layout, file);
    }
    catch (const std::exception& e) {
        // The glue turns an exception into a 500; a cutter must report Malformed instead.
        std::fprintf(stderr, "exception: %s\n", e.what());
        __builtin_trap();
    }
    return 0;
}

// A cutter with a seek index: run()'s invariants on the cut made alone, then the cuts of the
// span and of the span from START / 3 through one cache.
inline int run_indexed(Cut (*cutter)(ByteSource&, const Span&, IndexSource&), AudioLayout (*layout)(ByteSource&),
                       const std::uint8_t* data, std::size_t size)
{
    const auto in = fuzz_check::split<kPrefix>(data, size);
    const Span span = span_asked(in.prefix);
    const std::string_view file = in.rest;
    try {
        const auto alone = [&](const Span& at) {
            CountingSource src(file);
            IndexSource none;
            Cut cut = cutter(src, at, none);
            CHECK(src.reads <= kMaxReads);
            CHECK(src.bytes_read <= kReadFactor * file.size() + kReadSlack);
            return cut;
        };
        const Cut cut = alone(span);
        check_cut(cut, file.size(), span);
        CHECK(same_cut(cut, alone(span)));
        const AudioLayout l = check_layout(layout, file);

        SeekIndexCache cache(std::size_t{64} << 20);
        const FileIdentity id{1, 2, file.size(), 3};
        CountingSource first(file);
        IndexSource indexes(&cache, id);
        CHECK(same_cut(cut, cutter(first, span, indexes)));
        const std::size_t kept = cache.entries();
        const Span other{span.start / 3, span.end};
        CountingSource second(file);
        IndexSource again(&cache, id);
        const Cut from_index = cutter(second, other, again);
        CHECK(same_cut(from_index, alone(other)));
        CHECK(!again.built() || kept == 0);  // what the first cut indexed is not indexed again
        CHECK(again.built() || second.bytes_read <= 2 * l.audio_start + kIndexedSlack);
    }
    catch (const std::exception& e) {
        std::fprintf(stderr, "exception: %s\n", e.what());
        __builtin_trap();
    }
    return 0;
}

// The format's packets (HLS) on the same file, in runs of the prefix's first byte (1 to 256)
// packets: a track Ok or refused with a detail; Ok: its numbers agree (the last packet no longer
// than the others, a rate), every run Ok with a size per packet, its file extents inside the file
// and summing to the sizes, each run within the request's budget of reads and bytes; a run's
// packets follow each other in the file. A run of packets a lying header claims is refused with
// a reason. (Runs of a damaged CBR MP3 may overlap: the arithmetic finds one run's frames, the
// index, after junk, another's.)
inline int run_packets(AudioTrack (*track)(ByteSource&, IndexSource&),
                       PacketRun (*packets)(ByteSource&, IndexSource&, std::uint64_t, std::uint64_t),
                       const std::uint8_t* data, std::size_t size)
{
    const auto in = fuzz_check::split<kPrefix>(data, size);
    const std::string_view file = in.rest;
    const std::uint64_t per_run = std::uint64_t{in.prefix[0]} + 1;
    try {
        SeekIndexCache cache(std::size_t{64} << 20);
        const FileIdentity id{1, 2, file.size(), 3};
        CountingSource src(file);
        IndexSource indexes(&cache, id);
        const AudioTrack t = track(src, indexes);
        CHECK(src.reads <= kMaxReads);
        if (t.status != Cut::Status::Ok) {
            CHECK(!t.detail.empty());
            return 0;
        }
        CHECK(t.rate > 0 && t.packet_samples > 0 && t.packets > 0);
        CHECK(t.total > (t.packets - 1) * t.packet_samples && t.total <= t.packets * t.packet_samples);
        for (std::uint64_t first = 0; first < t.packets; first += per_run) {
            Offset after = 0;
            CountingSource run_src(file);
            IndexSource run_indexes(&cache, id);
            const std::uint64_t count = std::min(per_run, t.packets - first);
            const PacketRun run = packets(run_src, run_indexes, first, count);
            CHECK(run_src.reads <= kMaxReads);
            CHECK(run_src.bytes_read <= kReadFactor * file.size() + kReadSlack);
            if (run.status != Cut::Status::Ok) {
                // A header that claims packets the file does not hold (a lying Info frame, a
                // sample table past the end): that segment is refused, with a reason.
                CHECK(run.status != Cut::Status::PastEnd && !run.detail.empty() && run.data.empty());
                continue;
            }
            CHECK(run.sizes.size() == count);
            Offset bytes = 0;
            for (const auto size : run.sizes) {
                bytes += size;
            }
            for (const auto& e : run.data) {
                const auto& f = std::get<FileExtent>(e);
                CHECK(f.length > 0 && f.offset >= after && f.offset < file.size() && f.length <= file.size() - f.offset);
                after = f.offset + f.length;
            }
            CHECK(bytes == extents_length(run.data));
        }
    }
    catch (const std::exception& e) {
        std::fprintf(stderr, "exception: %s\n", e.what());
        __builtin_trap();
    }
    return 0;
}

}  // namespace fuzz_cut

#endif
