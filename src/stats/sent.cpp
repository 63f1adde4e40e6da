#include "sent.h"

#include <algorithm>
#include <cstdio>
#include <variant>

namespace audio_stream::stats {

std::vector<FileRange> sent_file_ranges(const Extents& body, const std::vector<Part>& parts, Offset sent,
                                        Offset join_gap)
{
    std::vector<FileRange> out;
    Offset at = 0;
    std::size_t part = 0;       // parts that start at or before `at`
    std::size_t last_part = 0;  // ... before out.back()
    for (const Extent& e : body) {
        if (at >= sent) {
            break;
        }
        while (part < parts.size() && parts[part].body_offset <= at) {
            ++part;
        }
        const Offset n = std::min(extent_length(e), sent - at);
        at += n;
        const auto* f = std::get_if<FileExtent>(&e);
        if (!f || n == 0) {
            continue;
        }
        const FileRange r{f->offset, f->offset + n};
        if (!out.empty() && part == last_part && r.first >= out.back().end &&
            r.first - out.back().end <= join_gap) {
            out.back().end = r.end;
        }
        else {
            out.push_back(r);
        }
        last_part = part;
    }
    return out;
}

std::vector<FileRange> source_file_ranges(const Extents& source, Offset total, const std::vector<Part>& parts,
                                          Offset sent)
{
    std::vector<FileRange> out;
    const Offset bytes = extents_length(source);
    for (const Part& p : parts) {
        if (total == 0 || p.body_offset >= sent) {
            break;
        }
        const Offset n = std::min(p.range.length(), sent - p.body_offset);
        // Both ends scaled alike (bytes < 2^40, total < 2^40: no overflow), the end rounded up.
        const Offset from = p.range.first * bytes / total;
        const Offset to = std::min(bytes, ((p.range.first + n) * bytes + total - 1) / total);
        if (to <= from) {
            continue;
        }
        for (const Extent& e : slice_extents(source, from, to - from)) {
            if (const auto* f = std::get_if<FileExtent>(&e)) {
                out.push_back(FileRange{f->offset, f->offset + f->length});
            }
        }
    }
    return out;
}

std::string sent_text(const std::vector<Part>& parts, Offset total, Offset sent)
{
    std::string out;
    for (const Part& p : parts) {
        if (p.body_offset >= sent) {
            break;
        }
        const Offset n = std::min(p.range.length(), sent - p.body_offset);
        if (!out.empty()) {
            out += ',';
        }
        out += std::to_string(p.range.first) + "-" + std::to_string(p.range.first + n - 1);
    }
    return out.empty() ? "-" : out + "/" + std::to_string(total);
}

std::string seconds_text(const AudioLayout& layout, const std::vector<FileRange>& ranges)
{
    // Header bytes (a kept ID3v2 tag ahead of a cut's audio, say) are no seconds of audio.
    bool any = false;
    Offset first = 0;
    Offset end = 0;
    for (const FileRange& r : ranges) {
        if (r.end <= layout.audio_start) {
            continue;
        }
        first = any ? std::min(first, r.first) : r.first;
        end = any ? std::max(end, r.end) : r.end;
        any = true;
    }
    if (!any) {
        return "-";
    }
    const auto t0 = time_at(layout, first);
    const auto t1 = time_at(layout, end);
    if (!t0 || !t1) {
        return "-";
    }
    // Rounded to the nearest millisecond.
    const auto ms0 = static_cast<long long>((*t0 + 500) / 1000);
    const auto ms1 = static_cast<long long>((*t1 + 500) / 1000);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld.%03lld-%lld.%03lld", ms0 / 1000, ms0 % 1000, ms1 / 1000, ms1 % 1000);
    return buf;
}

}  // namespace audio_stream::stats
