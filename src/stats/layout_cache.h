// The layouts of the files a child has counted downloads of, so that a request reads a file's
// headers once, not per request. Bounded: past kMaxEntries it starts over (a layout costs a
// few small reads to make again).
#ifndef AUDIO_STREAM_STATS_LAYOUT_CACHE_H
#define AUDIO_STREAM_STATS_LAYOUT_CACHE_H

#include <cstddef>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "../audio_layout.h"
#include "../file_identity.h"

namespace audio_stream::stats {

class LayoutCache {
public:
    static constexpr std::size_t kMaxEntries = 4096;

    std::optional<AudioLayout> find(const FileIdentity& file) const
    {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const auto it = map_.find(file);
        return it == map_.end() ? std::nullopt : std::optional<AudioLayout>(it->second);
    }

    void insert(const FileIdentity& file, const AudioLayout& layout)
    {
        std::lock_guard<std::shared_mutex> lock(mutex_);
        if (map_.size() >= kMaxEntries) {
            map_.clear();
        }
        map_[file] = layout;
    }

    std::size_t entries() const
    {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        return map_.size();
    }

private:
    struct Hash {
        std::size_t operator()(const FileIdentity& f) const { return identity_hash(f); }
    };
    // Shared by the threads that only look (every request of a counted location).
    mutable std::shared_mutex mutex_;
    std::unordered_map<FileIdentity, AudioLayout, Hash> map_;
};

}  // namespace audio_stream::stats

#endif
