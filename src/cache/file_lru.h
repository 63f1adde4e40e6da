// The one shape of every per-child cache of things derived from a file: values keyed by the
// file's identity (a changed file is a new key, so it is never answered from an old entry) and
// by what else tells them apart (a span, a kind of index), bounded in entries and in bytes.
//
// Lookups take a shared lock and only mark their entry used, so the many threads that read
// (every request of a counted location looks up a layout) never wait on one another. Eviction
// is second chance (CLOCK): from the oldest end, an entry used since it was last passed goes
// back to the young end once, unmarked; one that was not is dropped; the entry being inserted
// is passed over. Each pass over another entry either frees it or clears its mark, so an
// insert costs at most two turns around the list.
#ifndef AUDIO_STREAM_CACHE_FILE_LRU_H
#define AUDIO_STREAM_CACHE_FILE_LRU_H

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "../file_identity.h"

namespace audio_stream {

// KeyHash(key) -> std::uint64_t mixed into the identity's hash.
template <typename Key, typename Value, typename KeyHash = std::hash<Key>>
class FileLru {
public:
    FileLru(std::size_t max_entries, std::size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

    std::shared_ptr<const Value> find(const FileIdentity& file, const Key& key) const
    {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        const auto it = index_.find(Id{file, key});
        if (it == index_.end()) {
            return nullptr;
        }
        it->second->used.store(true, std::memory_order_relaxed);
        return it->second->value;
    }

    // Keeps `value` (replacing one of the same key) unless it alone exceeds a bound, then drops
    // entries as above until both bounds hold. `footprint`: the bytes it holds.
    void insert(const FileIdentity& file, const Key& key, std::shared_ptr<const Value> value, std::size_t footprint)
    {
        if (max_entries_ == 0 || footprint > max_bytes_) {
            return;
        }
        std::lock_guard<std::shared_mutex> lock(mutex_);
        const Id id{file, key};
        if (const auto it = index_.find(id); it != index_.end()) {
            bytes_ -= it->second->footprint;
            entries_.erase(it->second);
            index_.erase(it);
        }
        entries_.emplace_front(id, std::move(value), footprint);
        try {
            index_.emplace(id, entries_.begin());
        }
        catch (...) {
            entries_.pop_front();  // an entry the index does not know would never be counted
            throw;
        }
        bytes_ += footprint;
        evict_locked(entries_.begin());
    }

    std::size_t entries() const
    {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        return entries_.size();
    }

    std::size_t bytes() const
    {
        std::shared_lock<std::shared_mutex> lock(mutex_);
        return bytes_;
    }

private:
    struct Id {
        FileIdentity file;
        Key key;
        bool operator==(const Id& o) const { return file == o.file && key == o.key; }
    };
    struct IdHash {
        std::size_t operator()(const Id& id) const
        {
            return identity_hash(id.file, static_cast<std::uint64_t>(KeyHash{}(id.key)));
        }
    };
    struct Entry {
        Entry(const Id& i, std::shared_ptr<const Value> v, std::size_t f) : id(i), value(std::move(v)), footprint(f) {}
        Id id;
        std::shared_ptr<const Value> value;
        std::size_t footprint;
        mutable std::atomic<bool> used{false};
    };

    // Never `kept`, the entry just inserted (it fits alone: insert checked).
    void evict_locked(typename std::list<Entry>::iterator kept)
    {
        while (entries_.size() > max_entries_ || bytes_ > max_bytes_) {
            auto oldest = std::prev(entries_.end());
            if (oldest == kept || oldest->used.exchange(false, std::memory_order_relaxed)) {
                entries_.splice(entries_.begin(), entries_, oldest);  // a second chance
                continue;
            }
            bytes_ -= oldest->footprint;
            index_.erase(oldest->id);
            entries_.erase(oldest);
        }
    }

    const std::size_t max_entries_;
    const std::size_t max_bytes_;
    mutable std::shared_mutex mutex_;
    std::list<Entry> entries_;  // front: the youngest
    std::unordered_map<Id, typename std::list<Entry>::iterator, IdHash> index_;
    std::size_t bytes_ = 0;
};

}  // namespace audio_stream

#endif
