#include "locate.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace audio_stream::mp4 {

namespace {

// A track's presentation (ISO/IEC 14496-12 §8.6.6): the media from the edit's media time on,
// for the edit's duration, or to the end of the media.
struct Presentation {
    std::uint64_t media0 = 0;  // media tick presented first
    std::uint64_t length = 0;  // media ticks presented
};

Presentation presentation(const Track& t, std::uint32_t movie_timescale)
{
    Presentation p;
    p.media0 = t.edit.present ? t.edit.media_time : 0;
    if (p.media0 >= t.ticks) {
        refuse_malformed("the edit starts past the end of the media");
    }
    p.length = t.ticks - p.media0;
    if (t.edit.present && t.edit.duration != 0) {
        p.length = std::min(p.length, rescale(t.edit.duration, movie_timescale, t.timescale));
    }
    return p;
}

// No END, or one at or past the end of audio track t's presentation.
bool plays_to_the_end(const Track& t, std::uint32_t movie_timescale, const Span& span)
{
    return span.open() || samples_before(span.end, t.timescale) >= presentation(t, movie_timescale).length;
}

// The chunks holding samples [first, last) and where their bytes lie.
ChunkSpan place_chunks(ByteSource& src, const Track& t, std::uint64_t first, std::uint64_t last)
{
    const ChunkOf from = chunk_of(t.chunks, first);
    const ChunkOf to = chunk_of(t.chunks, last - 1);
    ChunkSpan c;
    c.first_chunk = from.chunk;
    c.dropped = static_cast<std::uint32_t>(first - from.first_sample);
    c.last_chunk = to.chunk;
    c.kept_in_last = static_cast<std::uint32_t>(last - to.first_sample);
    SampleSizes sizes(src, t.stsz);
    std::uint64_t sample = from.first_sample;
    c.data_start = std::numeric_limits<Offset>::max();
    for (ChunkCursor at(t.chunks, from.chunk); at.chunk() <= to.chunk; at.next()) {
        const std::uint64_t skip = at.chunk() == from.chunk ? c.dropped : 0;
        const std::uint64_t take = (at.chunk() == to.chunk ? c.kept_in_last : at.run().per_chunk) - skip;
        const Offset before = skip ? sizes.sum(sample, skip) : 0;
        const Offset bytes = sizes.sum(sample + skip, take);
        sample += at.run().per_chunk;
        const Offset chunk = t.chunks.offsets[at.chunk()];
        const Offset offset = chunk + before;
        if (offset < chunk || offset > src.size() || bytes > src.size() - offset) {
            refuse_malformed("a chunk runs past the end of the file");
        }
        c.offsets.push_back(offset);
        c.data_start = std::min(c.data_start, offset);
        c.data_end = std::max(c.data_end, offset + bytes);
    }
    return c;
}

TrackPlan audio_plan(const Track& t, AudioSpan a, std::uint32_t timescale, bool clip)
{
    TrackPlan plan;
    plan.audio = std::move(a);
    plan.media_duration = plan.audio.kept_ticks;
    // The edit presents [START, END) to the tick: rounded up, so the sample before END plays
    // (ffmpeg and Apple's players end the presentation there); the cut from START as before.
    const std::uint64_t presented = plan.audio.presented();
    plan.duration = clip ? rescale_up(presented, t.timescale, timescale)
                         : std::max<std::uint64_t>(1, rescale(presented, t.timescale, timescale));
    return plan;
}

TrackPlan chapter_plan(ByteSource& src, const Track& t, std::uint32_t timescale, const Plan& plan)
{
    TrackPlan out;
    out.chapters = chapter_samples(src, t, plan.start, plan.end);
    for (const ChapterSample& c : out.chapters) {
        out.media_duration += c.ticks;
    }
    out.duration = rescale(out.media_duration, t.timescale, timescale);
    return out;
}

// A clip's durations in the first audio track's timescale fit the 32 bits of a version 0 mvhd,
// tkhd and elst (13 hours at 44.1 kHz): every track's presentation lasts at most END - START
// and a tick.
bool finer_clock_fits(const Track& lead, const Span& span)
{
    constexpr std::uint64_t kLimit = std::uint64_t{1} << 31;
    return samples_before(span.end - std::max<Micros>(span.start, 0), lead.timescale) < kLimit;
}

}  // namespace

