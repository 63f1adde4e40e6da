#include "index_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

namespace audio_stream {

namespace {

// "ASIX", a format version, then the identity the payload belongs to.
constexpr char kMagic[4] = {'A', 'S', 'I', 'X'};
constexpr std::uint32_t kVersion = 2;  // 2: the identity has the ctime
constexpr std::size_t kHeaderBytes = 4 + 4 + 4 + 8 * 5 + 8;

void put64(std::string& out, std::uint64_t v)
{
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>(v >> (8 * i)));
    }
}

std::string header(const FileIdentity& file, unsigned kind, std::size_t payload)
{
    std::string h(kMagic, 4);
    put64(h, kVersion | std::uint64_t{kind} << 32);  // the version, then the kind: 32 bits each
    put64(h, file.device);
    put64(h, file.inode);
    put64(h, file.size);
    put64(h, static_cast<std::uint64_t>(file.mtime));
    put64(h, static_cast<std::uint64_t>(file.ctime));
    put64(h, payload);
    return h;
}

bool write_all(int fd, const std::string& bytes)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

std::string IndexFiles::prefix(const FileIdentity& file, unsigned kind) const
{
    char name[64];
    std::snprintf(name, sizeof name, "%u-%" PRIx64 "-%" PRIx64 "-", kind, file.device,
                  file.inode);
    return name;
}

std::string IndexFiles::path(const FileIdentity& file, unsigned kind) const
{
    char state[72];
    std::snprintf(state, sizeof state, "%" PRIx64 "-%" PRIx64 "-%" PRIx64 ".idx", file.size,
                  static_cast<std::uint64_t>(file.mtime), static_cast<std::uint64_t>(file.ctime));
    return dir_ + "/" + prefix(file, kind) + state;
}

std::optional<std::string> IndexFiles::load(const FileIdentity& file, unsigned kind) const
{
    Fd fd(::open(path(file, kind).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) < kHeaderBytes ||
        static_cast<std::uint64_t>(st.st_size) > max_bytes_ + kHeaderBytes) {
        return std::nullopt;
    }
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return std::nullopt;
        }
        done += static_cast<std::size_t>(n);
    }
    const std::string expected = header(file, kind, bytes.size() - kHeaderBytes);
    if (bytes.compare(0, kHeaderBytes, expected) != 0) {
        return std::nullopt;
    }
    ::futimens(fd.get(), nullptr);  // used now: the budget removes the least recently used
    return bytes.substr(kHeaderBytes);
}

bool IndexFiles::save(const FileIdentity& file, unsigned kind, const std::string& payload) const
{
    if (payload.size() > max_bytes_) {
        return false;
    }
    const std::string final_path = path(file, kind);
    char tmp_name[32];
    std::snprintf(tmp_name, sizeof tmp_name, ".tmp-%ld-", static_cast<long>(::getpid()));
    const std::string tmp = dir_ + "/" + tmp_name + final_path.substr(dir_.size() + 1);
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (fd.get() < 0) {
            return false;
        }
        if (!write_all(fd.get(), header(file, kind, payload.size()) + payload)) {
            ::unlink(tmp.c_str());
            return false;
        }
    }
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return false;
    }
    tidy(file, kind, final_path.substr(dir_.size() + 1));
    return true;
}

IndexFiles::Lock::~Lock()
{
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

IndexFiles::Lock IndexFiles::lock(const FileIdentity& file, unsigned kind) const
{
    const std::string path = dir_ + "/" + prefix(file, kind) + "lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    while (fd >= 0 && ::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            ::close(fd);
            fd = -1;
        }
    }
    return Lock(fd);
}

void IndexFiles::tidy(const FileIdentity& file, unsigned kind, const std::string& kept) const
{
    struct Entry {
        std::string name;
        std::uint64_t bytes;
        std::int64_t used;  // mtime, ns
    };
    std::vector<Entry> indexes;
    std::uint64_t total = 0;
    const std::string mine = prefix(file, kind);
    DIR* d = ::opendir(dir_.c_str());
    if (!d) {
        return;
    }
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() < 4 || name.compare(name.size() - 4, 4, ".idx") != 0 || name[0] == '.') {
            continue;  // lock files, temporary files, . and ..
        }
        struct stat st;
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        if (name != kept && name.compare(0, mine.size(), mine) == 0) {
            // An earlier state of this file: it can no longer be asked for.
            ::unlinkat(::dirfd(d), e->d_name, 0);
            continue;
        }
        indexes.push_back({name, static_cast<std::uint64_t>(st.st_size),
                           std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec});
        total += static_cast<std::uint64_t>(st.st_size);
    }
    if (total > budget_) {
        std::sort(indexes.begin(), indexes.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
        for (const Entry& e : indexes) {
            if (total <= budget_) {
                break;
            }
            if (e.name != kept && ::unlinkat(::dirfd(d), e.name.c_str(), 0) == 0) {
                total -= e.bytes;
            }
        }
    }
    ::closedir(d);
}

}  // namespace audio_stream
