#include "cut_cache.h"

namespace audio_stream {

std::size_t cut_footprint(const Cut& cut)
{
    std::size_t total = sizeof(Cut) + cut.detail.size() + cut.rep.etag_suffix.size();
    for (const auto& e : cut.rep.extents) {
        total += sizeof(Extent);
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            total += m->bytes.size();
        }
    }
    return total;
}

std::size_t CutCache::KeyHash::operator()(const Key& k) const
{
    return identity_hash(k.file, static_cast<std::uint64_t>(k.t));
}

CutCache::CutCache(std::size_t max_entries, std::size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes)
{
}

std::shared_ptr<const Cut> CutCache::find(const FileIdentity& file, Micros t)
{
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = index_.find(Key{file, t});
    if (it == index_.end()) {
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->cut;
}

void CutCache::insert(const FileIdentity& file, Micros t, std::shared_ptr<const Cut> cut)
{
    const std::size_t footprint = cut_footprint(*cut);
    if (max_entries_ == 0 || footprint > max_bytes_) {
        return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const Key key{file, t};
    const auto it = index_.find(key);
    if (it != index_.end()) {
        // Another thread made the same cut meanwhile: keep one.
        bytes_ -= it->second->footprint;
        lru_.erase(it->second);
        index_.erase(it);
    }
    lru_.push_front(Entry{key, std::move(cut), footprint});
    index_.emplace(key, lru_.begin());
    bytes_ += footprint;
    evict_locked();
}

void CutCache::evict_locked()
{
    while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_)) {
        bytes_ -= lru_.back().footprint;
        index_.erase(lru_.back().key);
        lru_.pop_back();
    }
}

std::size_t CutCache::entries() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return lru_.size();
}

std::size_t CutCache::bytes() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

}  // namespace audio_stream
