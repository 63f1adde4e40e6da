// Which file, in which state: what a cache of anything derived from a file is keyed by, so
// that a changed file (replaced, rewritten, grown) is never answered from an old entry.
#ifndef AUDIO_STREAM_FILE_IDENTITY_H
#define AUDIO_STREAM_FILE_IDENTITY_H

#include <cstddef>
#include <cstdint>

namespace audio_stream {

struct FileIdentity {
    std::uint64_t device;
    std::uint64_t inode;
    std::uint64_t size;
    std::int64_t mtime;      // microseconds
    std::int64_t ctime = 0;  // microseconds: a rewrite that sets the mtime back still moves it
    bool operator==(const FileIdentity& o) const
    {
        return device == o.device && inode == o.inode && size == o.size && mtime == o.mtime && ctime == o.ctime;
    }
};

// FNV-1a over the identity's five numbers and `extra` (what else a cache keys by).
inline std::size_t identity_hash(const FileIdentity& f, std::uint64_t extra = 0)
{
    std::uint64_t h = 1469598103934665603ull;
    for (std::uint64_t v : {f.device, f.inode, f.size, static_cast<std::uint64_t>(f.mtime),
                            static_cast<std::uint64_t>(f.ctime), extra}) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xff;
            h *= 1099511628211ull;
        }
    }
    return static_cast<std::size_t>(h);
}

}  // namespace audio_stream

#endif
