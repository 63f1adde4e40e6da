// Seek indexes: what a cutter learns of a file by reading it once (where its frames or pages
// are, and the few header bytes a cut rewrites), kept so that every later t of the same file
// is answered from memory instead of by reading the file again.
//
// SeekIndexCache is a child's store of them, on the one per-child cache shape (file_lru.h):
// bounded in bytes, least recently used first out, keyed by file identity (a changed file is a
// new key) and by the kind of index. While one
// thread builds an index, the others that want the same one wait for it rather than read the
// file too. Behind it, optionally, IndexFiles: a directory every child of the server shares.
#ifndef AUDIO_STREAM_CACHE_SEEK_INDEX_H
#define AUDIO_STREAM_CACHE_SEEK_INDEX_H

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "../file_identity.h"
#include "file_lru.h"
#include "index_files.h"

namespace audio_stream {

class SeekIndex {
public:
    virtual ~SeekIndex() = default;
    // Bytes the index holds: what the cache counts against its budget.
    virtual std::size_t footprint() const = 0;
    // The index as bytes for IndexFiles, which the type's parse reads back; empty: kept in
    // memory only.
    virtual std::string payload() const { return {}; }
};

// OggPackets: the pages of an Ogg Opus stream for HLS (ogg/packet_index.h).
enum class IndexKind : unsigned { Flac = 1, Mp3 = 2, Ogg = 3, OggPackets = 4 };

class SeekIndexCache {
public:
    using Builder = std::function<std::shared_ptr<const SeekIndex>()>;
    // An index from a payload IndexFiles kept, or null when the bytes do not validate.
    using Parser = std::function<std::shared_ptr<const SeekIndex>(std::string_view)>;

    // With `files`, indexes are also saved there and looked for there before being built.
    explicit SeekIndexCache(std::size_t max_bytes, std::optional<IndexFiles> files = std::nullopt);

    // The index of `file`, from memory, from the files (parsed) or from build() (then `built`
    // is set, and the index saved to the files). An index larger than the whole budget is
    // returned but not kept. If build() throws, the waiting threads build for themselves and
    // the exception goes to the caller.
    std::shared_ptr<const SeekIndex> get(const FileIdentity& file, IndexKind kind, const Builder& build,
                                         const Parser& parse, bool& built);

    std::size_t entries() const { return lru_.entries(); }
    std::size_t bytes() const { return lru_.bytes(); }

private:
    struct KindHash {
        std::size_t operator()(IndexKind k) const { return static_cast<std::size_t>(k); }
    };
    struct Key {
        FileIdentity file;
        IndexKind kind;
        bool operator==(const Key& o) const { return file == o.file && kind == o.kind; }
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const { return identity_hash(k.file, static_cast<std::uint64_t>(k.kind)); }
    };

    std::shared_ptr<const SeekIndex> load_or_build(const Key& key, const Builder& build, const Parser& parse,
                                                   bool& built);

    const std::optional<IndexFiles> files_;
    FileLru<IndexKind, SeekIndex, KindHash> lru_;
    std::mutex building_mutex_;
    std::condition_variable built_;
    std::unordered_set<Key, KeyHash> building_;  // keys some thread is building
};

// Where a cutter gets its index: a child's cache and the file's identity, or, default
// constructed, nowhere (each cut builds its own: tests, fuzzers).
class IndexSource {
public:
    IndexSource() = default;
    IndexSource(SeekIndexCache* cache, const FileIdentity& file) : cache_(cache), file_(file) {}

    // T derives from SeekIndex and has static std::shared_ptr<const T> parse(std::string_view
    // payload, Offset file_size); build() returns std::shared_ptr<const T>.
    template <typename T, typename Build>
    std::shared_ptr<const T> get(IndexKind kind, Build build)
    {
        if (!cache_) {
            built_ = true;
            return build();
        }
        auto any = cache_->get(
            file_, kind, [&]() -> std::shared_ptr<const SeekIndex> { return build(); },
            [&](std::string_view payload) -> std::shared_ptr<const SeekIndex> { return T::parse(payload, file_.size); },
            built_);
        return std::static_pointer_cast<const T>(any);
    }

    // Whether the last get() read the file to build the index.
    bool built() const { return built_; }

private:
    SeekIndexCache* cache_ = nullptr;
    FileIdentity file_{};
    bool built_ = false;
};

}  // namespace audio_stream

#endif
