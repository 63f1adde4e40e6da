// Private snapshots of response bodies, for transports that read body bytes on another thread
// after the handler has returned (mod_http2 frames file buckets by their length, then reads
// them; a file truncated in between would send other bytes as DATA). A snapshot is the body
// copied into a memory file that only this process holds: nobody can truncate or write it, so
// what is read later is what was checked now. A file that shrinks is seen here, as a short read,
// before anything is sent.
//
// Memory files are made once and reused, pages and all: fresh pages cost about 20 times the copy
// on the machines measured (BENCHMARKS.md). The pages of all slots together, in use or free,
// stay within a budget: a body that would pass it first drops the pages of free slots (least
// recently used first), and is refused when that is not enough (the caller then reads in
// chunks): snapshot memory is bounded whatever the load.
//
// A snapshot of a file's bytes can serve several requests: published under a key (the file's
// identity, whose ctime write(2), truncation and utimes move and nobody can set back, and the
// byte range), it is shared by every request for the same range of the same unchanged file
// while it is in use, and found again in its free slot until that slot is taken for another
// body (only when no other free slot is left and no new one can be made). Each request reads it
// through a descriptor of its own (take_reader): mod_http2 seeks and reads, and two connection
// threads on one shared file offset would mix their bytes; descriptors given back are kept for
// the slot's next readers. Which files may be shared (settled, on a local filesystem) is the
// caller's rule (src/apache/snapshot.cpp).
#ifndef AUDIO_STREAM_SNAPSHOT_POOL_H
#define AUDIO_STREAM_SNAPSHOT_POOL_H

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "apr_file_io.h"
#include "file_identity.h"
#include "representation.h"

namespace audio_stream {

// What a shared snapshot holds: bytes [offset, offset + length) of one file in one state.
struct SnapshotKey {
    FileIdentity file;  // with its ctime
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    bool operator==(const SnapshotKey& o) const { return file == o.file && offset == o.offset && length == o.length; }
};

class SnapshotPool {
public:
    // Where a slot's file is: a memory file (memfd_create), an unnamed file in the pool's
    // directory, or a memory file whose pages are collapsed into huge ones as they are
    // allocated.
    enum class Place { Memory, Dir, HugeMemory };

    struct Slot {
        int fd = -1;             // the memory file
        char* data = nullptr;    // mapped read-write, `capacity` bytes
        std::size_t capacity = 0;
        std::size_t length = 0;   // bytes of the current snapshot
        std::size_t touched = 0;  // bytes from 0 that may hold pages (counted in the budget)
        std::size_t unit = 1;     // what one page of its file holds, when more than a page (else 1)
        Place place = Place::Memory;
        unsigned users = 0;       // requests holding it; 0: in the free list
        bool keyed = false;       // holds the bytes `key` names (publish)
        SnapshotKey key;
        std::vector<int> readers;  // idle descriptors of `fd` given back (take_reader)
    };

    // Idle reader descriptors kept by a pool, all slots together. One given back beyond them
    // displaces an idle reader of another slot, or is closed when no other slot has one.
    static constexpr std::size_t kMaxIdleReaders = 64;

    // Up to `max_slots` memory files of `capacity` bytes each (address space; pages are
    // allocated before a body is written, so that a full file system refuses the body rather
    // than faults the writer), made as they are first needed, holding at most `max_bytes` of
    // pages together, counted in whole huge pages where a file has them (a byte written holds
    // 2 MiB). With `dir`, bodies of at least half a page of that directory's file system go to
    // unnamed files made there (O_TMPFILE: on a tmpfs mounted with huge=within_size, 2 MiB
    // pages, which the kernel copies and reads two to three times faster than 4 KiB ones);
    // the others to memfd_create's memory files. Without `dir`, bodies of at least half a huge
    // page go to memory files whose pages are collapsed into huge ones (collapse_page_size:
    // where the kernel can, and `capacity` holds one); the others to memory files.
    SnapshotPool(std::size_t max_slots, std::size_t capacity, std::size_t max_bytes, std::string dir = {});
    ~SnapshotPool();
    SnapshotPool(const SnapshotPool&) = delete;
    SnapshotPool& operator=(const SnapshotPool&) = delete;

    // Memory files exist here (Linux memfd_create); elsewhere acquire always fails and callers
    // keep their portable path.
    static bool supported();

    // A free slot for a body of `bytes`, or nullptr: too large, every slot in use, the budget
    // spent by slots in use, or no memory file could be made. Prefers the most recently released
    // slot whose pages already cover `bytes`; a slot holding a shared snapshot only when no other
    // free slot is left and no new one can be made. Whatever it held is forgotten. With
    // `keep_free`, also nullptr when the bodies in use and this one would leave less than that
    // much of the budget to others (a chain's later windows take only what is spare).
    Slot* acquire(std::size_t bytes, std::size_t keep_free = 0);
    // The slot published under `key`, in use or free, with one more user; nullptr when there is
    // none or sharing is off (shareable()). With `reader`, also one of the slot's idle reader
    // descriptors, or -1 when it has none (take_reader then makes one), under the same lock.
    Slot* share(const SnapshotKey& key, int* reader = nullptr);
    // After a complete fill of `key`'s bytes: later share(key) calls find `slot`, unless another
    // slot already holds them.
    void publish(Slot* slot, const SnapshotKey& key);
    // One user less; the last one puts the slot in the free list, still keyed. `reader`, when
    // not -1, is one take_reader gave for this slot: kept for a later reader (at the bound, in
    // place of another slot's idle one), or closed.
    void release(Slot* slot, int reader = -1);

