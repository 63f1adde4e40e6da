// Configuration: the per-directory and per-server records, their merge, the directive table,
// and one accessor per setting that applies its default (unset values stay unset through
// merges, so a default is decided in exactly one place: here).
#ifndef AUDIO_STREAM_APACHE_CONFIG_H
#define AUDIO_STREAM_APACHE_CONFIG_H

#include "glue.h"

#include <atomic>

#include "../cache/cut_cache.h"
#include "../cache/layout_cache.h"
#include "../cache/seek_index.h"
#include "../cache/track_cache.h"
#include "../piece_window.h"
#include "../representation.h"
#include "../snapshot_pool.h"

namespace audio_stream::stats {
class Tally;
}

namespace audio_stream::apache {

struct DirConfig;

// The handler name of `SetHandler audio-stream`.
inline constexpr const char* kHandlerName = "audio-stream";

void* create_dir_config(apr_pool_t* p, char* dir) noexcept;
void* merge_dir_config(apr_pool_t* p, void* base, void* add) noexcept;
void* create_server_config(apr_pool_t* p, server_rec* s) noexcept;
extern const command_rec directives[];

// The merged per-directory settings of a request.
const DirConfig& dir_config(const request_rec* r);

// Each with its default applied.
PiecePolicy piece_policy(const DirConfig& c);
unsigned max_ranges(const DirConfig& c);     // 0 = unlimited
Offset read_threshold(const DirConfig& c);   // 0 = always sendfile
bool time_seek(const DirConfig& c);
bool hls(const DirConfig& c);                // AudioStreamHLS
bool hls_mp3_packed(const DirConfig& c);     // AudioStreamHLSMP3 Packed
Offset snapshot_size(const DirConfig& c);    // 0 = never snapshot
bool stats(const DirConfig& c);             // AudioStreamStats
bool share_snapshots(const DirConfig& c);   // AudioStreamShareSnapshots

// What each child process holds for its threads, shared by every virtual host: the caches of
// what is derived from files, cuts, seek indexes, layouts and HLS tracks (null when they could not be
// made: time seek then works uncached, and a layout is read per request), and the snapshot
// pool (null: HTTP/2 bodies are read in chunks). child.cpp sets them for every server record.
struct ChildWarnings;
struct ChildState {
    CutCache* cuts = nullptr;
    SeekIndexCache* indexes = nullptr;
    LayoutCache* layouts = nullptr;
    TrackCache* tracks = nullptr;
    SnapshotPool* snapshots = nullptr;
    ChildWarnings* warnings = nullptr;
    stats::Tally* tally = nullptr;  // download counting's (null: counting alone, stats_store.h)
};
// Warnings about the configuration a child writes once, at the first request that meets them.
struct ChildWarnings {
    std::atomic<bool> same_server_cache{false};  // AS0027
};
CutCache* cut_cache(const server_rec* s);
SeekIndexCache* seek_index_cache(const server_rec* s);
LayoutCache* layout_cache(const server_rec* s);
TrackCache* track_cache(const server_rec* s);
SnapshotPool* snapshot_pool(const server_rec* s);
const ChildState& child_state(const server_rec* s);
void set_child_state(server_rec* main, const ChildState& state);

// A server's record: the child's state, and download counting's settings and cache
// (stats_store.cpp), made for the main server and shared with every virtual host at start.
struct StatsServer;
struct ServerConfig {
    ChildState child;
    StatsServer* stats = nullptr;
    bool stats_on = false;  // AudioStreamStats On in this server's configuration files
};
ServerConfig& server_record(const server_rec* s);

}  // namespace audio_stream::apache

#endif
