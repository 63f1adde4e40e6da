#include "snapshot_pool.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "file_read.h"
#include "memory_file.h"

namespace audio_stream {

SnapshotPool::SnapshotPool(std::size_t max_slots, std::size_t capacity, std::size_t max_bytes, std::string dir)
    : max_slots_(max_slots), capacity_(capacity), max_bytes_(max_bytes), dir_(std::move(dir))
{
    all_.reserve(max_slots);
    free_.reserve(max_slots);
    if (!dir_.empty()) {
        dir_unit_ = dir_page_size(dir_.c_str(), capacity_);
        if (dir_unit_ == 0) {
            dir_error_ = errno != 0 ? errno : EIO;
            dir_.clear();  // nothing can be made there: memory files only
            dir_unit_ = 1;
        }
    }
    if (dir_.empty()) {
        collapse_unit_ = collapse_page_size(capacity_);
    }
}

bool SnapshotPool::supported()
{
    return memory_files_supported();
}

SnapshotPool::~SnapshotPool()
{
    for (Slot* s : all_) {
        for (const int reader : s->readers) {
            ::close(reader);
        }
        close_memory_file(s->fd, s->data, capacity_);
        delete s;
    }
}

SnapshotPool::Place SnapshotPool::place_for(std::size_t bytes) const
{
    // Half a huge page at least goes to huge pages, less to small ones.
    if (!dir_.empty()) {
        return bytes * 2 >= dir_unit_ ? Place::Dir : Place::Memory;
    }
    return collapse_unit_ > 0 && bytes * 2 >= collapse_unit_ ? Place::HugeMemory : Place::Memory;
}

std::size_t SnapshotPool::unit_of(Place place) const
{
    return place == Place::Dir ? dir_unit_ : place == Place::HugeMemory ? collapse_unit_ : 1;
}

SnapshotPool::Slot* SnapshotPool::make_slot(Place place)
{
    // Before the descriptor: a throw here leaks nothing. Room for every idle reader the pool
    // keeps: giving one back never allocates.
    auto slot = std::make_unique<Slot>();
    slot->readers.reserve(kMaxIdleReaders);
    const int fd = make_memory_file(place == Place::Dir ? dir_.c_str() : nullptr);
    if (fd < 0) {
        return nullptr;
    }
    char* const data = map_memory_file(fd, capacity_);
    if (!data) {
        ::close(fd);
        return nullptr;
    }
    slot->unit = place == Place::HugeMemory ? collapse_unit_ : page_unit_of(fd);
    slot->place = place;
    slot->fd = fd;
    slot->data = data;
    slot->capacity = capacity_;
    if (all_.empty()) {
        const int reader = open_reader(fd, true);
        shareable_ = reader >= 0;
        if (reader >= 0) {
            ::close(reader);
        }
    }
    all_.push_back(slot.get());
    return slot.release();
}

namespace {

// Among the slots of [first, last) that `candidate` accepts: the first whose pages cover
// `bytes`, else the first; `last` when none.
template <class It, class Accept>
It first_fit(It first, It last, std::size_t bytes, Accept candidate)
{
    const It covering =
        std::find_if(first, last, [&](const SnapshotPool::Slot* s) { return candidate(s) && s->touched >= bytes; });
    return covering != last ? covering : std::find_if(first, last, candidate);
}

}  // namespace

// A free slot for new bytes among those holding a shared snapshot (`keyed`) or not, in the
// directory or not (either with `any_place`), removed from the free list; nullptr when there is
// none. Not keyed: the most recently released one whose pages cover `bytes`, else the most
// recent. Keyed: the least recently released one whose pages cover `bytes`, else the least
// recent.
SnapshotPool::Slot* SnapshotPool::take_free(std::size_t bytes, bool keyed, Place place, bool any_place)
{
    auto candidate = [&](const Slot* s) { return s->keyed == keyed && (any_place || s->place == place); };
    auto chosen = free_.end();
    if (keyed) {
        chosen = first_fit(free_.begin(), free_.end(), bytes, candidate);
    }
    else if (auto it = first_fit(free_.rbegin(), free_.rend(), bytes, candidate); it != free_.rend()) {
        chosen = std::prev(it.base());
    }
    if (chosen == free_.end()) {
        return nullptr;
    }
    Slot* s = *chosen;
    free_.erase(chosen);
    return s;
}

void SnapshotPool::drop_pages(Slot* slot)
{
    release_pages(slot->fd, slot->touched);
    touched_ -= slot->touched;
    slot->touched = 0;
    slot->keyed = false;  // its bytes are gone
}

// Frees free slots' pages (never `keep`'s) until `growth` more bytes fit the budget: those
// holding no shared snapshot first, then the others, least recently used first. False, and
// nothing dropped, when all of them would not be enough.
bool SnapshotPool::make_room(std::size_t growth, const Slot* keep)
{
    if (touched_ + growth <= max_bytes_) {
        return true;
    }
    if (touched_ - free_bytes(keep) + growth > max_bytes_) {
        return false;
    }
    for (const bool keyed : {false, true}) {
        for (auto it = free_.begin(); touched_ + growth > max_bytes_ && it != free_.end(); ++it) {
            if (*it != keep && (*it)->keyed == keyed && (*it)->touched > 0) {
                drop_pages(*it);
            }
        }
    }
    return true;
}

std::size_t SnapshotPool::free_bytes(const Slot* except) const
{
    std::size_t pages = 0;
    for (const Slot* s : free_) {
        pages += s != except ? s->touched : 0;
    }
    return pages;
}

SnapshotPool::Slot* SnapshotPool::acquire(std::size_t bytes, std::size_t keep_free)
{
    if (bytes > capacity_) {
        return nullptr;
    }
    Slot* s = nullptr;
    std::size_t growth = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const Place place = place_for(bytes);
        // The slots in use hold what the budget does not give to free ones.
        const std::size_t pages = pages_for(bytes, unit_of(place));
        // Whether a body holding `held` pages beside the others' in use leaves keep_free.
        const auto leaves_free = [&](std::size_t others, std::size_t held) {
            return keep_free == 0 || others + held + keep_free <= max_bytes_;
        };
        if (!leaves_free(touched_ - free_bytes(), pages)) {
            return nullptr;
        }
        // A shared snapshot is given up last: after free slots holding none, and a new slot.
        s = take_free(bytes, false, place, false);
        if (!s && all_.size() < max_slots_) {
            s = make_slot(place);
            s = s || place != Place::Dir ? s : make_slot(Place::Memory);  // the directory failed
        }
        // Then a free slot of the other kind; then, the same way, one holding a shared snapshot.
        s = s ? s : take_free(bytes, false, place, true);
        s = s ? s : take_free(bytes, true, place, false);
        s = s ? s : take_free(bytes, true, place, true);
        if (!s) {
            return nullptr;
        }
        const std::size_t need = pages_for(bytes, s->unit);
        // The check above again where the slot taken counts in larger pages (a small body in a
        // free huge-page slot holds a whole huge page).
        if (need > pages && !leaves_free(touched_ - free_bytes() - s->touched, need)) {
            free_.push_back(s);
            return nullptr;
        }
        growth = need > s->touched ? need - s->touched : 0;
        if (growth > 0 && !make_room(growth, s)) {
            free_.push_back(s);  // unchanged: still the most recent
            return nullptr;
        }
        touched_ += growth;
        s->touched += growth;
        s->users = 1;
        s->keyed = false;  // about to be overwritten
    }
    // Outside the lock: the kernel clears the new pages.
    return growth == 0 || allocate_pages(s, s->touched - growth, growth) ? s : nullptr;
}

