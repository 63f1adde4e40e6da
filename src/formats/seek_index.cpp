#include "seek_index.h"

#include <utility>

namespace audio_stream {

std::size_t SeekIndexCache::KeyHash::operator()(const Key& k) const
{
    return identity_hash(k.file, static_cast<std::uint64_t>(k.kind));
}

SeekIndexCache::SeekIndexCache(std::size_t max_bytes, std::optional<IndexFiles> files)
    : max_bytes_(max_bytes), files_(std::move(files))
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
    const Key key{file, kind};
    built = false;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (const auto it = index_.find(key); it != index_.end()) {
                lru_.splice(lru_.begin(), lru_, it->second);
                return it->second->index;
            }
            if (building_.find(key) == building_.end()) {
                break;
            }
            // Another thread reads this file: its index, when done, serves this request too.
            built_.wait(lock);
        }
        building_.insert(key);
    }
    std::shared_ptr<const SeekIndex> made;
    try {
        made = load_or_build(key, build, parse, built);
    }
    catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        building_.erase(key);
        built_.notify_all();
        throw;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    building_.erase(key);
    if (made) {
        insert_locked(key, made);
    }
    built_.notify_all();
    return made;
}

void SeekIndexCache::insert_locked(const Key& key, std::shared_ptr<const SeekIndex> index)
{
    const std::size_t footprint = index->footprint();
    if (footprint > max_bytes_) {
        return;
    }
    lru_.push_front(Entry{key, std::move(index), footprint});
    index_.emplace(key, lru_.begin());
    bytes_ += footprint;
    while (bytes_ > max_bytes_) {
        bytes_ -= lru_.back().footprint;
        index_.erase(lru_.back().key);
        lru_.pop_back();
    }
}

std::size_t SeekIndexCache::entries() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return lru_.size();
}

std::size_t SeekIndexCache::bytes() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

}  // namespace audio_stream
