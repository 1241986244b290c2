#pragma once
// One file's resumable, verified transfer (the DownloadManager in folio/store.h runs these on
// its threads). Internal: the public API is folio::store::DownloadManager.
//
// fetch_file() writes <dest>.part, resuming with "Range: bytes=N-" from its current size (the
// existing bytes are hashed first), retries transient hub errors with exponential backoff,
// verifies size and sha256, fsyncs and renames to <dest>. It keeps the downloads row current
// (bytes done, state, error). It does not register the model: the caller does, once every part
// of the model is in place.
#include <atomic>
#include <functional>
#include <string>

#include "folio/hub.h"
#include "folio/store.h"

namespace folio::store {

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
