#include "config.h"

#include <exception>
#include <new>
#include <optional>
#include <string_view>

#include "../config_values.h"
#include "server_dirs.h"
#include "stats_store.h"

namespace audio_stream::apache {

namespace {

// Every setting is an integer; kUnset until a directive sets it, and through merges.
constexpr apr_int64_t kUnset = -1;

constexpr Offset kDefaultPieceSize = Offset{8} << 20;
constexpr PieceScope kDefaultPieceScope = PieceScope::Media;
constexpr unsigned kDefaultMaxRanges = 200;
// Measured with bench/run (BENCHMARKS.md): reading wins 2.5x on tiny windows and ~10% at
// 16 KiB; at 64 KiB it is at par with 50 connections but 9% slower with 200 (colder copies),
// and at 128 KiB 35% more CPU.
constexpr Offset kDefaultReadThreshold = Offset{16} << 10;
constexpr bool kDefaultTimeSeek = true;
constexpr bool kDefaultHls = true;
// MPEG-TS: the one MP3 form every player measured plays (BENCHMARKS.md); packed audio is lighter.
constexpr bool kDefaultHlsMp3Packed = false;
// Covers the bodies browsers pull per request (windows, pieces of a few MiB) over HTTP/2 and
// TLS; each stream holds at most this much in its snapshot (BENCHMARKS.md).
constexpr Offset kDefaultSnapshotSize = Offset{4} << 20;
constexpr bool kDefaultStats = false;
constexpr bool kDefaultShareSnapshots = true;

}  // namespace

struct DirConfig {
    apr_int64_t piece_size;
    apr_int64_t piece_scope;     // a PieceScope
    apr_int64_t max_ranges;      // 0 = unlimited
    apr_int64_t time_seek;       // 0 or 1
    apr_int64_t read_threshold;  // 0 = always sendfile
    apr_int64_t snapshot_size;   // 0 = never snapshot
    apr_int64_t stats;           // 0 or 1
    apr_int64_t share_snapshots;  // 0 or 1
    apr_int64_t hls;             // 0 or 1
    apr_int64_t hls_mp3_packed;  // 0 (MPEG-TS) or 1 (packed audio)
};

namespace {


apr_int64_t value_or_default(apr_int64_t value, apr_int64_t fallback)
{
    return value != kUnset ? value : fallback;
}

}  // namespace

void* create_dir_config(apr_pool_t* p, char*) noexcept
{
    auto* c = static_cast<DirConfig*>(apr_palloc(p, sizeof(DirConfig)));
    *c = DirConfig{kUnset, kUnset, kUnset, kUnset, kUnset, kUnset, kUnset, kUnset, kUnset, kUnset};
    return c;
}

// The inner section's setting where it has one, else the outer's.
void* merge_dir_config(apr_pool_t* p, void* base_v, void* add_v) noexcept
{
    const auto* base = static_cast<const DirConfig*>(base_v);
    const auto* add = static_cast<const DirConfig*>(add_v);
    auto* c = static_cast<DirConfig*>(apr_palloc(p, sizeof(DirConfig)));
    c->piece_size = value_or_default(add->piece_size, base->piece_size);
    c->piece_scope = value_or_default(add->piece_scope, base->piece_scope);
    c->max_ranges = value_or_default(add->max_ranges, base->max_ranges);
    c->time_seek = value_or_default(add->time_seek, base->time_seek);
    c->read_threshold = value_or_default(add->read_threshold, base->read_threshold);
    c->snapshot_size = value_or_default(add->snapshot_size, base->snapshot_size);
    c->stats = value_or_default(add->stats, base->stats);
    c->share_snapshots = value_or_default(add->share_snapshots, base->share_snapshots);
    c->hls = value_or_default(add->hls, base->hls);
    c->hls_mp3_packed = value_or_default(add->hls_mp3_packed, base->hls_mp3_packed);
    return c;
}

void* create_server_config(apr_pool_t* p, server_rec*) noexcept
{
    return new (apr_pcalloc(p, sizeof(ServerConfig))) ServerConfig{};
}

// Per server: the child's caches and snapshot pool. child_init makes one of each per child
// process and points every server's record at them (after the fork each child writes its own
// copy); its threads share them (each locks itself).
ServerConfig& server_record(const server_rec* s)
{
    return *static_cast<ServerConfig*>(ap_get_module_config(s->module_config, &audio_stream_module));
}

const DirConfig& dir_config(const request_rec* r)
{
    return *static_cast<const DirConfig*>(ap_get_module_config(r->per_dir_config, &audio_stream_module));
}

PiecePolicy piece_policy(const DirConfig& c)
{
    return {static_cast<Offset>(value_or_default(c.piece_size, static_cast<apr_int64_t>(kDefaultPieceSize))),
            static_cast<PieceScope>(value_or_default(c.piece_scope, static_cast<apr_int64_t>(kDefaultPieceScope)))};
}

unsigned max_ranges(const DirConfig& c)
{
    return static_cast<unsigned>(value_or_default(c.max_ranges, kDefaultMaxRanges));
}

Offset read_threshold(const DirConfig& c)
{
    return static_cast<Offset>(value_or_default(c.read_threshold, static_cast<apr_int64_t>(kDefaultReadThreshold)));
}

Offset snapshot_size(const DirConfig& c)
{
    return static_cast<Offset>(value_or_default(c.snapshot_size, static_cast<apr_int64_t>(kDefaultSnapshotSize)));
}

bool time_seek(const DirConfig& c)
{
    return value_or_default(c.time_seek, kDefaultTimeSeek ? 1 : 0) != 0;
}

bool hls(const DirConfig& c)
{
    return value_or_default(c.hls, kDefaultHls ? 1 : 0) != 0;
}

bool hls_mp3_packed(const DirConfig& c)
{
    return value_or_default(c.hls_mp3_packed, kDefaultHlsMp3Packed ? 1 : 0) != 0;
}

bool stats(const DirConfig& c)
{
    return value_or_default(c.stats, kDefaultStats ? 1 : 0) != 0;
}

bool share_snapshots(const DirConfig& c)
{
    return value_or_default(c.share_snapshots, kDefaultShareSnapshots ? 1 : 0) != 0;
}

const ChildState& child_state(const server_rec* s)
{
    return server_record(s).child;
}

CutCache* cut_cache(const server_rec* s)
{
    return server_record(s).child.cuts;
}

SeekIndexCache* seek_index_cache(const server_rec* s)
{
    return server_record(s).child.indexes;
}

LayoutCache* layout_cache(const server_rec* s)
{
    return server_record(s).child.layouts;
}

TrackCache* track_cache(const server_rec* s)
{
    return server_record(s).child.tracks;
}

SnapshotPool* snapshot_pool(const server_rec* s)
{
    return server_record(s).child.snapshots;
}

void set_child_state(server_rec* main, const ChildState& state)
{
    for (server_rec* s = main; s; s = s->next) {
        server_record(s).child = state;
    }
}

// ---- directives ------------------------------------------------------------------------------

namespace {

// What one TAKE1 directive stores and how it reads its argument: every setter is the same
// function, told by the table's cmd->info which field to set and what to say when the value is
// refused (Apache prints it at configtest, so bad config never reaches a request).
struct Setting {
    apr_int64_t DirConfig::*field;
    std::optional<apr_int64_t> (*parse)(std::string_view);
    const char* refusal;  // a format with one %s, the value refused
    void (*on_set)(cmd_parms* cmd, apr_int64_t value) = nullptr;  // told every value set (stats_store.h)
};

template <typename T>
std::optional<apr_int64_t> widen(const std::optional<T>& v)
{
    return v ? std::optional<apr_int64_t>(static_cast<apr_int64_t>(*v)) : std::nullopt;
}

// The settings of the per-directory directives: a table, one row each, alike by design.
const Setting kPieceSize{&DirConfig::piece_size, [](std::string_view t) { return widen(parse_size(t)); },
                         "AudioStreamPieceSize: '%s' is not a size (use bytes or K/M/G, "
                         "at most 1024T; 0 disables the cap)"};
const Setting kPieceScope{&DirConfig::piece_scope, [](std::string_view t) { return widen(parse_scope(t)); },
                          "AudioStreamPieceScope: '%s' is not a scope (use media or all)"};
const Setting kMaxRanges{&DirConfig::max_ranges, [](std::string_view t) { return widen(parse_max_ranges(t)); },
                         "AudioStreamMaxRanges: '%s' is not a count (use 1 to 100000 or unlimited)"};
const Setting kReadThreshold{&DirConfig::read_threshold,
                             [](std::string_view t) { return widen(parse_read_threshold(t)); },
                             "AudioStreamReadThreshold: '%s' is not a size (use bytes or K/M, "
                             "at most 16M; 0 always uses sendfile)"};
// TAKE1 rather than FLAG: httpd's FLAG message does not name the value it refused.
const Setting kTimeSeek{&DirConfig::time_seek, [](std::string_view t) { return widen(parse_on_off(t)); },
                        "AudioStreamTimeSeek: '%s' is not On or Off"};
const Setting kHls{&DirConfig::hls, [](std::string_view t) { return widen(parse_on_off(t)); },
                   "AudioStreamHLS: '%s' is not On or Off"};
const Setting kHlsMp3{&DirConfig::hls_mp3_packed, [](std::string_view t) { return widen(parse_hls_mp3_packed(t)); },
                      "AudioStreamHLSMP3: '%s' is not TS or Packed"};
const Setting kSnapshotSize{&DirConfig::snapshot_size,
                            [](std::string_view t) { return widen(parse_snapshot_size(t)); },
                            "AudioStreamSnapshotSize: '%s' is not a size (use bytes or K/M/G, "
                            "at most 16M; 0 never snapshots)"};
const Setting kShareSnapshots{&DirConfig::share_snapshots, [](std::string_view t) { return widen(parse_on_off(t)); },
                              "AudioStreamShareSnapshots: '%s' is not On or Off"};
const Setting kStats{&DirConfig::stats, [](std::string_view t) { return widen(parse_on_off(t)); },
                     "AudioStreamStats: '%s' is not On or Off", note_stats_setting};

// Called by httpd (C): an exception firewall like every callback.
const char* set_setting(cmd_parms* cmd, void* conf, const char* arg) noexcept
{
    const auto* setting = static_cast<const Setting*>(cmd->info);
    try {
        const auto value = setting->parse(arg);
        if (!value) {
            return apr_psprintf(cmd->pool, setting->refusal, arg);
        }
        static_cast<DirConfig*>(conf)->*(setting->field) = *value;
        if (setting->on_set) {
            setting->on_set(cmd, *value);
        }
        return nullptr;
    }
    catch (const std::exception& e) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, e.what());
    }
    catch (...) {
        return apr_psprintf(cmd->pool, "%s: internal error", cmd->cmd->name);
    }
}

}  // namespace