AudioSpan locate_audio(ByteSource& src, const Track& t, std::uint32_t movie_timescale, const Span& span, bool clip)
{
    const Presentation p = presentation(t, movie_timescale);
    AudioSpan a;
    a.start_ticks = sample_at(span.start, t.timescale);
    if (a.start_ticks >= p.length) {
        refuse_past_end();
    }
    // END's tick rounded up: the samples that start before END play (at least one tick).
    const std::uint64_t end = clip ? samples_before(span.end, t.timescale) : p.length;
    a.end_ticks = std::clamp(end, a.start_ticks + 1, p.length);
    // The sample playing at START, less the codec's pre-roll; the new edit skips what lies
    // before START in the samples kept.
    const std::uint64_t at = sample_at_tick(t.stts, p.media0 + a.start_ticks);
    a.first = at - std::min<std::uint64_t>(at, t.roll);
    const std::uint64_t skipped = runs_at(t.stts, a.first).before;
    a.media_time = p.media0 + a.start_ticks - skipped;
    // A clip ends with the sample presented at END's last tick; the cut from START keeps every
    // sample to the end of the media, as the file had them.
    a.last = clip ? samples_before_tick(t.stts, p.media0 + a.end_ticks) : t.samples;
    a.kept_ticks = runs_at(t.stts, a.last).before - skipped;
    a.chunks = place_chunks(src, t, a.first, a.last);
    return a;
}

Plan locate(ByteSource& src, const Movie& movie, const Span& span)
{
    const auto audio = [](const Track& t) { return t.kind == Kind::Audio; };
    const auto lead = std::find_if(movie.tracks.begin(), movie.tracks.end(), audio);  // read_movie made sure
    const bool clip = !std::all_of(movie.tracks.begin(), movie.tracks.end(), [&](const Track& t) {
        return !audio(t) || plays_to_the_end(t, movie.timescale, span);
    });
    Plan plan;
    plan.movie_timescale = clip && finer_clock_fits(*lead, span) ? std::max(movie.timescale, lead->timescale)
                                                                 : movie.timescale;
    plan.tracks.resize(movie.tracks.size());
    plan.data_start = std::numeric_limits<Offset>::max();
    for (std::size_t i = 0; i < movie.tracks.size(); ++i) {
        if (audio(movie.tracks[i])) {
            const Track& t = movie.tracks[i];
            plan.tracks[i] = audio_plan(t, locate_audio(src, t, movie.timescale, span, clip), plan.movie_timescale, clip);
            plan.data_start = std::min(plan.data_start, plan.tracks[i].audio.chunks.data_start);
            plan.data_end = std::max(plan.data_end, plan.tracks[i].audio.chunks.data_end);
            plan.movie_duration = std::max(plan.movie_duration, plan.tracks[i].duration);
        }
    }
    if (plan.data_start >= plan.data_end) {
        refuse_malformed("the audio tracks hold no sample bytes");
    }
    const AudioSpan& first = plan.tracks[static_cast<std::size_t>(lead - movie.tracks.begin())].audio;
    plan.start = samples_to_micros(first.start_ticks, lead->timescale);
    plan.end = clip ? samples_to_micros(samples_before(span.end, lead->timescale), lead->timescale) : Span::kToTheEnd;
    plan.duration = samples_to_micros(first.presented(), lead->timescale);
    for (std::size_t i = 0; i < movie.tracks.size(); ++i) {
        if (movie.tracks[i].kind == Kind::Chapters) {
            plan.tracks[i] = chapter_plan(src, movie.tracks[i], plan.movie_timescale, plan);
            for (const ChapterSample& c : plan.tracks[i].chapters) {
                plan.chapter_bytes += c.bytes.size();
            }
        }
    }
    return plan;
}

}  // namespace audio_stream::mp4
