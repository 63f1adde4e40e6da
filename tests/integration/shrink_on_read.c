/* Test-only LD_PRELOAD shim for httpd: the first pread at or past an offset, on a file whose
 * path ends with a given suffix, truncates that file before reading. A test can so shrink a
 * file exactly between two reads of one response, which no timing from outside can do.
 * AUDIO_STREAM_SHRINK="suffix:offset:size" (unset: every pread is only passed on).
 * Built by the tests that use it (test_transports.ChainWindowShrinks), never installed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static atomic_int shrunk;

static void shrink_if_asked(int fd, off_t offset)
{
    const char *spec = getenv("AUDIO_STREAM_SHRINK");
    char suffix[256], link[64], path[4096];
    long long at, size;
    if (!spec || atomic_load(&shrunk) || sscanf(spec, "%255[^:]:%lld:%lld", suffix, &at, &size) != 3 ||
        offset < at) {
        return;
    }
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) {
        return;
    }
    path[n] = '\0';
    const size_t lp = strlen(path), ls = strlen(suffix);
    if (lp >= ls && strcmp(path + lp - ls, suffix) == 0 && !atomic_exchange(&shrunk, 1)) {
        (void)truncate(path, (off_t)size);
    }
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
    static ssize_t (*next)(int, void *, size_t, off_t);
    if (!next) {
        next = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
    }
    shrink_if_asked(fd, offset);
    return next(fd, buf, count, offset);
}

/* With a 64-bit off_t (every 64-bit Linux) pread64 is pread under another name, in glibc too. */
_Static_assert(sizeof(off_t) == 8, "pread64 is only an alias of pread with a 64-bit off_t");
ssize_t pread64(int fd, void *buf, size_t count, off_t offset) __attribute__((alias("pread")));
