#pragma once
// FakeHub: a Hugging Face compatible hub on 127.0.0.1 (cpp-httplib, any free port) for tests of
// the hub client, the downloader and the CLI. Point a HubConfig (or HF_ENDPOINT) at endpoint().
//
// Routes, with the real API's JSON shapes:
//   GET /api/models?search=Q&limit=N   [{_id, id, modelId, downloads, likes, lastModified, tags,
//                                        private}], repos whose id contains Q (case-insensitive),
//                                        most downloaded first, at most N (default 100)
//   GET /api/models/{owner}/{name}/tree/{rev}[/{dir}][?recursive=true]
//                                       [{type:"file", path, size, oid, lfs:{oid, size,
//                                        pointerSize}}, {type:"directory", path, size:0, oid}]
//                                        (lfs only for LFS files; lfs.oid is the sha256), in
//                                        pages of set_tree_page_size() entries like the hub:
//                                        `Link: <...&cursor=N>; rel="next"` when more follow
//   GET /{owner}/{name}/resolve/{rev}/{path}
//                                       302 to {cdn}/cdn/{owner}/{name}/{rev}/{path} with
//                                        X-Repo-Commit, X-Linked-Etag ("sha256"), X-Linked-Size
//   GET /cdn/{owner}/{name}/{rev}/{path} the bytes: ETag ("sha256"), Accept-Ranges: bytes,
//                                        Content-Length; Range → 206 + Content-Range;
//                                        unsatisfiable range → 416
// Every revision serves the same files. Errors: unknown repo → 404 (X-Error-Code: RepoNotFound),
// unknown file → 404 (EntryNotFound), gated repo without the right "Authorization: Bearer
// <token>" → 401 (GatedRepo) on tree and resolve. Error details travel in X-Error-Code and
// X-Error-Message headers (bodies of ranged answers stay empty).
//
// All methods are thread-safe and may be called while requests are in flight (faults switch at
// run time).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace folio::test {

struct FakeRepoMeta {
    int64_t downloads = 0;
    int64_t likes = 0;
    std::string last_modified = "2024-05-01T12:00:00.000Z";
    std::vector<std::string> tags = {"gguf"};
};

// What goes wrong when a file (or every file of a repo) is served.
struct FakeFault {
    int64_t drop_after_bytes = -1;       // >= 0: close the connection after this many body bytes
    bool drop_always = false;            // false: only the next response is cut, then no more
    bool wrong_content = false;          // serve a flipped byte (the sha256 no longer matches)
    bool not_found = false;              // resolve and cdn answer 404
    int64_t bytes_per_second = 0;        // > 0: throttle the body to this rate
    bool range_not_satisfiable = false;  // every request with a Range answers 416
    bool ignore_range = false;           // Range is ignored: 200 with the whole body
};

class FakeHub {
  public:
    using RepoMeta = FakeRepoMeta;
    using Fault = FakeFault;

    FakeHub();  // starts serving; throws std::runtime_error when it cannot bind
    ~FakeHub();
    FakeHub(const FakeHub&) = delete;
    FakeHub& operator=(const FakeHub&) = delete;

    std::string endpoint() const;  // "http://127.0.0.1:<port>"
    int port() const { return m_port; }

    // Declares a repo ("owner/name"); adding a file declares its repo too.
    void add_repo(const std::string& repo, const RepoMeta& meta = {});
    // A file served from disk (read at request time) or from memory. LFS files carry lfs.oid.
    void add_file(const std::string& repo, const std::string& path,
                  const std::filesystem::path& disk_file, bool lfs = true);
    void add_file_bytes(const std::string& repo, const std::string& path, std::string bytes,
                        bool lfs = true);
    // A model from the shared folder (shared/models/<model_file>) as `path` (default: same name).
    void add_shared_model(const std::string& repo, const std::string& model_file,
                          const std::string& path = "");
    void remove_file(const std::string& repo, const std::string& path);

    // A gated repo: tree and resolve need "Authorization: Bearer <token>".
    void set_gated(const std::string& repo, const std::string& token);
    // Faults for one file, or for every file of the repo when path is empty. clear_faults()
    // removes them all.
    void set_fault(const std::string& repo, const std::string& path, const Fault& fault);
    void clear_faults();
    // Redirect resolve to another origin: "localhost" makes the CDN a different host from the
    // endpoint's 127.0.0.1 (tests that credentials do not follow cross-host redirects).
    // Empty: the endpoint itself (default).
    void set_cdn_host(const std::string& host);
    // Entries per page of a tree listing (default 1000, as the hub); 0: one page, no Link.
    void set_tree_page_size(size_t entries);

    // Requests seen per decoded URL path ("/cdn/o/n/main/f.gguf", "/api/models"), counted when
    // they arrive (cut or not).
    int request_count(const std::string& url_path) const;
    // CDN requests for one file: how many times its bytes were asked for.
    int download_count(const std::string& repo, const std::string& path) const;
    // The last "path?query" received at `url_path` (empty when none).
    std::string last_target(const std::string& url_path) const;
    // The Authorization header of the last request at `url_path` (empty when none was sent).
    std::string last_authorization(const std::string& url_path) const;
    // The Range header of every request at `url_path` in arrival order ("" when none was sent).
    std::vector<std::string> range_headers(const std::string& url_path) const;
    void reset_counters();

    // sha256 (hex) of a registered file's true bytes.
    std::string sha256_of(const std::string& repo, const std::string& path) const;

  private:
    struct File;
    struct Repo;
    struct FaultState;
    void install_routes();
    std::shared_ptr<File> find_file(const std::string& repo, const std::string& path) const;
    Fault fault_for(const std::string& repo, const std::string& path) const;
    bool take_drop(const std::string& repo, const std::string& path);

    std::unique_ptr<httplib::Server> m_server;
    std::thread m_thread;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    mutable std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<Repo>> m_repos;
    std::map<std::string, std::unique_ptr<FaultState>> m_faults;  // "repo\npath"
    std::map<std::string, int> m_counts;
    std::map<std::string, std::string> m_last_target, m_last_auth;
    std::map<std::string, std::vector<std::string>> m_ranges;
    std::string m_cdn_host;
    size_t m_tree_page_size = 1000;
};

}  // namespace folio::test
