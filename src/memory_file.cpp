#include "memory_file.h"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <unistd.h>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#define AUDIO_STREAM_HAVE_MEMFD 1
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; C libraries before glibc 2.37 do not name it
#endif
#endif

namespace audio_stream {

#if AUDIO_STREAM_HAVE_MEMFD

namespace {

constexpr unsigned long kTmpfsMagic = 0x01021994ul;

// "/proc/self/fd/N" into `buf` (once per shared-snapshot request: not through snprintf).
void format_reader_path(int fd, char (&buf)[32])
{
    constexpr std::string_view prefix = "/proc/self/fd/";
    std::memcpy(buf, prefix.data(), prefix.size());
    char* const end = std::to_chars(buf + prefix.size(), buf + sizeof buf - 1, fd).ptr;
    *end = '\0';
}

// The kernel's huge page (PMD) size, 0 when it does not say.
std::size_t huge_page_size()
{
    static const std::size_t size = [] {
        std::size_t bytes = 0;
        if (std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re")) {
            unsigned long long n = 0;
            bytes = std::fscanf(f, "%llu", &n) == 1 ? static_cast<std::size_t>(n) : 0;
            std::fclose(f);
        }
        return bytes;
    }();
    return size;
}

}  // namespace

bool memory_files_supported()
{
    return true;
}

int make_memory_file(const char* dir)
{
    return dir ? ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : ::memfd_create("audio-stream-snapshot", MFD_CLOEXEC);
}

char* map_memory_file(int fd, std::size_t capacity)
{
    if (::ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
        return nullptr;
    }
    const std::size_t align = huge_page_size();
    if (align == 0 || capacity < align) {
        void* data = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        return data == MAP_FAILED ? nullptr : static_cast<char*>(data);
    }
    // Address space for the mapping (in whole pages) and one huge page more, then the mapping
    // at the first aligned address in it, and the rest given back.
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t span = (capacity + page - 1) / page * page;
    void* space = ::mmap(nullptr, span + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (space == MAP_FAILED) {
        return nullptr;
    }
    char* const start = static_cast<char*>(space);
    const std::size_t head = (align - reinterpret_cast<std::uintptr_t>(start) % align) % align;
    char* const aligned = start + head;
    void* data = ::mmap(aligned, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    if (data == MAP_FAILED) {
        ::munmap(space, span + align);
        return nullptr;
    }
    if (head > 0) {
        ::munmap(start, head);
    }
    ::munmap(aligned + span, align - head);  // head < align: never empty
    return aligned;
}

std::size_t collapse_page_size(std::size_t capacity) noexcept
{
    const std::size_t unit = huge_page_size();
    if (unit == 0 || capacity < unit) {
        return 0;
    }
    const int probe = make_memory_file(nullptr);
    if (probe < 0) {
        return 0;
    }
    char* const data = map_memory_file(probe, capacity);
    if (!data) {
        ::close(probe);
        return 0;
    }
    // No huge page free just now (ENOMEM), a page busy (EAGAIN) or a charge refused (EBUSY)
    // say the kernel can; EINVAL (older kernels, shmem_enabled "deny") that it cannot.
    const bool collapsed = reserve_pages(probe, 0, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) &&
                           (::madvise(data, unit, MADV_COLLAPSE) == 0 || errno == ENOMEM || errno == EAGAIN ||
                            errno == EBUSY);
    close_memory_file(probe, data, capacity);
    return collapsed ? unit : 0;
}

void collapse_pages(char* data, std::size_t from, std::size_t bytes, std::size_t unit) noexcept
{
    for (std::size_t at = (from + unit - 1) / unit * unit; at + unit <= from + bytes; at += unit) {
        (void)::madvise(data + at, unit, MADV_COLLAPSE);
    }
}

void close_memory_file(int fd, char* data, std::size_t capacity)
{
    ::munmap(data, capacity);
    ::close(fd);
}

std::size_t page_unit_of(int fd)
{
    struct stat st;
    if (::fstat(fd, &st) == 0) {
        const auto block = static_cast<std::size_t>(st.st_blksize);
        return block > static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) ? block : 1;
    }
    return 1;
}

bool reserve_pages(int fd, std::size_t from, std::size_t bytes)
{
    return ::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(bytes)) == 0 ||
           errno == EOPNOTSUPP;
}

void release_pages(int fd, std::size_t bytes)
{
    // The pages go back to the kernel (and out of every mapping); the size stays.
    (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes));
}

int open_reader(int fd, bool by_path)
{
    if (by_path) {
        char path[32];
        format_reader_path(fd, path);
        return ::open(path, O_RDONLY | O_CLOEXEC);
    }
    return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

bool in_memory_file_system(const char* path)
{
    struct stat st;
    struct statfs fs;
    return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode) && ::statfs(path, &fs) == 0 &&
           static_cast<unsigned long>(fs.f_type) == kTmpfsMagic;
}

bool timestamps_are_local(int fd)
{
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
    return false;
}

#else  // no memory files on this system

bool memory_files_supported()
{
    return false;
}

int make_memory_file(const char*)
{
    errno = ENOSYS;
    return -1;
}

char* map_memory_file(int, std::size_t)
{
    return nullptr;
}

std::size_t collapse_page_size(std::size_t) noexcept
{
    return 0;
}

void collapse_pages(char*, std::size_t, std::size_t, std::size_t) noexcept {}

void close_memory_file(int fd, char*, std::size_t)
{
    ::close(fd);
}

std::size_t page_unit_of(int)
{
    return 1;
}

bool reserve_pages(int, std::size_t, std::size_t)
{
    return true;
}

void release_pages(int, std::size_t) {}

int open_reader(int, bool)
{
    errno = ENOSYS;
    return -1;
}

bool in_memory_file_system(const char*)
{
    return false;
}

bool timestamps_are_local(int)
{
    return false;
}

#endif

std::size_t dir_page_size(const char* dir, std::size_t capacity) noexcept
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

}  // namespace audio_stream
