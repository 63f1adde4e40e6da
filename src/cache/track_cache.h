// The tracks of the files a child serves as HLS (audio_track.h: their packets' counts, sizes
// and codec setup), on the one per-child cache shape (file_lru.h), beside the cuts: a file's
// structure is read once for all its playlists and segments, not per request. Keyed by file
// identity and the format that read it. Refusals are kept too (a track of that status).
#ifndef AUDIO_STREAM_CACHE_TRACK_CACHE_H
#define AUDIO_STREAM_CACHE_TRACK_CACHE_H

#include <cstddef>
#include <memory>

#include "../audio_track.h"
#include "file_lru.h"

namespace audio_stream {

class TrackCache {
public:
    static constexpr std::size_t kMaxEntries = 4096;
    static constexpr std::size_t kMaxBytes = std::size_t{8} << 20;

    // `format`: formats/dispatch.h, format_of_type.
    std::shared_ptr<const AudioTrack> find(const FileIdentity& file, unsigned format) const
    {
        return lru_.find(file, format);
    }

    void insert(const FileIdentity& file, unsigned format, std::shared_ptr<const AudioTrack> track)
    {
        const std::size_t footprint = sizeof(AudioTrack) + track->config.capacity() + track->detail.capacity();
        lru_.insert(file, format, std::move(track), footprint);
    }

private:
    FileLru<unsigned, AudioTrack> lru_{kMaxEntries, kMaxBytes};
};

}  // namespace audio_stream

#endif
