#include "hub/downloader.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "hub/http_transfer.h"
#include "hub/sha256.h"

namespace folio::store {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// An owned file descriptor.
class Fd {
  public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

  private:
    int m_fd;
};

[[noreturn]] void io_fail(const std::string& what, const fs::path& path) {
    throw DownloadError(DownloadError::Kind::Io,
                        what + " " + path.string() + ": " + std::strerror(errno));
}

void write_all(int fd, const char* data, size_t n, const fs::path& path) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            io_fail("cannot write", path);
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
}

// Hashes the first `n` bytes of an open file into ctx.
void hash_prefix(int fd, int64_t n, hub::Sha256& sha, const fs::path& path) {
    std::vector<char> buf(1 << 20);
    int64_t off = 0;
    while (off < n) {
        const ssize_t r = ::pread(fd, buf.data(),
                                  static_cast<size_t>(std::min<int64_t>(n - off, buf.size())), off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) io_fail("cannot read", path);
        sha.update(buf.data(), static_cast<size_t>(r));
        off += r;
    }
}

void fsync_dir(const fs::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) ::fsync(fd.get());
}

// Sleeps up to `ms`, waking early on cancel.
void backoff_sleep(int ms, const std::atomic<bool>* cancel) {
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until && !(cancel && cancel->load())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// "bytes 100-199/200" → 100; -1 when unparsable.
int64_t content_range_start(const std::string& header) {
    const auto pos = header.find("bytes ");
    if (pos == std::string::npos) return -1;
    try {
        return std::stoll(header.substr(pos + 6));
    } catch (const std::exception&) {
        return -1;
    }
}

}  // namespace

TransferLock::TransferLock(TransferLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)) {}

TransferLock& TransferLock::operator=(TransferLock&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = std::exchange(other.m_fd, -1);
        m_path = std::move(other.m_path);
    }
    return *this;
}

fs::path TransferLock::lock_path(const fs::path& dest) {
    return fs::path(dest.string() + ".part.lock");
}

TransferLock TransferLock::acquire(const fs::path& dest, const std::atomic<bool>* cancel,
                                   const std::function<void()>& on_wait) {
    const fs::path path = lock_path(dest);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    bool waited = false;
    for (;;) {
        Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (fd.get() < 0) io_fail("cannot open", path);
        for (;;) {
            if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) break;
            if (errno == EINTR) continue;
            if (errno != EWOULDBLOCK) io_fail("cannot lock", path);
            if (!waited && on_wait) on_wait();
            waited = true;
            if (cancel && cancel->load()) {
                throw DownloadError(DownloadError::Kind::Cancelled,
                                    "cancelled while waiting for " + path.string());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        // The previous holder may have unlinked the file between our open and flock.
        struct stat held {
        }, named{};
        if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            TransferLock lock;
            lock.m_fd = fd.release();
            lock.m_path = path;
            return lock;
        }
    }
}

void TransferLock::release() {
    if (m_fd < 0) return;
    ::unlink(m_path.c_str());
    ::close(m_fd);  // drops the flock
    m_fd = -1;
}

