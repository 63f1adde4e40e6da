#include "child.h"

#include <exception>
#include <optional>
#include <utility>

#include "ap_mpm.h"
#include "../config_values.h"
#include "config.h"
#include "server_dirs.h"
#include "stats_store.h"

namespace audio_stream::apache {

namespace {

constexpr std::size_t kCutCacheEntries = 256;
// The largest cut a format makes (2^18 renumbered FLAC frames or Ogg pages, about 30 MiB) must
// fit: one that did not was made again for every range request of a player (229 ms each for a
// 3.5-hour FLAC of 1152-sample frames cut at 7000 s).
constexpr std::size_t kCutCacheBytes = std::size_t{64} << 20;
// Seek indexes of the files cut lately: about 40 hours of FLAC (1.5 MiB an hour), far more of
// MP3 and Ogg.
constexpr std::size_t kSeekIndexBytes = std::size_t{64} << 20;
// All the indexes AudioStreamSeekIndexDir keeps: about 170 hours of FLAC.
constexpr std::uint64_t kSeekIndexDirBytes = std::uint64_t{256} << 20;
// A slot is held from the handler until its stream ends, a little after the worker thread is
// free again: twice the child's threads.
constexpr int kSlotsPerThread = 2;
constexpr int kFallbackThreads = 64;
// The pages all of a child's snapshots may hold, in use or kept warm in free slots: 64 streams
// of 1 MiB windows. Past it, bodies are read in chunks.
constexpr std::size_t kSnapshotMemory = std::size_t{64} << 20;

std::size_t snapshot_slots()
{
    int threads = 0;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads <= 0) {
        threads = kFallbackThreads;
    }
    return static_cast<std::size_t>(threads) * kSlotsPerThread;
}

apr_status_t drop_child_state(void* main_v) noexcept
{
    auto* main = static_cast<server_rec*>(main_v);
    const ChildState state = child_state(main);
    set_child_state(main, ChildState{});
    delete state.cuts;
    delete state.indexes;
    delete state.layouts;
    delete state.tracks;
    delete state.snapshots;
    delete state.warnings;
    return APR_SUCCESS;
}

// What `make` returns, or null with one AS0098 line when it throws (no memory, say): the child
// then serves without it.
template <typename Make>
auto make_or_log(server_rec* s, const char* what, Make make) noexcept -> decltype(make())
{
    try {
        return make();
    }
    catch (const std::exception& e) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no %s: %s", what, e.what());
    }
    catch (...) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "AS0098: no %s", what);
    }
    return nullptr;
}

}  // namespace

void child_init(apr_pool_t* pchild, server_rec* s) noexcept
{
    // Time seek still works uncached without the caches; HTTP/2 reads in chunks without the pool.
    ChildState state;
    state.cuts = make_or_log(s, "cut cache", [] { return new CutCache(kCutCacheEntries, kCutCacheBytes); });
    state.indexes = make_or_log(s, "seek index cache", [] {
        std::optional<IndexFiles> files;
        if (const char* dir = seek_index_dir()) {
            files.emplace(dir, kSeekIndexBytes, kSeekIndexDirBytes);
        }
        return new SeekIndexCache(kSeekIndexBytes, std::move(files));
    });
    state.layouts = make_or_log(s, "layout cache", [] { return new LayoutCache(); });
    state.tracks = make_or_log(s, "track cache", [] { return new TrackCache(); });
    state.warnings = make_or_log(s, "warning flags", [] { return new ChildWarnings(); });
    const char* snapshot_files = snapshot_dir();
    if (SnapshotPool::supported()) {
        state.snapshots = make_or_log(s, "snapshot pool", [snapshot_files] {
            return new SnapshotPool(snapshot_slots(), static_cast<std::size_t>(kMaxSnapshotSize), kSnapshotMemory,
                                    snapshot_files ? snapshot_files : "");
        });
    }
    // The pool tried the directory as the children's user; it keeps memory files when it could not.
    if (state.snapshots && snapshot_files && state.snapshots->dir_error() != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, APR_FROM_OS_ERROR(state.snapshots->dir_error()), s,
                     "AS0061: snapshot directory %s: the server's user cannot make files there; "
                     "snapshots are kept in memory files instead", snapshot_files);
    }
    state.tally = stats_child_init(pchild, s);
    set_child_state(s, state);
    apr_pool_cleanup_register(pchild, s, drop_child_state, apr_pool_cleanup_null);
}

}  // namespace audio_stream::apache
