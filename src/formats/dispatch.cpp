#include "dispatch.h"

#include <array>
#include <string>
#include <utility>

#include "../ascii.h"
#include "flac.h"
#include "mp3.h"
#include "ogg.h"
#include "wav.h"

namespace audio_stream {

namespace {

using Cutter = Cut (*)(ByteSource&, Micros);

// Registered names first, then the x- and legacy names that mime.types files still carry.
constexpr std::array<std::pair<std::string_view, Cutter>, 14> kCutters{{
    {"audio/mpeg", cut_mp3},      {"audio/mp3", cut_mp3},       {"audio/x-mpeg", cut_mp3},
    {"audio/flac", cut_flac},     {"audio/x-flac", cut_flac},
    {"audio/ogg", cut_ogg},       {"audio/opus", cut_ogg},      {"application/ogg", cut_ogg},
    {"audio/vorbis", cut_ogg},
    {"audio/wav", cut_wav},       {"audio/x-wav", cut_wav},     {"audio/wave", cut_wav},
    {"audio/vnd.wave", cut_wav},  {"audio/x-pn-wav", cut_wav},
}};

Cutter find_cutter(std::string_view type)
{
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
        type.remove_suffix(1);
    }
    for (const auto& [name, cutter] : kCutters) {
        if (ascii_iequals(type, name)) {
            return cutter;
        }
    }
    return nullptr;
}

}  // namespace

std::string cut_etag_suffix(Micros start)
{
    return "-t" + std::to_string(start);
}

bool can_cut_type(std::string_view content_type)
{
    return find_cutter(content_type) != nullptr;
}

std::optional<Cut> cut_for_type(std::string_view content_type, ByteSource& src, Micros t)
{
    const Cutter cutter = find_cutter(content_type);
    if (!cutter) {
        return std::nullopt;
    }
    Cut cut = cutter(src, t);
    if (cut.status == Cut::Status::Ok) {
        cut.rep.etag_suffix = cut_etag_suffix(cut.start);
    }
    return cut;
}

}  // namespace audio_stream
