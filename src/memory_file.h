// Memory files, the files snapshots live in (snapshot_pool.h), and what the operating system
// says about files and directories that the snapshot rules need. Linux: memfd_create, or an
// unnamed file (O_TMPFILE) in a directory on a tmpfs; elsewhere there are none
// (memory_files_supported) and every call here fails or says no. The only file of src/ that
// makes these system calls.
#ifndef AUDIO_STREAM_MEMORY_FILE_H
#define AUDIO_STREAM_MEMORY_FILE_H

#include <cstddef>

namespace audio_stream {

bool memory_files_supported();

// A new memory file: an unnamed one in `dir`, else (nullptr) memfd_create's; -1 with errno.
int make_memory_file(const char* dir);

// `fd` sized to `capacity` bytes and mapped for reading and writing, at an address aligned to
// a huge page where the file is that large (so that its pages can be collapsed); nullptr when
// not (the descriptor is left to the caller).
char* map_memory_file(int fd, std::size_t capacity);

// Unmaps `data` (map_memory_file's, of `capacity` bytes) and closes `fd`.
void close_memory_file(int fd, char* data, std::size_t capacity);

// What one page of `fd` holds when more than a memory page (a tmpfs with huge pages says
// 2 MiB), else 1: pages of a memory page or less are counted to the byte.
std::size_t page_unit_of(int fd);

// What one page of a file of `capacity` bytes in `dir` holds when more than a memory page
// (2 MiB on a tmpfs mounted with huge pages); 1 when not more, 0 (errno) when no file can be
// made there.
std::size_t dir_page_size(const char* dir, std::size_t capacity) noexcept;

// The size of the huge pages the pages of a memory file of `capacity` bytes can be collapsed
// into once allocated (madvise MADV_COLLAPSE: Linux 6.1 and later, whatever shmem_enabled says
// but "deny"), tried once on a file of that size; 0 when they cannot (an older kernel, another
// system, a capacity under one huge page). Huge pages are read back two to three times faster.
std::size_t collapse_page_size(std::size_t capacity) noexcept;

// Collapses the pages of bytes [from, from + bytes) of the memory file mapped at `data`
// (map_memory_file's, its pages allocated) into huge pages of `unit` bytes
// (collapse_page_size), each whole one in the range. Best effort: where the kernel has no huge
// page to give, the small pages stay, and hold the same bytes.
void collapse_pages(char* data, std::size_t from, std::size_t bytes, std::size_t unit) noexcept;

// Pages for bytes [from, from + bytes) of `fd`, allocated now, while a refusal costs nothing:
// a page the kernel cannot give when the body is written through the mapping (a full tmpfs)
// would be SIGBUS. True where the file system does not allocate ahead (EOPNOTSUPP).
bool reserve_pages(int fd, std::size_t from, std::size_t bytes);

// Gives the pages of bytes [0, bytes) of `fd` back to the system (the file keeps its size).
void release_pages(int fd, std::size_t bytes);

// A new descriptor of the memory file `fd`: by reopening "/proc/self/fd/N" (`by_path`), with a
// file offset of its own, else a duplicate sharing fd's offset; -1 with errno.
int open_reader(int fd, bool by_path);

// Whether the filesystem holding `fd` stamps its files' times with this machine's clock, to a
// second or better (ext4, XFS, Btrfs, tmpfs, overlayfs, F2FS, ZFS): only then does a ctime a
// few seconds old prove that no write since has kept it. False elsewhere (network and FUSE
// filesystems, FAT, other systems).
bool timestamps_are_local(int fd);

// Whether `path` is a directory on a tmpfs (held in memory, never written to a disk): where an
// AudioStreamSnapshotDir may be. False on other systems.
bool in_memory_file_system(const char* path);

}  // namespace audio_stream

#endif
