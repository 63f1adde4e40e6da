// A child's time-seek cuts and clips, on the one per-child cache shape (file_lru.h). A player
// fetches one ?t= URL with many Range requests; each must see the same representation, and only
// the first should parse the file. Keyed by file identity, the format that read it (one file may
// be served under two types) and the span asked for.
#ifndef AUDIO_STREAM_CACHE_CUT_CACHE_H
#define AUDIO_STREAM_CACHE_CUT_CACHE_H

#include <cstddef>
#include <memory>

#include "../cut.h"
#include "file_lru.h"

namespace audio_stream {

// Bytes a cut holds in memory, as malloc gives them (the extents' capacity, each block's heap
// bytes): what the cache counts against its budget.
std::size_t cut_footprint(const Cut& cut);

struct CutKey {
    unsigned format;  // formats/dispatch.h, format_of_type
    Span span;
    bool operator==(const CutKey& o) const { return format == o.format && span == o.span; }
};

struct CutKeyHash {
    std::size_t operator()(const CutKey& k) const;
};

class CutCache {
public:
    CutCache(std::size_t max_entries, std::size_t max_bytes) : lru_(max_entries, max_bytes) {}

    std::shared_ptr<const Cut> find(const FileIdentity& file, const CutKey& key) const { return lru_.find(file, key); }
    // Keeps the cut unless it alone exceeds the byte budget.
    void insert(const FileIdentity& file, const CutKey& key, std::shared_ptr<const Cut> cut)
    {
        const std::size_t footprint = cut_footprint(*cut);
        lru_.insert(file, key, std::move(cut), footprint);
    }

    std::size_t entries() const { return lru_.entries(); }
    std::size_t bytes() const { return lru_.bytes(); }

private:
    FileLru<CutKey, Cut, CutKeyHash> lru_;
};

}  // namespace audio_stream

#endif