    // A descriptor of the slot's memory file with a file offset of its own, for one request's
    // reader (mod_http2 seeks, then reads): one given back earlier, else a new one (opening
    // "/proc/self/fd/N" where shareable; else a duplicate, the slot having one user at a time). -1 with errno
    // when none can be made. Opening the path was about 9 us of kernel time per request under
    // HTTP/2 load (a walk through /proc); a descriptor given back serves the next request.
    int take_reader(Slot* slot);

    // Whether "/proc/self/fd/N" reopens a memory file here (checked on the first slot made);
    // without it, nothing is shared and each slot has a single reader.
    bool shareable() const;

    std::size_t slots_made() const;
    std::size_t slots_in_use() const;
    std::size_t touched_bytes() const;  // pages the slots may hold, in use or free
    std::size_t idle_readers() const;
    std::size_t max_bytes() const { return max_bytes_; }
    // What one page of a file in `dir` holds when more than a page (2 MiB on a huge tmpfs),
    // else 1.
    std::size_t dir_page_unit() const { return dir_unit_; }
    // Why no file could be made in `dir` (an errno; the pool then makes memory files only), or 0.
    int dir_error() const { return dir_error_; }
    // Without `dir`: the huge pages large bodies' memory files are collapsed into, 0 when none.
    std::size_t collapse_unit() const { return collapse_unit_; }

private:
    // With mutex_ held.
    Slot* make_slot(Place place);
    // A free slot at `place` (anywhere with `any_place`).
    Slot* take_free(std::size_t bytes, bool keyed, Place place, bool any_place);
    Place place_for(std::size_t bytes) const;  // where a new body of `bytes` goes
    std::size_t unit_of(Place place) const;
    bool make_room(std::size_t growth, const Slot* keep);
    void drop_pages(Slot* slot);
    Slot* find_keyed(const SnapshotKey& key) const;  // the slot published under `key`, or nullptr
    int pop_reader(Slot* slot);                       // one of its idle readers, or -1
    // The slot other than `keep` that gives up an idle reader when the pool holds as many as
    // it keeps: a free one, least recently released first, else one in use; nullptr when none.
    Slot* reader_victim(const Slot* keep) const;
    std::size_t pages_for(std::size_t bytes, std::size_t unit) const;  // rounded up, at most capacity_
    std::size_t free_bytes(const Slot* except = nullptr) const;  // pages of free slots but `except`

    // Without mutex_: the pages [from, from + bytes) of a slot acquired for a body; false, and
    // the slot freed without its pages, when the kernel cannot give them.
    bool allocate_pages(Slot* slot, std::size_t from, std::size_t bytes);

    const std::size_t max_slots_;
    const std::size_t capacity_;
    const std::size_t max_bytes_;
    std::string dir_;           // set by the constructor only (empty: memory files only)
    std::size_t dir_unit_ = 1;
    int dir_error_ = 0;
    std::size_t collapse_unit_ = 0;  // set by the constructor only
    std::size_t touched_ = 0;
    std::size_t idle_readers_ = 0;
    bool shareable_ = false;
    mutable std::mutex mutex_;
    std::vector<Slot*> all_;
    std::vector<Slot*> free_;  // back: most recently released
};

// A body of one file range larger than one snapshot (AudioStreamSnapshotSize, `window`) goes
// as a chain of snapshots: a first window of at most kFirstChainWindow, which is read before the
// headers leave and so sets the time to the first byte, then windows of `window` bytes, each read
// while mod_http2 sends the ones before it. A stream holds its snapshots until it ends (mod_http2
// says nothing earlier), so a chain stops after kMaxChainWindows windows or kMaxChainBytes bytes,
// whichever comes first; the caller reads the rest in chunks.
inline constexpr Offset kFirstChainWindow = Offset{256} << 10;
inline constexpr Offset kMaxChainBytes = Offset{16} << 20;
inline constexpr std::size_t kMaxChainWindows = 8;

struct SnapshotChain {
    std::vector<FileExtent> windows;  // in order, contiguous from body.offset; none when window is 0
    FileExtent rest;                  // what follows them (length 0: nothing)
};
SnapshotChain snapshot_chain(FileExtent body, Offset window);

// The body into `slot`: file extents read from `file` (pread), memory blocks copied.
// APR_SUCCESS; APR_EOF when the file ends before an extent does; APR_ENOSPC when the body is
// larger than the slot; else the read error. Sets slot.length on success.
apr_status_t fill_snapshot(SnapshotPool::Slot& slot, apr_file_t* file, const Extents& body);

}  // namespace audio_stream

#endif
