// Private snapshots of response bodies, for transports that read body bytes on another thread
// after the handler has returned (mod_http2 frames file buckets by their length, then reads
// them; a file truncated in between would send other bytes as DATA). A snapshot is the body
// copied into a memory file that only this process holds: nobody can truncate or write it, so
// what is read later is what was checked now. A file that shrinks is seen here, as a short read,
// before anything is sent.
//
// Memory files are made once and reused: fresh pages cost about 20 times the copy on the
// machines measured (BENCHMARKS.md). Free slots keep their pages while all slots together hold
// at most a warm budget; past it, a released slot gives its pages back to the kernel.
#ifndef AUDIO_STREAM_SNAPSHOT_POOL_H
#define AUDIO_STREAM_SNAPSHOT_POOL_H

#include <cstddef>
#include <mutex>
#include <vector>

#include "apr_file_io.h"
#include "representation.h"

namespace audio_stream {

class SnapshotPool {
public:
    struct Slot {
        int fd = -1;             // the memory file
        char* data = nullptr;    // mapped read-write, `capacity` bytes
        std::size_t length = 0;   // bytes of the current snapshot
        std::size_t touched = 0;  // bytes from 0 that may hold pages (the longest since emptied)
    };

    // Up to `max_slots` memory files of `capacity` bytes each (address space; pages are
    // allocated as they are first written), made as they are first needed; at most
    // `warm_bytes` of pages kept in free slots.
    SnapshotPool(std::size_t max_slots, std::size_t capacity, std::size_t warm_bytes);
    ~SnapshotPool();
    SnapshotPool(const SnapshotPool&) = delete;
    SnapshotPool& operator=(const SnapshotPool&) = delete;

    // Memory files exist here (Linux memfd_create); elsewhere acquire always fails and callers
    // keep their portable path.
    static bool supported();

    // A free slot for a body of `bytes`, or nullptr: too large, every slot in use, or no memory
    // file could be made. The most recently released slot first (its pages are warm).
    Slot* acquire(std::size_t bytes);
    void release(Slot* slot);

    std::size_t capacity() const { return capacity_; }
    std::size_t slots_made() const;
    std::size_t slots_in_use() const;
    std::size_t touched_bytes() const;  // pages the slots may hold, in use or free

private:
    Slot* make_slot();  // with mutex_ held

    const std::size_t max_slots_;
    const std::size_t capacity_;
    const std::size_t warm_bytes_;
    std::size_t touched_ = 0;
    mutable std::mutex mutex_;
    std::vector<Slot*> all_;
    std::vector<Slot*> free_;  // back: most recently released
};

// The body into `slot`: file extents read from `file` (pread), memory blocks copied.
// APR_SUCCESS; APR_EOF when the file ends before an extent does; APR_ENOSPC when the body is
// larger than the slot; else the read error. Sets slot.length on success.
apr_status_t fill_snapshot(SnapshotPool::Slot& slot, std::size_t capacity, apr_file_t* file, const Extents& body);

}  // namespace audio_stream

#endif
