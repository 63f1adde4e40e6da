#include "seek_index.h"

#include <limits>
#include <utility>

namespace audio_stream {

SeekIndexCache::SeekIndexCache(std::size_t max_bytes, std::optional<IndexFiles> files)
    : files_(std::move(files)), lru_(std::numeric_limits<std::size_t>::max(), max_bytes)
{
}

std::shared_ptr<const SeekIndex> SeekIndexCache::load_or_build(const Key& key, const Builder& build,
                                                               const Parser& parse, bool& built)
{
    const auto kind = static_cast<unsigned>(key.kind);
    std::optional<IndexFiles::Lock> lock;
    if (files_) {
        // Another process may be building it: wait for it, then take what it saved.
        lock.emplace(files_->lock(key.file, kind));
        if (const auto payload = files_->load(key.file, kind)) {
            if (auto loaded = parse(*payload)) {
                return loaded;
            }
        }
    }
    auto made = build();
    built = true;
    if (files_ && made) {
        const std::string payload = made->payload();
        if (!payload.empty()) {
            files_->save(key.file, kind, payload);
        }
    }
    return made;
}

std::shared_ptr<const SeekIndex> SeekIndexCache::get(const FileIdentity& file, IndexKind kind,
                                                     const Builder& build, const Parser& parse, bool& built)
{
    built = false;
    if (auto hit = lru_.find(file, kind)) {
        return hit;
    }
    const Key key{file, kind};
    {
        std::unique_lock<std::mutex> lock(building_mutex_);
        // Another thread reads this file: its index, when done, serves this request too. It may
        // also have finished between the look above and this lock: look again.
        built_.wait(lock, [&] { return building_.find(key) == building_.end(); });
        if (auto hit = lru_.find(file, kind)) {
            return hit;
        }
        building_.insert(key);
    }
    // However this ends (an index, none, or an exception from building or keeping it), the key
    // leaves building_ and the waiting threads wake: they find the index, or build for themselves.
    struct Done {
        SeekIndexCache& cache;
        const Key& key;
        ~Done()
        {
            std::lock_guard<std::mutex> lock(cache.building_mutex_);
            cache.building_.erase(key);
            cache.built_.notify_all();
        }
    } done{*this, key};
    auto made = load_or_build(key, build, parse, built);
    if (made) {
        lru_.insert(file, kind, made, made->footprint());
    }
    return made;
}

}  // namespace audio_stream