// httpd declares cmd_func without a prototype for C++; one cast (via void(*)(), which GCC
// accepts as the generic function pointer), here.
#define AUDIO_STREAM_SETTING(name, setting, help)                                                  \
    AP_INIT_TAKE1(name, reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(set_setting)),     \
                  const_cast<Setting*>(&(setting)), RSRC_CONF | ACCESS_CONF | OR_FILEINFO, help)

const command_rec directives[] = {
    AUDIO_STREAM_SETTING("AudioStreamPieceSize", kPieceSize,
                         "Largest 206 window in bytes (K/M/G suffix allowed); 0 = no cap"),
    AUDIO_STREAM_SETTING("AudioStreamPieceScope", kPieceScope,
                         "media (cap open-ended ranges of media elements) or all (cap every range)"),
    AUDIO_STREAM_SETTING("AudioStreamMaxRanges", kMaxRanges,
                         "Most ranges honoured in one request (more: 200 whole file), or unlimited"),
    AUDIO_STREAM_SETTING("AudioStreamReadThreshold", kReadThreshold,
                         "Answers with at most this many file bytes are read and written with "
                         "their headers instead of sent with sendfile (K/M suffix); 0 = always sendfile"),
    AUDIO_STREAM_SETTING("AudioStreamTimeSeek", kTimeSeek,
                         "On: ?t=SECONDS serves the file from that time on, as a file of its own"),
    AUDIO_STREAM_SETTING("AudioStreamHLS", kHls,
                         "On: FILE/index.m3u8 and FILE/master.m3u8 serve the file as HLS, with "
                         "its segments under FILE/"),
    AUDIO_STREAM_SETTING("AudioStreamHLSMP3", kHlsMp3,
                         "TS: an MP3's HLS segments are MPEG-TS (every player); Packed: packed "
                         "audio, an ID3 timestamp and the frames (not Chromium's own player)"),
    AUDIO_STREAM_SETTING("AudioStreamSnapshotSize", kSnapshotSize,
                         "Largest body sent over HTTP/2 or TLS from a private snapshot (K/M/G "
                         "suffix); larger bodies are read in chunks; 0 = never snapshot"),
    AUDIO_STREAM_SETTING("AudioStreamShareSnapshots", kShareSnapshots,
                         "On: requests for the same range of an unchanged file share one HTTP/2 "
                         "snapshot; Off: each request copies its own"),
    AUDIO_STREAM_SETTING("AudioStreamStats", kStats,
                         "On: count podcast downloads by IAB rules and set the AUDIO_* request "
                         "variables for the access log"),
    AP_INIT_TAKE1("AudioStreamStatsCache",
                  reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(set_stats_cache)), nullptr,
                  RSRC_CONF, "Where download counts are shared: shmcb (default), memcache:host:port[,...], "
                             "redis:host:port, or any mod_socache provider[:args]"),
    AP_INIT_TAKE1("AudioStreamStatsSecret",
                  reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(set_stats_secret)), nullptr,
                  RSRC_CONF, "A file of at least 16 bytes, the same on every server of a fleet, mixed "
                             "into the daily salt so that the stats cache alone cannot give listeners' "
                             "addresses away"),
    AP_INIT_TAKE1("AudioStreamSeekIndexDir",
                  reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(set_seek_index_dir)), nullptr,
                  RSRC_CONF, "Directory where the children share the files' seek indexes (relative: "
                             "to ServerRoot), or none; default audio-stream-index in DefaultRuntimeDir"),
    AP_INIT_TAKE1("AudioStreamSnapshotDir",
                  reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(set_snapshot_dir)), nullptr,
                  RSRC_CONF, "Directory on a tmpfs mounted with huge pages (huge=within_size) where "
                             "the children make HTTP/2 snapshots of 1 MiB or more, or none (memory "
                             "files; default)"),
    {nullptr, {nullptr}, nullptr, 0, RAW_ARGS, nullptr},
};

}  // namespace audio_stream::apache
