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

SnapshotPool::SnapshotPool(std::size_t max_slots, std::size_t capacity, std::size_t warm_bytes)
    : max_slots_(max_slots), capacity_(capacity), warm_bytes_(warm_bytes)
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
    auto* s = new Slot{fd, static_cast<char*>(data), 0};
    all_.push_back(s);
    return s;
#else
    return nullptr;
#endif
}

SnapshotPool::Slot* SnapshotPool::acquire(std::size_t bytes)
{
    if (bytes > capacity_) {
        return nullptr;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
        Slot* s = free_.back();
        free_.pop_back();
        return s;
    }
    return all_.size() < max_slots_ ? make_slot() : nullptr;
}

void SnapshotPool::release(Slot* slot)
{
    bool empty_it = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::size_t grown = std::max(slot->touched, slot->length);
        touched_ += grown - slot->touched;
        slot->touched = grown;
        if (touched_ > warm_bytes_) {
            touched_ -= slot->touched;
            empty_it = true;
        }
    }
    if (empty_it) {
#if AUDIO_STREAM_HAVE_MEMFD
        // The pages go back to the kernel (and out of every mapping); the size stays.
        (void)::fallocate(slot->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                          static_cast<off_t>(slot->touched));
#endif
        slot->touched = 0;
    }
    slot->length = 0;
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(slot);
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

apr_status_t fill_snapshot(SnapshotPool::Slot& slot, std::size_t capacity, apr_file_t* file, const Extents& body)
{
    if (extents_length(body) > capacity) {
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
