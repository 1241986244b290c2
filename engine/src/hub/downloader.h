#pragma once
// One file's resumable, verified transfer (the DownloadManager in folio/store.h runs these on
// its threads). Internal: the public API is folio::store::DownloadManager.
//
// fetch_file() writes <dest>.part, resuming with "Range: bytes=N-" from its current size (the
// existing bytes are hashed first), retries transient hub errors with exponential backoff,
// verifies size and sha256, fsyncs and renames to <dest>. It keeps the downloads row current
// (bytes done, state, error). It does not register the model: the caller does, once every part
// of the model is in place. A server that ignores the range (200, whole body) restarts the file
// from byte 0 with that same response.
//
// Cross-process coordination: the caller holds the file's TransferLock across fetch_file() and
// the registration, so a second process (or Library) pulling the same file waits, then finds the
// file in place (or the model registered) instead of fetching it again.
#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include "folio/hub.h"
#include "folio/store.h"

namespace folio::store {

// An exclusive flock(2) on <dest>.part.lock. The kernel drops it when its holder dies, so a
// part left by a killed process is taken over. The holder unlinks the lock file before
// unlocking; an acquirer re-checks that the path still names the file it locked.
class TransferLock {
  public:
    TransferLock() = default;
    TransferLock(TransferLock&& other) noexcept;
    TransferLock& operator=(TransferLock&& other) noexcept;
    TransferLock(const TransferLock&) = delete;
    TransferLock& operator=(const TransferLock&) = delete;
    ~TransferLock() { release(); }

    static std::filesystem::path lock_path(const std::filesystem::path& dest);
    // Blocks until held (polling every 50 ms). `on_wait` is called once when another holder
    // makes it wait. Throws DownloadError: Cancelled when `cancel` is set while waiting, Io when
    // the lock file cannot be created.
    static TransferLock acquire(const std::filesystem::path& dest, const std::atomic<bool>* cancel,
                                const std::function<void()>& on_wait);
    void release();

  private:
    int m_fd = -1;
    std::filesystem::path m_path;
};

struct FileJob {
    std::string repo, revision;
    hub::RepoFile file;  // path in the repo, expected size and sha256 (may be empty)
    std::string url;
    std::filesystem::path dest;
};

struct FileProgress {
    int64_t bytes_done = 0;  // of this file
    bool resumed = false;
};

struct FetchContext {
    Library* library = nullptr;
    const hub::HubConfig* config = nullptr;
    const DownloadOptions* options = nullptr;
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(const FileProgress&)> on_progress;  // called often; keep it cheap
    std::atomic<int>* transfers = nullptr;                 // incremented per HTTP transfer
};

// Returns the verified file in place; throws DownloadError (Cancelled: .part and row kept;
// Integrity: .part deleted, row marked failed; Hub: row marked failed with the hub's message).
ModelFile fetch_file(const FileJob& job, const FetchContext& ctx);

}  // namespace folio::store