std::size_t SnapshotPool::pages_for(std::size_t bytes, std::size_t unit) const
{
    return std::min(capacity_, (bytes + unit - 1) / unit * unit);
}

bool SnapshotPool::allocate_pages(Slot* slot, std::size_t from, std::size_t bytes)
{
    if (!reserve_pages(slot->fd, from, bytes)) {
        std::lock_guard<std::mutex> lock(mutex_);
        drop_pages(slot);
        slot->users = 0;
        free_.push_back(slot);
        return false;
    }
    if (slot->place == Place::HugeMemory) {
        collapse_pages(slot->data, from, bytes, slot->unit);
    }
    return true;
}

SnapshotPool::Slot* SnapshotPool::find_keyed(const SnapshotKey& key) const
{
    auto it = std::find_if(all_.begin(), all_.end(), [&](const Slot* s) { return s->keyed && s->key == key; });
    return it != all_.end() ? *it : nullptr;
}

SnapshotPool::Slot* SnapshotPool::share(const SnapshotKey& key, int* reader)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!shareable_) {
        return nullptr;
    }
    Slot* s = find_keyed(key);
    if (!s) {
        return nullptr;
    }
    if (s->users++ == 0) {
        free_.erase(std::find(free_.begin(), free_.end(), s));
    }
    if (reader) {
        *reader = pop_reader(s);
    }
    return s;
}

