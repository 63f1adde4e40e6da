// Seek indexes on disk: one directory that all of a server's children share (and that outlives
// restarts when it is not on a tmpfs), so that a file is indexed once per server rather than
// once per child. One file per (audio file, state, kind of index), named by the file's device
// and inode and by its size, mtime and ctime: a changed audio file misses, and the first save of its
// new index removes the old one's. Files are written under a temporary name and renamed, so a
// reader sees a whole index or none; what a reader loads is still only bytes to validate (each
// index type's parse checks them against the file). Saving keeps the directory within its byte
// budget by removing the indexes used least recently (a load touches its file), so indexes of
// files replaced or deleted since do not pile up.
//
// While one process builds the index of a file, the others that want it wait on an advisory
// lock (flock) per file and kind, then load what it saved: a file is read once per server even
// when every child is asked for it at the same moment.
#ifndef AUDIO_STREAM_CACHE_INDEX_FILES_H
#define AUDIO_STREAM_CACHE_INDEX_FILES_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "../file_identity.h"

namespace audio_stream {

class IndexFiles {
public:
    // `dir` exists and is writable by the process; `max_bytes` bounds one index file,
    // `budget` all of them together.
    IndexFiles(std::string dir, std::size_t max_bytes, std::uint64_t budget)
        : dir_(std::move(dir)), max_bytes_(max_bytes), budget_(budget)
    {
    }

    // Holds the lock on one file's index of one kind while alive (nothing when the lock file
    // cannot be opened: the caller then builds without it).
    class Lock {
    public:
        explicit Lock(int fd) : fd_(fd) {}
        Lock(Lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
        ~Lock();
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;
        Lock& operator=(Lock&&) = delete;

    private:
        int fd_;
    };
    Lock lock(const FileIdentity& file, unsigned kind) const;

    // `kind` tells indexes of one file apart (IndexKind). The payload saved for this file and
    // kind, or nothing (absent, another state of the file,
    // unreadable, too large, or not one of ours).
    std::optional<std::string> load(const FileIdentity& file, unsigned kind) const;

    // Saves the payload (replacing any other state's of the same file and kind); false when it
    // could not be written (a full disk, say): the index then lives in memory only.
    bool save(const FileIdentity& file, unsigned kind, const std::string& payload) const;

    const std::string& dir() const { return dir_; }

private:
    std::string prefix(const FileIdentity& file, unsigned kind) const;
    std::string path(const FileIdentity& file, unsigned kind) const;
    // Removes this file's other states, then the least recently used indexes past the budget.
    void tidy(const FileIdentity& file, unsigned kind, const std::string& kept) const;

    std::string dir_;
    std::size_t max_bytes_;
    std::uint64_t budget_;
};

}  // namespace audio_stream

#endif
