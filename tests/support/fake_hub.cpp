#include "fake_hub.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <set>
#include <stdexcept>

#include "shared_data.h"

namespace folio::test {

struct FakeHub::File {
    std::filesystem::path disk;  // empty: in memory
    std::string bytes;
    int64_t size = 0;
    bool lfs = true;
    std::string sha256;
};

struct FakeHub::Repo {
    RepoMeta meta;
    std::string gated_token;  // empty: public
    std::map<std::string, std::shared_ptr<File>> files;
};

struct FakeHub::FaultState {
    Fault fault;
    bool dropped = false;  // a drop_after_bytes that is not drop_always has fired
};

namespace {

std::string hex_sha256(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void error(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
    res.status = status;
    res.set_header("X-Error-Code", code);
    res.set_header("X-Error-Message", msg);
}

std::string target_of(const httplib::Request& req) {
    std::string t = req.path;
    if (!req.params.empty()) {
        t += '?';
        bool first = true;
        for (const auto& [k, v] : req.params) {
            if (!first) t += '&';
            first = false;
            t += k + "=" + v;
        }
    }
    return t;
}

}  // namespace

FakeHub::FakeHub() : m_server(std::make_unique<httplib::Server>()) {
    install_routes();
    m_port = m_server->bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("fake hub: cannot bind 127.0.0.1");
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
    for (int i = 0; i < 2000 && !m_server->is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

FakeHub::~FakeHub() {
    m_stopping = true;
    m_server->stop();
    if (m_thread.joinable()) m_thread.join();
}

std::string FakeHub::endpoint() const {
    return "http://127.0.0.1:" + std::to_string(m_port);
}

void FakeHub::add_repo(const std::string& repo, const RepoMeta& meta) {
    std::lock_guard lock(m_mutex);
    auto& r = m_repos[repo];
    if (!r) r = std::make_unique<Repo>();
    r->meta = meta;
}

void FakeHub::add_file(const std::string& repo, const std::string& path,
                       const std::filesystem::path& disk_file, bool lfs) {
    auto f = std::make_shared<File>();
    f->disk = disk_file;
    f->size = static_cast<int64_t>(std::filesystem::file_size(disk_file));
    f->lfs = lfs;
    f->sha256 = hex_sha256(read_file(disk_file));
    std::lock_guard lock(m_mutex);
    auto& r = m_repos[repo];
    if (!r) r = std::make_unique<Repo>();
    r->files[path] = std::move(f);
}

void FakeHub::add_file_bytes(const std::string& repo, const std::string& path, std::string bytes,
                             bool lfs) {
    auto f = std::make_shared<File>();
    f->size = static_cast<int64_t>(bytes.size());
    f->sha256 = hex_sha256(bytes);
    f->bytes = std::move(bytes);
    f->lfs = lfs;
    std::lock_guard lock(m_mutex);
    auto& r = m_repos[repo];
    if (!r) r = std::make_unique<Repo>();
    r->files[path] = std::move(f);
}

void FakeHub::add_shared_model(const std::string& repo, const std::string& model_file,
                               const std::string& path) {
    add_file(repo, path.empty() ? model_file : path, shared_path("models/" + model_file));
}

void FakeHub::remove_file(const std::string& repo, const std::string& path) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_repos.find(repo); it != m_repos.end()) it->second->files.erase(path);
}

void FakeHub::set_gated(const std::string& repo, const std::string& token) {
    std::lock_guard lock(m_mutex);
    auto& r = m_repos[repo];
    if (!r) r = std::make_unique<Repo>();
    r->gated_token = token;
}

void FakeHub::set_fault(const std::string& repo, const std::string& path, const Fault& fault) {
    std::lock_guard lock(m_mutex);
    auto s = std::make_unique<FaultState>();
    s->fault = fault;
    m_faults[repo + "\n" + path] = std::move(s);
}

void FakeHub::clear_faults() {
    std::lock_guard lock(m_mutex);
    m_faults.clear();
}

void FakeHub::set_cdn_host(const std::string& host) {
    std::lock_guard lock(m_mutex);
    m_cdn_host = host;
}

void FakeHub::set_tree_page_size(size_t entries) {
    std::lock_guard lock(m_mutex);
    m_tree_page_size = entries;
}

std::vector<std::string> FakeHub::range_headers(const std::string& url_path) const {
    std::lock_guard lock(m_mutex);
    auto it = m_ranges.find(url_path);
    return it == m_ranges.end() ? std::vector<std::string>() : it->second;
}

int FakeHub::request_count(const std::string& url_path) const {
    std::lock_guard lock(m_mutex);
    auto it = m_counts.find(url_path);
    return it == m_counts.end() ? 0 : it->second;
}

int FakeHub::download_count(const std::string& repo, const std::string& path) const {
    return request_count("/cdn/" + repo + "/main/" + path);
}

std::string FakeHub::last_target(const std::string& url_path) const {
    std::lock_guard lock(m_mutex);
    auto it = m_last_target.find(url_path);
    return it == m_last_target.end() ? std::string() : it->second;
}

std::string FakeHub::last_authorization(const std::string& url_path) const {
    std::lock_guard lock(m_mutex);
    auto it = m_last_auth.find(url_path);
    return it == m_last_auth.end() ? std::string() : it->second;
}

void FakeHub::reset_counters() {
    std::lock_guard lock(m_mutex);
    m_counts.clear();
    m_last_target.clear();
    m_last_auth.clear();
    m_ranges.clear();
}

std::string FakeHub::sha256_of(const std::string& repo, const std::string& path) const {
    auto f = find_file(repo, path);
    return f ? f->sha256 : std::string();
}

std::shared_ptr<FakeHub::File> FakeHub::find_file(const std::string& repo,
                                                  const std::string& path) const {
    std::lock_guard lock(m_mutex);
    auto it = m_repos.find(repo);
    if (it == m_repos.end()) return nullptr;
    auto f = it->second->files.find(path);
    return f == it->second->files.end() ? nullptr : f->second;
}

FakeHub::Fault FakeHub::fault_for(const std::string& repo, const std::string& path) const {
    std::lock_guard lock(m_mutex);
    for (const std::string& key : {repo + "\n" + path, repo + "\n"}) {
        auto it = m_faults.find(key);
        if (it == m_faults.end()) continue;
        Fault f = it->second->fault;
        if (it->second->dropped && !f.drop_always) f.drop_after_bytes = -1;
        return f;
    }
    return {};
}

// Marks a one-shot drop as used; false when it already fired.
bool FakeHub::take_drop(const std::string& repo, const std::string& path) {
    std::lock_guard lock(m_mutex);
    for (const std::string& key : {repo + "\n" + path, repo + "\n"}) {
        auto it = m_faults.find(key);
        if (it == m_faults.end()) continue;
        if (it->second->fault.drop_always) return true;
        if (it->second->dropped) return false;
        it->second->dropped = true;
        return true;
    }
    return false;
}

void FakeHub::install_routes() {
    auto& s = *m_server;
    // Counts the request and checks the gate; false (response filled) when refused.
    auto note = [this](const httplib::Request& req) {
        std::lock_guard lock(m_mutex);
        ++m_counts[req.path];
        m_last_target[req.path] = target_of(req);
        m_last_auth[req.path] = req.get_header_value("Authorization");
        m_ranges[req.path].push_back(req.get_header_value("Range"));
    };
    auto gate = [this](const httplib::Request& req, httplib::Response& res,
                       const std::string& repo) {
        std::lock_guard lock(m_mutex);
        auto it = m_repos.find(repo);
        if (it == m_repos.end()) {
            error(res, 404, "RepoNotFound", "Repository not found: " + repo);
            return false;
        }
        const std::string& token = it->second->gated_token;
        if (!token.empty() && req.get_header_value("Authorization") != "Bearer " + token) {
            error(res, 401, "GatedRepo",
                  "Access to model " + repo + " is restricted. You must have access to it.");
            return false;
        }
        return true;
    };

    s.Get("/api/models", [this, note](const httplib::Request& req, httplib::Response& res) {
        note(req);
        const std::string q = lower(req.get_param_value("search"));
        size_t limit = 100;
        if (req.has_param("limit")) limit = std::stoul(req.get_param_value("limit"));
        std::vector<std::pair<std::string, RepoMeta>> hits;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& [id, r] : m_repos) {
                if (lower(id).find(q) != std::string::npos) hits.emplace_back(id, r->meta);
            }
        }
        std::stable_sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
            return a.second.downloads > b.second.downloads;
        });
        nlohmann::json out = nlohmann::json::array();
        for (size_t i = 0; i < hits.size() && i < limit; ++i) {
            const auto& [id, m] = hits[i];
            out.push_back({{"_id", "66" + std::to_string(1000 + i)},
                           {"id", id},
                           {"modelId", id},
                           {"downloads", m.downloads},
                           {"likes", m.likes},
                           {"lastModified", m.last_modified},
                           {"tags", m.tags},
                           {"private", false}});
        }
        res.set_content(out.dump(), "application/json");
    });

    s.Get(R"(/api/models/([^/]+)/([^/]+)/tree/([^/]+)(?:/(.*))?)", [this, note, gate](
                                                                       const httplib::Request& req,
                                                                       httplib::Response& res) {
        note(req);
        const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
        if (!gate(req, res, repo)) return;
        std::string dir = req.matches.size() > 4 ? req.matches[4].str() : std::string();
        if (!dir.empty() && dir.back() != '/') dir += '/';
        const std::string rec = req.get_param_value("recursive");
        const bool recursive = rec == "true" || rec == "1" || rec == "True";
        nlohmann::json out = nlohmann::json::array();
        std::set<std::string> dirs;
        std::lock_guard lock(m_mutex);
        for (const auto& [path, f] : m_repos.at(repo)->files) {
            if (path.compare(0, dir.size(), dir) != 0) continue;
            const std::string rest = path.substr(dir.size());
            // Folders between `dir` and the file.
            for (size_t slash = rest.find('/'); slash != std::string::npos;
                 slash = rest.find('/', slash + 1)) {
                dirs.insert(dir + rest.substr(0, slash));
                if (!recursive) break;
            }
            if (!recursive && rest.find('/') != std::string::npos) continue;
            nlohmann::json e = {{"type", "file"},
                                {"oid", f->sha256.substr(0, 40)},
                                {"size", f->lfs ? 134 : f->size},
                                {"path", path}};
            if (f->lfs) {
                e["lfs"] = {{"oid", f->sha256}, {"size", f->size}, {"pointerSize", 134}};
            }
            out.push_back(std::move(e));
        }
        for (const std::string& d : dirs) {
            out.push_back(
                {{"type", "directory"}, {"oid", std::string(40, 'd')}, {"size", 0}, {"path", d}});
        }
        // Pages: the cursor is the index of the page's first entry.
        size_t first = 0;
        if (req.has_param("cursor")) first = std::stoul(req.get_param_value("cursor"));
        const size_t page = m_tree_page_size == 0 ? out.size() : m_tree_page_size;
        if (first > 0 || out.size() > page) {
            nlohmann::json slice = nlohmann::json::array();
            for (size_t i = first; i < out.size() && i < first + page; ++i) slice.push_back(out[i]);
            if (first + page < out.size()) {
                res.set_header("Link", "<" + endpoint() + req.path +
                                           "?recursive=" + (recursive ? "True" : "False") +
                                           "&expand=False&cursor=" + std::to_string(first + page) +
                                           ">; rel=\"next\"");
            }
            out = std::move(slice);
        }
        res.set_content(out.dump(), "application/json");
    });

    s.Get(R"(/cdn/([^/]+)/([^/]+)/([^/]+)/(.+))",
          [this, note](const httplib::Request& req, httplib::Response& res) {
              note(req);
              const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
              const std::string path = req.matches[4].str();
              const Fault fault = fault_for(repo, path);
              std::shared_ptr<File> f = find_file(repo, path);
              if (!f || fault.not_found) return error(res, 404, "EntryNotFound", "no file " + path);
              res.set_header("ETag", "\"" + f->sha256 + "\"");
              res.set_header("Accept-Ranges", "bytes");
              int64_t begin = 0, end = f->size - 1;  // inclusive
              const bool ranged = req.has_header("Range") && !fault.ignore_range;
              if (fault.ignore_range) const_cast<httplib::Request&>(req).ranges.clear();
              if (ranged) {
                  if (req.ranges.size() != 1 || fault.range_not_satisfiable) {
                      res.set_header("Content-Range", "bytes */" + std::to_string(f->size));
                      return error(res, 416, "RangeNotSatisfiable", "range not satisfiable");
                  }
                  const auto [first, second] = req.ranges.front();
                  if (first < 0) {
                      begin = std::max<int64_t>(0, f->size - second);
                  } else {
                      begin = first;
                      if (second >= 0) end = std::min<int64_t>(second, f->size - 1);
                  }
                  if (begin >= f->size || begin > end) {
                      res.set_header("Content-Range", "bytes */" + std::to_string(f->size));
                      return error(res, 416, "RangeNotSatisfiable", "range not satisfiable");
                  }
                  // httplib would slice the body again: the range is applied here.
                  const_cast<httplib::Request&>(req).ranges.clear();
                  res.status = 206;
                  res.set_header("Content-Range", "bytes " + std::to_string(begin) + "-" +
                                                      std::to_string(end) + "/" +
                                                      std::to_string(f->size));
              } else {
                  res.status = 200;
              }
              const int64_t length = end - begin + 1;
              int64_t drop_at = -1;
              if (fault.drop_after_bytes >= 0 && fault.drop_after_bytes < length &&
                  take_drop(repo, path)) {
                  drop_at = fault.drop_after_bytes;
              }
              auto stream = std::make_shared<std::ifstream>();
              if (!f->disk.empty()) stream->open(f->disk, std::ios::binary);
              const int64_t flip_at = fault.wrong_content ? f->size / 2 : -1;
              const int64_t chunk_max = fault.bytes_per_second > 0
                                            ? std::max<int64_t>(1, fault.bytes_per_second / 20)
                                            : int64_t{64} << 10;
              res.set_content_provider(
                  static_cast<size_t>(length), "application/octet-stream",
                  [this, f, stream, begin, drop_at, flip_at, chunk_max, fault](
                      size_t offset, size_t /*length*/, httplib::DataSink& sink) {
                      if (m_stopping) return false;
                      if (drop_at >= 0 && static_cast<int64_t>(offset) >= drop_at) return false;
                      int64_t n = std::min<int64_t>(chunk_max,
                                                    f->size - begin - static_cast<int64_t>(offset));
                      if (drop_at >= 0)
                          n = std::min<int64_t>(n, drop_at - static_cast<int64_t>(offset));
                      const int64_t pos = begin + static_cast<int64_t>(offset);
                      std::string buf;
                      if (f->disk.empty()) {
                          buf = f->bytes.substr(static_cast<size_t>(pos), static_cast<size_t>(n));
                      } else {
                          buf.resize(static_cast<size_t>(n));
                          stream->seekg(pos);
                          stream->read(buf.data(), n);
                      }
                      if (flip_at >= pos && flip_at < pos + n)
                          buf[static_cast<size_t>(flip_at - pos)] ^= 0x5a;
                      if (fault.bytes_per_second > 0) {
                          std::this_thread::sleep_for(std::chrono::milliseconds(50));
                      }
                      return sink.write(buf.data(), buf.size());
                  });
          });

    s.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))",
          [this, note, gate](const httplib::Request& req, httplib::Response& res) {
              note(req);
              const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
              const std::string rev = req.matches[3].str();
              const std::string path = req.matches[4].str();
              if (!gate(req, res, repo)) return;
              std::shared_ptr<File> f = find_file(repo, path);
              if (!f || fault_for(repo, path).not_found) {
                  return error(res, 404, "EntryNotFound", path + " does not exist in " + repo);
              }
              std::string cdn_host;
              {
                  std::lock_guard lock(m_mutex);
                  cdn_host = m_cdn_host;
              }
              const std::string origin = cdn_host.empty()
                                             ? endpoint()
                                             : "http://" + cdn_host + ":" + std::to_string(m_port);
              res.status = 302;
              res.set_header("Location", origin + "/cdn/" + repo + "/" + rev + "/" + path);
              res.set_header("X-Repo-Commit", std::string(40, 'c'));
              res.set_header("X-Linked-Etag", "\"" + f->sha256 + "\"");
              res.set_header("X-Linked-Size", std::to_string(f->size));
              res.set_header("ETag", "\"" + f->sha256.substr(0, 40) + "\"");
          });
}

}  // namespace folio::test
