#include "snapshot_pool.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

#include <unistd.h>

#include "file_read.h"

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#define AUDIO_STREAM_HAVE_MEMFD 1
#endif

namespace audio_stream {

namespace {

// A new memory file: an unnamed one in `dir`, else (nullptr) memfd_create's; -1 with errno.
int make_memory_file(const char* dir)
{
#if AUDIO_STREAM_HAVE_MEMFD
    return dir ? ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : ::memfd_create("audio-stream-snapshot", MFD_CLOEXEC);
#else
    (void)dir;
    errno = ENOSYS;
    return -1;
#endif
}

// What one page of `fd` holds when more than a memory page (a tmpfs with huge pages says 2 MiB),
// else 1: pages of a memory page or less are counted to the byte, as the budget always was.
std::size_t page_unit_of(int fd)
{
#if AUDIO_STREAM_HAVE_MEMFD
    struct stat st;
    if (::fstat(fd, &st) == 0) {
        const auto block = static_cast<std::size_t>(st.st_blksize);
        return block > static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) ? block : 1;
    }
#else
    (void)fd;
#endif
    return 1;
}

}  // namespace

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
}

std::size_t SnapshotPool::dir_page_size(const char* dir, std::size_t capacity) noexcept
{
    // Sized as a slot is: a tmpfs with huge=within_size says 2 MiB only of a file that large.
    const int probe = make_memory_file(dir);
    if (probe < 0) {
        return 0;
    }
    const std::size_t unit = ::ftruncate(probe, static_cast<off_t>(capacity)) == 0 ? page_unit_of(probe) : 0;
    ::close(probe);
    return unit;
}

SnapshotPool::~SnapshotPool()
{
    for (Slot* s : all_) {
#if AUDIO_STREAM_HAVE_MEMFD
        for (const int reader : s->readers) {
            ::close(reader);
        }
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

namespace {

// "/proc/self/fd/N" into `buf` (once per shared-snapshot request: not through snprintf).
void format_reader_path(int fd, char (&buf)[32])
{
    constexpr std::string_view prefix = "/proc/self/fd/";
    std::memcpy(buf, prefix.data(), prefix.size());
    char* const end = std::to_chars(buf + prefix.size(), buf + sizeof buf - 1, fd).ptr;
    *end = '\0';
}

}  // namespace

SnapshotPool::Slot* SnapshotPool::make_slot(bool in_dir)
{
#if AUDIO_STREAM_HAVE_MEMFD
    // Before the descriptor: a throw here leaks nothing. Room for every idle reader the pool
    // keeps: giving one back never allocates.
    auto slot = std::make_unique<Slot>();
    slot->readers.reserve(kMaxIdleReaders);
    const int fd = make_memory_file(in_dir ? dir_.c_str() : nullptr);
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
    slot->unit = page_unit_of(fd);
    slot->in_dir = in_dir;
    slot->fd = fd;
    slot->data = static_cast<char*>(data);
    slot->capacity = capacity_;
    if (all_.empty()) {
        char path[32];
        format_reader_path(fd, path);
        const int reader = ::open(path, O_RDONLY | O_CLOEXEC);
        shareable_ = reader >= 0;
        if (reader >= 0) {
            ::close(reader);
        }
    }
    all_.push_back(slot.get());
    return slot.release();
#else
    return nullptr;
#endif
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
SnapshotPool::Slot* SnapshotPool::take_free(std::size_t bytes, bool keyed, bool in_dir, bool any_place)
{
    auto candidate = [&](const Slot* s) { return s->keyed == keyed && (any_place || s->in_dir == in_dir); };
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
#if AUDIO_STREAM_HAVE_MEMFD
    // The pages go back to the kernel (and out of the mapping); the size stays.
    (void)::fallocate(slot->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(slot->touched));
#endif
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
        // Half a huge page at least goes to the directory's huge pages, less to small ones.
        const bool in_dir = !dir_.empty() && bytes * 2 >= dir_unit_;
        // The slots in use hold what the budget does not give to free ones.
        const std::size_t pages = pages_for(bytes, in_dir ? dir_unit_ : 1);
        if (keep_free > 0 && touched_ - free_bytes() + pages + keep_free > max_bytes_) {
            return nullptr;
        }
        // A shared snapshot is given up last: after free slots holding none, and a new slot.
        s = take_free(bytes, false, in_dir, false);
        if (!s && all_.size() < max_slots_) {
            s = make_slot(in_dir);
            s = s || !in_dir ? s : make_slot(false);  // the directory failed: a memory file
        }
        // Then a free slot of the other kind; then, the same way, one holding a shared snapshot.
        s = s ? s : take_free(bytes, false, in_dir, true);
        s = s ? s : take_free(bytes, true, in_dir, false);
        s = s ? s : take_free(bytes, true, in_dir, true);
        if (!s) {
            return nullptr;
        }
        const std::size_t need = pages_for(bytes, s->unit);
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
#if AUDIO_STREAM_HAVE_MEMFD
    // Allocated now, while a refusal costs nothing: a page the kernel cannot give when the
    // body is written through the mapping (a full tmpfs) would be SIGBUS.
    if (::fallocate(slot->fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(bytes)) != 0 &&
        errno != EOPNOTSUPP) {
        std::lock_guard<std::mutex> lock(mutex_);
        drop_pages(slot);
        slot->users = 0;
        free_.push_back(slot);
        return false;
    }
#else
    (void)slot;
    (void)from;
    (void)bytes;
#endif
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
#if AUDIO_STREAM_HAVE_MEMFD
    if (open_path) {
        char path[32];
        format_reader_path(slot->fd, path);
        return ::open(path, O_RDONLY | O_CLOEXEC);
    }
    return ::fcntl(slot->fd, F_DUPFD_CLOEXEC, 0);
#else
    (void)open_path;
    errno = ENOSYS;
    return -1;
#endif
}

namespace {

constexpr unsigned long kTmpfsMagic = 0x01021994ul;

}  // namespace

bool in_memory_file_system(const char* path)
{
#if AUDIO_STREAM_HAVE_MEMFD
    struct stat st;
    struct statfs fs;
    return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode) && ::statfs(path, &fs) == 0 &&
           static_cast<unsigned long>(fs.f_type) == kTmpfsMagic;
#else
    (void)path;
    return false;
#endif
}

bool timestamps_are_local(int fd)
{
#if AUDIO_STREAM_HAVE_MEMFD
    struct statfs fs;
    if (::fstatfs(fd, &fs) != 0) {
        return false;
    }
    // ext2/3/4, XFS, Btrfs, tmpfs, overlayfs, F2FS, ZFS.
    for (const unsigned long type : {0xEF53ul, 0x58465342ul, 0x9123683Eul, kTmpfsMagic, 0x794C7630ul,
                                     0xF2F52010ul, 0x2FC12FC1ul}) {
        if (static_cast<unsigned long>(fs.f_type) == type) {
            return true;
        }
    }
#else
    (void)fd;
#endif
    return false;
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
