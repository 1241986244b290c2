// DownloadManager (folio/store.h): runs pulls on threads, at most max_parallel at once, joins
// duplicate requests, checks free space first and registers each model once all its files are
// verified.
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "folio/store.h"
#include "hub/downloader.h"

namespace folio::store {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

int64_t statvfs_free(const fs::path& dir) {
    struct statvfs s {};
    if (::statvfs(dir.c_str(), &s) != 0) return INT64_MAX;  // unknown: do not refuse
    return static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
}

std::string human(int64_t n) {
    char buf[32];
    if (n >= (1LL << 30)) {
        std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(n) / (1LL << 30));
    } else if (n >= (1LL << 20)) {
        std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(n) / (1LL << 20));
    } else {
        std::snprintf(buf, sizeof(buf), "%lld bytes", static_cast<long long>(n));
    }
    return buf;
}

class Task final : public DownloadTask {
  public:
    ModelRecord wait() override {
        std::unique_lock lock(m_mu);
        m_cv.wait(lock, [&] { return m_finished; });
        if (m_error) std::rethrow_exception(m_error);
        return *m_result;
    }
    bool done() const override {
        std::lock_guard lock(m_mu);
        return m_finished;
    }
    void cancel() override {
        m_cancel = true;
        m_cv.notify_all();
    }
    void on_progress(ProgressCallback callback) override {
        if (!callback) return;
        std::lock_guard lock(m_mu);
        m_listeners.push_back(std::move(callback));
    }

    void publish(const DownloadProgress& p) {
        std::vector<ProgressCallback> listeners;
        {
            std::lock_guard lock(m_mu);
            listeners = m_listeners;
        }
        for (auto& l : listeners) l(p);
    }
    void finish(std::optional<ModelRecord> result, std::exception_ptr error) {
        {
            std::lock_guard lock(m_mu);
            m_result = std::move(result);
            m_error = error;
            m_finished = true;
        }
        m_cv.notify_all();
    }

    std::atomic<bool> m_cancel{false};

  private:
    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    bool m_finished = false;
    std::optional<ModelRecord> m_result;
    std::exception_ptr m_error;
    std::vector<ProgressCallback> m_listeners;
};

// Thrown inside Impl::run when another process registered the model while this one waited.
struct AlreadyDone {};

std::string task_key(const PullSpec& spec) {
    std::string key = spec.repo + "@" + spec.revision;
    for (const auto& f : spec.files) key += "\n" + f.path;
    return key;
}

}  // namespace

struct DownloadManager::Impl {
    Library& library;
    hub::HubConfig config;
    DownloadOptions options;
    hub::HubClient client;

    std::mutex mu;
    std::condition_variable slot_cv;
    int running = 0;
    bool stopping = false;
    std::map<std::string, std::shared_ptr<Task>> in_flight;
    // One thread per pull; finished ones are joined on the next pull() or at destruction.
    std::vector<std::pair<std::shared_ptr<Task>, std::thread>> threads;
    std::atomic<int> transfers{0};

    Impl(Library& lib, hub::HubConfig cfg, DownloadOptions opt)
        : library(lib), config(std::move(cfg)), options(std::move(opt)), client(config) {
        if (!options.free_space) options.free_space = statvfs_free;
    }

    void run(const PullSpec& spec, const std::string& key, const std::shared_ptr<Task>& task);

    // The library's model for `spec` when it has one with every file of the spec.
    std::optional<ModelRecord> registered(const PullSpec& spec) const {
        auto m = library.find_model(spec.repo, spec.revision, spec.files.front().path);
        if (!m || m->files.size() != spec.files.size()) return std::nullopt;
        for (size_t i = 0; i < spec.files.size(); ++i) {
            const auto& want = spec.files[i];
            if (m->files[i].file != want.path || (want.size > 0 && m->files[i].size != want.size) ||
                (!want.sha256.empty() && m->files[i].sha256 != want.sha256)) {
                return std::nullopt;
            }
        }
        return m;
    }
};