ModelFile fetch_file(const FileJob& job, const FetchContext& ctx) {
    Library& lib = *ctx.library;
    const auto& want = job.file;
    const fs::path part = fs::path(job.dest.string() + ".part");
    const std::string label = job.repo + "/" + want.path;
    std::error_code ec;
    fs::create_directories(job.dest.parent_path(), ec);
    if (ec) {
        throw DownloadError(
            DownloadError::Kind::Io,
            "cannot create " + job.dest.parent_path().string() + ": " + ec.message());
    }

    // Already in place (e.g. renamed just before a crash, before the model row was written).
    if (fs::is_regular_file(job.dest, ec) &&
        static_cast<int64_t>(fs::file_size(job.dest, ec)) == want.size) {
        const std::string got = sha256_file(job.dest);
        if (want.sha256.empty() || got == want.sha256) {
            fs::remove(part, ec);
            return {want.path, job.dest, want.size, got};
        }
    }

    DownloadRecord row;
    row.repo = job.repo;
    row.revision = job.revision;
    row.file = want.path;
    row.url = job.url;
    row.expected_size = want.size;
    row.sha256 = want.sha256;
    row.part_path = part;
    row.state = DownloadState::Running;
    row.bytes_done = fs::exists(part, ec) ? static_cast<int64_t>(fs::file_size(part, ec)) : 0;
    const int64_t row_id = lib.upsert_download(row);

    auto fail = [&](DownloadError::Kind kind, const std::string& message) -> DownloadError {
        const int64_t have =
            fs::exists(part, ec) ? static_cast<int64_t>(fs::file_size(part, ec)) : 0;
        lib.update_download(
            row_id, have,
            kind == DownloadError::Kind::Cancelled ? DownloadState::Paused : DownloadState::Failed,
            kind == DownloadError::Kind::Cancelled ? "" : message);
        return DownloadError(kind, message);
    };

    const int max_attempts = std::max(1, ctx.options->max_attempts);
    int attempt = 0;
    int backoff_ms = std::max(1, ctx.options->backoff_initial_ms);
    std::string digest;
    for (;;) {
        if (ctx.cancel && ctx.cancel->load()) {
            throw fail(DownloadError::Kind::Cancelled, "download of " + label + " cancelled");
        }
        Fd fd(::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (fd.get() < 0) io_fail("cannot open", part);
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) io_fail("cannot stat", part);
        int64_t offset = st.st_size;
        if (want.size > 0 && offset > want.size) offset = 0;  // longer than the file: start over
        if (::ftruncate(fd.get(), offset) != 0) io_fail("cannot truncate", part);
        auto sha = std::make_unique<hub::Sha256>();
        hash_prefix(fd.get(), offset, *sha, part);
        if (::lseek(fd.get(), offset, SEEK_SET) < 0) io_fail("cannot seek", part);
        bool resumed = offset > 0;
        bool restarted = false;  // the server ignored the range: this body starts at byte 0
        bool bad_range = false;  // 206 for another range than asked: dropped, retried from 0

        int64_t done = offset;
        bool complete = want.size > 0 && offset == want.size;
        if (!complete) {
            hub::HttpRequest req;
            req.url = job.url;
            req.config = ctx.config;
            req.range_begin = offset > 0 ? offset : -1;
            auto last_save = Clock::now();
            if (ctx.transfers) ++*ctx.transfers;
            if (ctx.on_progress) ctx.on_progress({done, resumed});
            // Before the first body byte of a resumed request: a 200 carries the whole file.
            auto on_head = [&](const hub::HttpResponse& head) {
                if (offset == 0) return;
                if (head.status == 206 && content_range_start(head.content_range) == offset) return;
                if (head.status != 200) {
                    bad_range = true;
                    return;
                }
                if (::ftruncate(fd.get(), 0) != 0) io_fail("cannot truncate", part);
                if (::lseek(fd.get(), 0, SEEK_SET) < 0) io_fail("cannot seek", part);
                sha = std::make_unique<hub::Sha256>();
                done = 0;
                resumed = false;
                restarted = true;
            };
            hub::HttpResponse resp;
            try {
                resp = hub::http_get(
                    req,
                    [&](const char* data, size_t n) {
                        if (bad_range) return false;
                        if (ctx.cancel && ctx.cancel->load()) return false;
                        write_all(fd.get(), data, n, part);
                        sha->update(data, n);
                        done += static_cast<int64_t>(n);
                        if (ctx.on_progress) ctx.on_progress({done, resumed});
                        if (Clock::now() - last_save > std::chrono::seconds(1)) {
                            lib.update_download(row_id, done, DownloadState::Running, "");
                            last_save = Clock::now();
                        }
                        return true;
                    },
                    on_head);
            } catch (const hub::HubError& e) {
                if (e.kind() == hub::HubError::Kind::RangeNotSatisfiable) {
                    // The part may already hold the whole file (size unknown to us), or the
                    // file changed: verify below, or start over.
                    if (offset > 0 && (want.size == 0 || offset == want.size)) {
                        complete = true;
                    } else {
                        if (::ftruncate(fd.get(), 0) != 0) io_fail("cannot truncate", part);
                        if (++attempt >= max_attempts) {
                            throw fail(DownloadError::Kind::Hub, e.what());
                        }
                        continue;
                    }
                } else if (e.transient() && ++attempt < max_attempts &&
                           !(ctx.cancel && ctx.cancel->load())) {
                    // Keep what arrived; the next attempt resumes from the .part.
                    ::fsync(fd.get());
                    lib.update_download(row_id, done, DownloadState::Running, e.what());
                    backoff_sleep(backoff_ms, ctx.cancel);
                    backoff_ms = std::min(backoff_ms * 2, std::max(1, ctx.options->backoff_max_ms));
                    continue;
                } else {
                    ::fsync(fd.get());
                    if (ctx.cancel && ctx.cancel->load()) {
                        throw fail(DownloadError::Kind::Cancelled,
                                   "download of " + label + " cancelled");
                    }
                    throw fail(DownloadError::Kind::Hub, e.what());
                }
            }
            if (resp.cancelled && !bad_range) {
                ::fsync(fd.get());
                throw fail(DownloadError::Kind::Cancelled, "download of " + label + " cancelled");
            }
            if (!complete && offset > 0 && !restarted) {
                // A resumed request must come back as 206 starting where we asked; a server that
                // ignored the range sent the whole file from byte 0: drop it and start over.
                if (bad_range || resp.status != 206 ||
                    content_range_start(resp.content_range) != offset) {
                    if (::ftruncate(fd.get(), 0) != 0) io_fail("cannot truncate", part);
                    if (++attempt >= max_attempts) {
                        throw fail(DownloadError::Kind::Hub,
                                   "the server ignored the resume range for " + label);
                    }
                    continue;
                }
            }
            if (!complete && want.size > 0 && done < want.size) {
                // Body shorter than announced without an error: treat as a dropped connection.
                ::fsync(fd.get());
                if (++attempt >= max_attempts) {
                    throw fail(DownloadError::Kind::Hub, "download of " + label + " cut short at " +
                                                             std::to_string(done) + " of " +
                                                             std::to_string(want.size) + " bytes");
                }
                backoff_sleep(backoff_ms, ctx.cancel);
                backoff_ms = std::min(backoff_ms * 2, std::max(1, ctx.options->backoff_max_ms));
                continue;
            }
        }
        if (::fsync(fd.get()) != 0) io_fail("cannot sync", part);
        digest = sha->hex_final();
        break;
    }

    const int64_t size = static_cast<int64_t>(fs::file_size(part, ec));
    std::string problem;
    if (want.size > 0 && size != want.size) {
        problem = "size mismatch for " + label + ": expected " + std::to_string(want.size) +
                  " bytes, got " + std::to_string(size);
    } else if (!want.sha256.empty() && digest != want.sha256) {
        problem = "sha256 mismatch for " + label + ": expected " + want.sha256 + ", got " + digest;
    }
    if (!problem.empty()) {
        fs::remove(part, ec);
        lib.update_download(row_id, 0, DownloadState::Failed, problem);
        throw DownloadError(DownloadError::Kind::Integrity, problem);
    }
    if (::rename(part.c_str(), job.dest.c_str()) != 0) io_fail("cannot rename", part);
    fsync_dir(job.dest.parent_path());
    return {want.path, job.dest, size, digest};
}

}  // namespace folio::store
