/* What a snapshot costs the kernel, outside httpd: copy extents of a file into a new memory file
 * (sendfile, as the pool fills a slot from the page cache), read them back in 64 KiB preads (as
 * mod_http2 reads a file bucket), and read the same extents from the file itself (what the core
 * handler's file buckets cost). Prints microseconds per MiB for each, three passes.
 *
 *   cc -O2 -o /tmp/snapshot_read bench/snapshot_read.c
 *   head -c 64M /dev/urandom > /tmp/src.bin && cat /tmp/src.bin > /dev/null
 *   /tmp/snapshot_read /tmp/src.bin 1048576 16                # memfd_create's memory files
 *   mount -t tmpfs -o huge=within_size,size=1g none /mnt/huge
 *   /tmp/snapshot_read /tmp/src.bin 1048576 16 /mnt/huge      # unnamed files there (O_TMPFILE)
 *
 * Arguments: the file, the extent size, how many extents (they must fit in the file), and an
 * optional directory. Linux only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

enum { kPiece = 64 * 1024 };

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int new_file(const char* dir)
{
    return dir ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : memfd_create("snapshot", MFD_CLOEXEC);
}

static int read_all(int fd, char* buf, off_t from, long length)
{
    for (long at = 0; at < length; at += kPiece) {
        if (pread(fd, buf, kPiece, from + at) <= 0) {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char** argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s FILE EXTENT COUNT [DIR]\n", argv[0]);
        return 2;
    }
    const int src = open(argv[1], O_RDONLY | O_CLOEXEC);
    const long extent = atol(argv[2]);
    const int count = atoi(argv[3]);
    const char* dir = argc > 4 ? argv[4] : NULL;
    char* buf = aligned_alloc(4096, kPiece);
    if (src < 0 || extent < kPiece || count < 1 || !buf) {
        perror("setup");
        return 1;
    }
    for (int pass = 0; pass < 3; ++pass) {
        double copy = 0, read_back = 0, read_file = 0;
        for (int i = 0; i < count; ++i) {
            const off_t from = (off_t)i * extent;
            const double t0 = seconds();
            const int fd = new_file(dir);
            off_t at = from;
            for (long left = extent; fd >= 0 && left > 0;) {
                const ssize_t n = sendfile(fd, src, &at, (size_t)left);
                if (n <= 0) {
                    perror("sendfile");
                    return 1;
                }
                left -= n;
            }
            const double t1 = seconds();
            if (fd < 0 || read_all(fd, buf, 0, extent) != 0) {
                perror("memory file");
                return 1;
            }
            const double t2 = seconds();
            if (read_all(src, buf, from, extent) != 0) {
                perror("file");
                return 1;
            }
            const double t3 = seconds();
            close(fd);
            copy += t1 - t0;
            read_back += t2 - t1;
            read_file += t3 - t2;
        }
        const double mib = (double)count * (double)extent / (1 << 20);
        printf("%s, extents of %ld: copy %.1f, read back %.1f, the file's page cache %.1f us/MiB\n",
               dir ? dir : "memfd", extent, copy * 1e6 / mib, read_back * 1e6 / mib, read_file * 1e6 / mib);
    }
    free(buf);
    return 0;
}
