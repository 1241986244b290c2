// HubConfig, HubError and HubClient: the hub's JSON API over http_transfer.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "folio/hub.h"
#include "hub/http_transfer.h"

namespace folio::hub {
namespace {

// Pages of a file tree followed at most (1,000 entries each on the hub: a million files).
constexpr size_t kMaxTreePages = 1000;

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

bool truthy(std::string v) {
    for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

nlohmann::json parse_json(const std::string& body, const std::string& url) {
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
        throw HubError(HubError::Kind::BadResponse, 200,
                       "invalid JSON from " + url + ": " + e.what());
    }
}

int64_t int_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return 0;
    return it->is_number_integer() ? it->get<int64_t>() : static_cast<int64_t>(it->get<double>());
}

std::string string_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void check_repo_id(const std::string& repo) {
    const size_t slash = repo.find('/');
    if (repo.empty() || slash == 0 || slash == std::string::npos || slash + 1 == repo.size() ||
        repo.find('/', slash + 1) != std::string::npos || repo.find("..") != std::string::npos) {
        throw HubError(HubError::Kind::NotFound, 0,
                       "invalid repo id '" + repo + "': expected owner/name");
    }
}

}  // namespace

HubConfig HubConfig::from_env() {
    HubConfig c;
    c.endpoint = env_or("HF_ENDPOINT", c.endpoint);
    while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
    c.token = env_or("HF_TOKEN", env_or("HUGGING_FACE_HUB_TOKEN", ""));
    c.offline = truthy(env_or("HF_HUB_OFFLINE", ""));
    return c;
}

bool HubError::transient() const {
    if (m_kind != Kind::Network) return false;
    return m_http_status == 0 || m_http_status == 408 || m_http_status == 429 ||
           m_http_status >= 500;
}

std::pair<std::string, std::string> split_repo_revision(const std::string& spec) {
    const size_t at = spec.find('@');
    if (at == std::string::npos) return {spec, "main"};
    std::string rev = spec.substr(at + 1);
    return {spec.substr(0, at), rev.empty() ? "main" : rev};
}

HubClient::HubClient(HubConfig config) : m_config(std::move(config)) {
    while (!m_config.endpoint.empty() && m_config.endpoint.back() == '/') {
        m_config.endpoint.pop_back();
    }
}

std::vector<RepoSummary> HubClient::search(const std::string& query, int limit) const {
    HttpRequest req;
    req.url =
        m_config.endpoint + "/api/models?search=" + url_encode(query, false) +
        "&filter=gguf&sort=downloads&direction=-1&limit=" + std::to_string(std::max(1, limit)) +
        "&expand%5B%5D=downloads&expand%5B%5D=likes&expand%5B%5D=lastModified";
    req.config = &m_config;
    const nlohmann::json j = parse_json(http_get_text(req), req.url);
    if (!j.is_array()) {
        throw HubError(HubError::Kind::BadResponse, 200, "expected a JSON list from " + req.url);
    }
    std::vector<RepoSummary> out;
    for (const auto& m : j) {
        if (!m.is_object()) continue;
        RepoSummary r;
        r.id = string_field(m, "id");
        if (r.id.empty()) r.id = string_field(m, "modelId");
        if (r.id.empty()) continue;
        r.downloads = int_field(m, "downloads");
        r.likes = int_field(m, "likes");
        r.last_modified = string_field(m, "lastModified");
        if (r.last_modified.empty()) r.last_modified = string_field(m, "createdAt");
        out.push_back(std::move(r));
        if (static_cast<int>(out.size()) >= limit) break;
    }
    return out;
}

std::vector<RepoFile> HubClient::list_files(const std::string& repo,
                                            const std::string& revision) const {
    check_repo_id(repo);
    HttpRequest req;
    req.url = m_config.endpoint + "/api/models/" + url_encode(repo, true) + "/tree/" +
              url_encode(revision, false) + "?recursive=true";
    req.config = &m_config;
    // The hub pages long trees (about 1,000 entries each) with `Link: <...>; rel="next"`.
    std::vector<RepoFile> out;
    std::set<std::string> seen_urls;
    for (;;) {
        if (!seen_urls.insert(req.url).second || seen_urls.size() > kMaxTreePages) {
            throw HubError(
                HubError::Kind::BadResponse, 200,
                "the file list of " + repo + " does not end (page links loop at " + req.url + ")");
        }
        HttpResponse resp;
        const nlohmann::json j = parse_json(http_get_text(req, &resp), req.url);
        if (!j.is_array()) {
            throw HubError(HubError::Kind::BadResponse, 200,
                           "expected a JSON list from " + req.url);
        }
        for (const auto& e : j) {
            if (!e.is_object() || string_field(e, "type") != "file") continue;
            RepoFile f;
            f.path = string_field(e, "path");
            if (f.path.empty()) continue;
            f.size = int_field(e, "size");
            auto lfs = e.find("lfs");
            if (lfs != e.end() && lfs->is_object()) {
                f.sha256 = string_field(*lfs, "oid");
                if (const int64_t s = int_field(*lfs, "size"); s > 0) f.size = s;
            }
            out.push_back(std::move(f));
        }
        if (resp.next_link.empty()) break;
        req.url = resp.next_link;
    }
    std::sort(out.begin(), out.end(),
              [](const RepoFile& a, const RepoFile& b) { return a.path < b.path; });
    // A page boundary that moved between requests could repeat an entry.
    out.erase(std::unique(out.begin(), out.end(),
                          [](const RepoFile& a, const RepoFile& b) { return a.path == b.path; }),
              out.end());
    return out;
}

std::string HubClient::file_url(const std::string& repo, const std::string& revision,
                                const std::string& path) const {
    return m_config.endpoint + "/" + url_encode(repo, true) + "/resolve/" +
           url_encode(revision, false) + "/" + url_encode(path, true);
}

std::string HubClient::read_range(const std::string& repo, const std::string& revision,
                                  const std::string& path, int64_t offset, int64_t length) const {
    check_repo_id(repo);
    std::string out;
    if (length <= 0) return out;
    HttpRequest req;
    req.url = file_url(repo, revision, path);
    req.range_begin = offset;
    req.range_end = offset + length - 1;
    req.config = &m_config;
    // A server that ignores Range answers 200 with the whole file: keep at most offset + length
    // bytes (enough for both cases) and cut once the status is known.
    const size_t cap = static_cast<size_t>(offset + length);
    const HttpResponse resp = http_get(req, [&](const char* data, size_t size) {
        out.append(data, std::min(size, cap - out.size()));
        return out.size() < cap;
    });
    if (resp.status == 200)
        out = offset < static_cast<int64_t>(out.size()) ? out.substr(static_cast<size_t>(offset))
                                                        : std::string();
    if (out.size() > static_cast<size_t>(length)) out.resize(static_cast<size_t>(length));
    return out;
}

}  // namespace folio::hub