void DownloadManager::Impl::run(const PullSpec& spec, const std::string& key,
                                const std::shared_ptr<Task>& task) {
    std::optional<ModelRecord> result;
    std::exception_ptr error;
    bool have_slot = false;
    try {
        {
            std::unique_lock lock(mu);
            // Polls: a cancelled task has no handle on this condition variable.
            while (!(stopping || task->m_cancel.load() || running < options.max_parallel)) {
                slot_cv.wait_for(lock, std::chrono::milliseconds(100));
            }
            if (stopping || task->m_cancel.load()) {
                throw DownloadError(DownloadError::Kind::Cancelled,
                                    "download of " + spec.repo + " cancelled");
            }
            ++running;
            have_slot = true;
        }
        int64_t total = 0;
        for (const auto& f : spec.files) total += f.size;
        // Another process (or Library) pulling one of these files: wait for it. The locks are
        // held until the model is registered; taken in path order so two pulls cannot deadlock.
        std::vector<hub::RepoFile> by_path = spec.files;
        std::sort(by_path.begin(), by_path.end(),
                  [](const auto& a, const auto& b) { return a.path < b.path; });
        std::vector<TransferLock> locks;
        for (const auto& f : by_path) {
            locks.push_back(
                TransferLock::acquire(library.model_path(spec.repo, f.path), &task->m_cancel, [&] {
                    DownloadProgress p;
                    p.repo = spec.repo;
                    p.file = f.path;
                    p.total = total;
                    p.waiting = true;
                    task->publish(p);
                }));
        }
        // It may have registered the model meanwhile.
        if (auto m = registered(spec)) {
            result = std::move(m);
            throw AlreadyDone{};
        }
        int64_t finished_bytes = 0;
        double rate = 0;
        auto last_t = Clock::now();
        int64_t last_bytes = -1;
        std::vector<ModelFile> files;
        for (const auto& f : spec.files) {
            FileJob job{spec.repo, spec.revision, f,
                        client.file_url(spec.repo, spec.revision, f.path),
                        library.model_path(spec.repo, f.path)};
            FetchContext ctx;
            ctx.library = &library;
            ctx.config = &config;
            ctx.options = &options;
            ctx.cancel = &task->m_cancel;
            ctx.transfers = &transfers;
            ctx.on_progress = [&](const FileProgress& fp) {
                const int64_t done = finished_bytes + fp.bytes_done;
                const auto now = Clock::now();
                const double dt = std::chrono::duration<double>(now - last_t).count();
                if (last_bytes < 0) {
                    last_bytes = done;
                    last_t = now;
                } else if (dt >= 0.25) {
                    const double inst = static_cast<double>(done - last_bytes) / dt;
                    rate = rate == 0 ? inst : 0.7 * rate + 0.3 * inst;
                    last_bytes = done;
                    last_t = now;
                }
                DownloadProgress p;
                p.repo = spec.repo;
                p.file = f.path;
                p.bytes_done = done;
                p.total = total;
                p.rate = rate;
                p.eta_s = rate > 0 ? static_cast<double>(total - done) / rate : -1;
                p.resumed = fp.resumed;
                task->publish(p);
            };
            files.push_back(fetch_file(job, ctx));
            finished_bytes += f.size;
        }
        ModelRecord m;
        m.repo = spec.repo;
        m.revision = spec.revision;
        m.files = files;
        const int64_t id = library.add_model(m);
        result = library.find_model(id);
        if (!result) throw DownloadError(DownloadError::Kind::Io, "model vanished after adding");
    } catch (const AlreadyDone&) {
    } catch (const DownloadError&) {
        error = std::current_exception();
    } catch (const hub::HubError& e) {
        error = std::make_exception_ptr(DownloadError(DownloadError::Kind::Hub, e.what()));
    } catch (const std::exception& e) {
        error = std::make_exception_ptr(DownloadError(DownloadError::Kind::Io, e.what()));
    }
    {
        std::lock_guard lock(mu);
        if (have_slot) --running;
        in_flight.erase(key);
    }
    slot_cv.notify_all();
    task->finish(std::move(result), error);
}

DownloadManager::DownloadManager(Library& library, hub::HubConfig config, DownloadOptions options)
    : m_impl(std::make_shared<Impl>(library, std::move(config), std::move(options))) {}

DownloadManager::~DownloadManager() {
    std::vector<std::pair<std::shared_ptr<Task>, std::thread>> threads;
    {
        std::lock_guard lock(m_impl->mu);
        m_impl->stopping = true;
        for (auto& t : m_impl->threads) t.first->cancel();
        threads.swap(m_impl->threads);
    }
    m_impl->slot_cv.notify_all();
    for (auto& t : threads) t.second.join();
}

int DownloadManager::transfers_started() const {
    return m_impl->transfers.load();
}

std::shared_ptr<DownloadTask> DownloadManager::pull(const PullSpec& spec,
                                                    ProgressCallback on_progress) {
    if (spec.files.empty()) {
        throw DownloadError(DownloadError::Kind::Hub, "nothing to download from " + spec.repo);
    }
    Library& lib = m_impl->library;
    const std::string key = task_key(spec);
    std::lock_guard lock(m_impl->mu);
    // A finished task's thread has released `mu` already: joining here cannot deadlock.
    std::erase_if(m_impl->threads, [](auto& t) {
        if (!t.first->done()) return false;
        t.second.join();
        return true;
    });
    if (auto it = m_impl->in_flight.find(key); it != m_impl->in_flight.end()) {
        it->second->on_progress(std::move(on_progress));
        return it->second;
    }
    // Already in the library with every file whole: nothing to do.
    if (auto m = lib.find_model(spec.repo, spec.revision, spec.files.front().path)) {
        auto task = std::make_shared<Task>();
        task->finish(*m, nullptr);
        return task;
    }
    int64_t remaining = 0;
    for (const auto& f : spec.files) {
        const fs::path dest = lib.model_path(spec.repo, f.path);
        std::error_code ec;
        int64_t have = 0;
        if (fs::is_regular_file(dest, ec)) {
            have = static_cast<int64_t>(fs::file_size(dest, ec));
        } else if (fs::is_regular_file(dest.string() + ".part", ec)) {
            have = static_cast<int64_t>(fs::file_size(dest.string() + ".part", ec));
        }
        remaining += std::max<int64_t>(0, f.size - have);
    }
    const int64_t need = remaining + remaining / 100;
    const int64_t free_bytes = m_impl->options.free_space(lib.models_dir());
    if (need > free_bytes) {
        throw DownloadError(DownloadError::Kind::DiskSpace,
                            "not enough disk space in " + lib.models_dir().string() + ": " +
                                spec.repo + " needs " + human(need) + " more, " +
                                human(free_bytes) + " free");
    }
    auto task = std::make_shared<Task>();
    task->on_progress(std::move(on_progress));
    m_impl->in_flight[key] = task;
    Impl* impl = m_impl.get();
    m_impl->threads.emplace_back(
        task, std::thread([impl, spec, key, task] { impl->run(spec, key, task); }));
    return task;
}

}  // namespace folio::store