int SnapshotPool::pop_reader(Slot* slot)
{
    if (slot->readers.empty()) {
        return -1;
    }
    const int reader = slot->readers.back();
    slot->readers.pop_back();
    --idle_readers_;
    return reader;
}

void SnapshotPool::publish(Slot* slot, const SnapshotKey& key)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!shareable_ || find_keyed(key)) {
        return;
    }
    slot->key = key;
    slot->keyed = true;
}

SnapshotPool::Slot* SnapshotPool::reader_victim(const Slot* keep) const
{
    auto other_with_readers = [keep](const Slot* s) { return s != keep && !s->readers.empty(); };
    auto it = std::find_if(free_.begin(), free_.end(), other_with_readers);
    if (it != free_.end()) {
        return *it;
    }
    auto in_use = [&](const Slot* s) { return s->users > 0 && other_with_readers(s); };
    auto used = std::find_if(all_.begin(), all_.end(), in_use);
    return used != all_.end() ? *used : nullptr;
}

void SnapshotPool::release(Slot* slot, int reader)
{
    int to_close = reader;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (reader >= 0) {
            // At the bound, the reader just given back displaces an idle one of another slot:
            // idle readers follow the bodies asked now, not the first ones that filled the bound.
            // (No search where this slot holds every idle reader: the common case of one body.)
            const bool room = idle_readers_ < kMaxIdleReaders;
            Slot* victim = room || slot->readers.size() == idle_readers_ ? nullptr : reader_victim(slot);
            if (room || victim) {
                to_close = victim ? pop_reader(victim) : -1;
                slot->readers.push_back(reader);  // within the capacity reserved: no allocation
                ++idle_readers_;
            }
        }
        if (--slot->users == 0) {
            free_.push_back(slot);
        }
    }
    if (to_close >= 0) {
        ::close(to_close);
    }
}

int SnapshotPool::take_reader(Slot* slot)
{
    bool open_path = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (const int reader = pop_reader(slot); reader >= 0) {
            return reader;
        }
        open_path = shareable_;
    }
    return open_reader(slot->fd, open_path);
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

std::size_t SnapshotPool::idle_readers() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_readers_;
}

std::size_t SnapshotPool::slots_in_use() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return all_.size() - free_.size();
}

SnapshotChain snapshot_chain(FileExtent body, Offset window)
{
    SnapshotChain chain;
    Offset at = body.offset;
    Offset left = body.length;
    Offset chained = 0;
    while (window > 0 && left > 0 && chain.windows.size() < kMaxChainWindows && chained < kMaxChainBytes) {
        const Offset size = chain.windows.empty() ? std::min(window, kFirstChainWindow) : window;
        const Offset n = std::min({size, left, kMaxChainBytes - chained});
        chain.windows.push_back(FileExtent{at, n});
        at += n;
        left -= n;
        chained += n;
    }
    chain.rest = FileExtent{at, left};
    return chain;
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
