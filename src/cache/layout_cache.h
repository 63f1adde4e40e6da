// The layouts of the files a child has counted downloads of (where the audio lies, how long it
// plays), on the one per-child cache shape (file_lru.h), in the child's state beside the cuts,
// so that what else needs a file's duration shares them: a file's headers are read once, not per
// request. Keyed by file identity and the format that read it. At most kMaxEntries files; least
// recently used out.
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

    // `format`: formats/dispatch.h, format_of_type (0: a type no format reads).
    std::optional<AudioLayout> find(const FileIdentity& file, unsigned format) const
    {
        const auto found = lru_.find(file, format);
        return found ? std::optional<AudioLayout>(*found) : std::nullopt;
    }

    void insert(const FileIdentity& file, unsigned format, const AudioLayout& layout)
    {
        lru_.insert(file, format, std::make_shared<const AudioLayout>(layout), sizeof(AudioLayout));
    }

    std::size_t entries() const { return lru_.entries(); }

private:
    FileLru<unsigned, AudioLayout> lru_{kMaxEntries, kMaxEntries * sizeof(AudioLayout)};
};

}  // namespace audio_stream

#endif
