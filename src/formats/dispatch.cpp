#include "dispatch.h"

#include <array>
#include <string>
#include <utility>

#include "../ascii.h"
#include "formats.h"

namespace audio_stream {

namespace {

using Cutter = Cut (*)(ByteSource&, const Span&, IndexSource&);
using Layout = AudioLayout (*)(ByteSource&);
using Tracker = AudioTrack (*)(ByteSource&, IndexSource&);
using Packets = PacketRun (*)(ByteSource&, IndexSource&, std::uint64_t, std::uint64_t);

struct Format {
    std::string_view type;
    unsigned id;  // format_of_type
    Cutter cut;
    Layout layout;
    Tracker track = nullptr;  // null: no packet reader (no HLS form)
    Packets packets = nullptr;
};

// A cutter that needs no index (its cut costs the same for any span).
template <Cut (*cut)(ByteSource&, const Span&)>
Cut without_index(ByteSource& src, const Span& span, IndexSource&)
{
    return cut(src, span);
}

constexpr Format kMp3{"", 1, cut_mp3, layout_mp3, track_mp3, packets_mp3};
constexpr Format kFlac{"", 2, cut_flac, layout_flac, track_flac, packets_flac};
constexpr Format kOgg{"", 3, without_index<cut_ogg>, layout_ogg, track_ogg, packets_ogg};
constexpr Format kWav{"", 4, without_index<cut_wav>, layout_wav};
constexpr Format kMp4{"", 5, without_index<cut_mp4>, layout_mp4, track_mp4, packets_mp4};

constexpr Format named(std::string_view type, Format f)
{
    f.type = type;
    return f;
}

// Registered names first, then the x- and legacy names that mime.types files still carry.
constexpr std::array<Format, 18> kFormats{{
    named("audio/mpeg", kMp3),      named("audio/mp3", kMp3),       named("audio/x-mpeg", kMp3),
    named("audio/flac", kFlac),     named("audio/x-flac", kFlac),
    named("audio/ogg", kOgg),       named("audio/opus", kOgg),      named("application/ogg", kOgg),
    named("audio/vorbis", kOgg),
    named("audio/wav", kWav),       named("audio/x-wav", kWav),     named("audio/wave", kWav),
    named("audio/vnd.wave", kWav),  named("audio/x-pn-wav", kWav),
    named("audio/mp4", kMp4),       named("audio/x-m4a", kMp4),     named("audio/x-m4b", kMp4),
    named("video/mp4", kMp4),
}};

const Format* find_format(std::string_view type)
{
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
        type.remove_suffix(1);
    }
    for (const Format& f : kFormats) {
        if (ascii_iequals(type, f.type)) {
            return &f;
        }
    }
    return nullptr;
}

Cutter find_cutter(std::string_view type)
{
    const Format* f = find_format(type);
    return f ? f->cut : nullptr;
}

}  // namespace

std::string cut_etag_suffix(const Cut& cut)
{
    std::string suffix = "-c" + std::to_string(kCutGeneration) + "-t" + std::to_string(cut.start);
    if (cut.end != Span::kToTheEnd) {
        suffix += "-" + std::to_string(cut.end);
    }
    return suffix;
}

bool can_cut_type(std::string_view content_type)
{
    return find_cutter(content_type) != nullptr;
}

unsigned format_of_type(std::string_view content_type)
{
    const Format* f = find_format(content_type);
    return f ? f->id : 0;
}

std::optional<Cut> cut_for_type(std::string_view content_type, ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_for_type(content_type, src, span, none);
}

std::optional<Cut> cut_for_type(std::string_view content_type, ByteSource& src, const Span& span,
                                IndexSource& indexes)
{
    const Cutter cutter = find_cutter(content_type);
    if (!cutter) {
        return std::nullopt;
    }
    Cut cut = cutter(src, span, indexes);
    if (cut.status == Cut::Status::Ok) {
        cut.rep.etag_suffix = cut_etag_suffix(cut);
    }
    return cut;
}

AudioLayout layout_for_type(std::string_view content_type, ByteSource& src)
{
    const Format* f = find_format(content_type);
    return f ? f->layout(src) : AudioLayout{src.size(), 0, src.size(), 0};
}

std::optional<AudioTrack> track_for_type(std::string_view content_type, ByteSource& src, IndexSource& indexes)
{
    const Format* f = find_format(content_type);
    if (!f || !f->track) {
        return std::nullopt;
    }
    return f->track(src, indexes);
}

PacketRun packets_for_type(std::string_view content_type, ByteSource& src, IndexSource& indexes,
                           std::uint64_t first, std::uint64_t count)
{
    const Format* f = find_format(content_type);
    if (!f || !f->packets) {
        PacketRun none;
        none.status = Cut::Status::Unsupported;
        none.detail = "no packet reader for this type";
        return none;
    }
    return f->packets(src, indexes, first, count);
}

}  // namespace audio_stream
