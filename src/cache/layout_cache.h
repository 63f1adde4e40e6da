// The layouts of the files a child has served (where the audio lies, how long it plays), on the
// one per-child cache shape (file_lru.h): download counting, clips and playlists read a file's
// headers once, not per request. At most kMaxEntries files; least recently used out.
#ifndef AUDIO_STREAM_CACHE_LAYOUT_CACHE_H
#define AUDIO_STREAM_CACHE_LAYOUT_CACHE_H

#include <cstddef>
#include <memory>
#include <optional>

#include "../audio_layout.h"
#include "file_lru.h"

namespace audio_stream {

class LayoutCache {
public:
    static constexpr std::size_t kMaxEntries = 4096;

    std::optional<AudioLayout> find(const FileIdentity& file) const
    {
        const auto found = lru_.find(file, Whole{});
        return found ? std::optional<AudioLayout>(*found) : std::nullopt;
    }

    void insert(const FileIdentity& file, const AudioLayout& layout)
    {
        lru_.insert(file, Whole{}, std::make_shared<const AudioLayout>(layout), sizeof(AudioLayout));
    }

    std::size_t entries() const { return lru_.entries(); }

private:
    // A layout is of the whole file: nothing else tells two apart.
    struct Whole {
        bool operator==(const Whole&) const { return true; }
    };
    struct WholeHash {
        std::size_t operator()(const Whole&) const { return 0; }
    };
    FileLru<Whole, AudioLayout, WholeHash> lru_{kMaxEntries, kMaxEntries * sizeof(AudioLayout)};
};

}  // namespace audio_stream

#endif
