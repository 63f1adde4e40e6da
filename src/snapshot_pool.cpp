#include "snapshot_pool.h"

#include <algorithm>
#include <cstring>

#include <unistd.h>

#include "file_read.h"

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#define AUDIO_STREAM_HAVE_MEMFD 1
#endif

namespace audio_stream {

SnapshotPool::SnapshotPool(std::size_t max_slots, std::size_t capacity, std::size_t max_bytes)
    : max_slots_(max_slots), capacity_(capacity), max_bytes_(max_bytes)
{
    all_.reserve(max_slots);
    free_.reserve(max_slots);
}

SnapshotPool::~SnapshotPool()
{
    for (Slot* s : all_) {
#if AUDIO_STREAM_HAVE_MEMFD
        ::munmap(s->data, capacity_);
        ::close(s->fd);
#endif
        delete s;
    }
}

bool SnapshotPool::supported()
{
#if AUDIO_STREAM_HAVE_MEMFD
    return true;
#else
    return false;
#endif
}

SnapshotPool::Slot* SnapshotPool::make_slot()
{
#if AUDIO_STREAM_HAVE_MEMFD
    const int fd = ::memfd_create("audio-stream-snapshot", MFD_CLOEXEC);
    if (fd < 0) {
        return nullptr;
    }
    void* data = MAP_FAILED;
    if (::ftruncate(fd, static_cast<off_t>(capacity_)) == 0) {
        data = ::mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (data == MAP_FAILED) {
        ::close(fd);
        return nullptr;
    }
    auto* s = new Slot;
    s->fd = fd;
    s->data = static_cast<char*>(data);
    s->capacity = capacity_;
    if (all_.empty()) {
        const int reader = ::open(reader_path(*s).c_str(), O_RDONLY | O_CLOEXEC);
        shareable_ = reader >= 0;
        if (reader >= 0) {
            ::close(reader);
        }
    }
    all_.push_back(s);
    return s;
#else
    return nullptr;
#endif
}

// The most recently released free slot whose pages cover `bytes`, else the most recent one;
// removed from the free list. nullptr when none is free.
SnapshotPool::Slot* SnapshotPool::take_free(std::size_t bytes)
{
    if (free_.empty()) {
        return nullptr;
    }
    auto it = std::find_if(free_.rbegin(), free_.rend(), [&](const Slot* s) { return s->touched >= bytes; });
    auto chosen = it != free_.rend() ? std::prev(it.base()) : std::prev(free_.end());
    Slot* s = *chosen;
    free_.erase(chosen);
    return s;
}

void SnapshotPool::drop_pages(Slot* slot)
{
#if AUDIO_STREAM_HAVE_MEMFD
    // The pages go back to the kernel (and out of the mapping); the size stays.
    (void)::fallocate(slot->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(slot->touched));
#endif
    touched_ -= slot->touched;
    slot->touched = 0;
    slot->keyed = false;  // its bytes are gone
}

// Frees free slots' pages, least recently used first (never `keep`'s), until `growth` more
// bytes fit the budget. False when they cannot.
bool SnapshotPool::make_room(std::size_t growth, const Slot* keep)
{
    for (auto it = free_.begin(); touched_ + growth > max_bytes_ && it != free_.end(); ++it) {
        if (*it != keep && (*it)->touched > 0) {
            drop_pages(*it);
        }
    }
    return touched_ + growth <= max_bytes_;
}

SnapshotPool::Slot* SnapshotPool::acquire(std::size_t bytes)
{
    if (bytes > capacity_) {
        return nullptr;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    Slot* s = take_free(bytes);
    if (!s && all_.size() < max_slots_) {
        s = make_slot();
    }
    if (!s) {
        return nullptr;
    }
    const std::size_t growth = bytes > s->touched ? bytes - s->touched : 0;
    if (growth > 0 && !make_room(growth, s)) {
        free_.push_back(s);  // unchanged: still the most recent
        return nullptr;
    }
    touched_ += growth;
    s->touched += growth;
    s->users = 1;
    s->keyed = false;  // about to be overwritten
    return s;
}

SnapshotPool::Slot* SnapshotPool::share(const SnapshotKey& key)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!shareable_) {
        return nullptr;
    }
    auto it = std::find_if(all_.begin(), all_.end(), [&](const Slot* s) { return s->keyed && s->key == key; });
    if (it == all_.end()) {
        return nullptr;
    }
    Slot* s = *it;
    if (s->users++ == 0) {
        free_.erase(std::find(free_.begin(), free_.end(), s));
    }
    return s;
}

void SnapshotPool::publish(Slot* slot, const SnapshotKey& key)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!shareable_ ||
        std::any_of(all_.begin(), all_.end(), [&](const Slot* s) { return s->keyed && s->key == key; })) {
        return;
    }
    slot->key = key;
    slot->keyed = true;
}

void SnapshotPool::release(Slot* slot)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (--slot->users == 0) {
        free_.push_back(slot);
    }
}

std::string SnapshotPool::reader_path(const Slot& slot)
{
    return "/proc/self/fd/" + std::to_string(slot.fd);
}

bool SnapshotPool::shareable() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return shareable_;
}

std::size_t SnapshotPool::slots_made() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return all_.size();
}

std::size_t SnapshotPool::touched_bytes() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return touched_;
}

std::size_t SnapshotPool::slots_in_use() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return all_.size() - free_.size();
}

apr_status_t fill_snapshot(SnapshotPool::Slot& slot, apr_file_t* file, const Extents& body)
{
    if (extents_length(body) > slot.capacity) {
        return APR_ENOSPC;
    }
    std::size_t at = 0;
    for (const Extent& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            const auto n = static_cast<std::size_t>(f->length);
            if (const apr_status_t rv = read_exactly(file, f->offset, slot.data + at, n); rv != APR_SUCCESS) {
                return rv;
            }
            at += n;
        }
        else {
            const std::string& bytes = std::get<MemoryBlock>(e).bytes;
            std::memcpy(slot.data + at, bytes.data(), bytes.size());
            at += bytes.size();
        }
    }
    slot.length = at;
    return APR_SUCCESS;
}

}  // namespace audio_stream
