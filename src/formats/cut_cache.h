// A bounded, thread-safe LRU of time-seek cuts. A player fetches one ?t= URL with many Range
// requests; each must see the same representation, and only the first should parse the file.
// Keyed by file identity, so a changed file is never answered from an old cut.
#ifndef AUDIO_STREAM_FORMATS_CUT_CACHE_H
#define AUDIO_STREAM_FORMATS_CUT_CACHE_H

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "../file_identity.h"
#include "cut.h"

namespace audio_stream {

// Bytes a cut holds in memory: what the cache counts against its budget.
std::size_t cut_footprint(const Cut& cut);

class CutCache {
public:
    CutCache(std::size_t max_entries, std::size_t max_bytes);

    std::shared_ptr<const Cut> find(const FileIdentity& file, Micros t);
    // Keeps the cut unless it alone exceeds the byte budget; evicts least recently used ones.
    void insert(const FileIdentity& file, Micros t, std::shared_ptr<const Cut> cut);

    std::size_t entries() const;
    std::size_t bytes() const;

private:
    struct Key {
        FileIdentity file;
        Micros t;
        bool operator==(const Key& o) const { return file == o.file && t == o.t; }
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const;
    };
    struct Entry {
        Key key;
        std::shared_ptr<const Cut> cut;
        std::size_t footprint;
    };

    void evict_locked();

    const std::size_t max_entries_;
    const std::size_t max_bytes_;
    mutable std::mutex mutex_;
    std::list<Entry> lru_;  // front: most recently used
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
    std::size_t bytes_ = 0;
};

}  // namespace audio_stream

#endif
