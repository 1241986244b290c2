#include "hub/http_transfer.h"

#include <curl/curl.h>

#include <cctype>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>

namespace folio::hub {
namespace {

constexpr int kMaxRedirects = 10;
constexpr size_t kMaxErrorBody = 4096;
constexpr size_t kMaxTextBody = size_t{64} << 20;
constexpr const char* kUserAgent = "folio/0.1 (hub client; libcurl)";

struct CurlEasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlUrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
    void operator()(char* s) const { curl_free(s); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) !=
            std::tolower(static_cast<unsigned char>(name[i]))) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// "scheme://host:port" of a URL (the port made explicit), or the URL itself when unparsable.
std::string origin_of(const std::string& url) {
    CurlUrl u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return url;
    auto part = [&](CURLUPart p, unsigned flags) {
        char* raw = nullptr;
        if (curl_url_get(u.get(), p, &raw, flags) != CURLUE_OK) return std::string();
        CurlString s(raw);
        return std::string(s.get());
    };
    std::string out = part(CURLUPART_SCHEME, 0);
    out += "://";
    out += part(CURLUPART_HOST, 0);
    out += ":";
    out += part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "owner/name" when `url` is an API or resolve URL under the configured endpoint, else "".
std::string repo_of(const std::string& url, const HubConfig& config) {
    if (url.compare(0, config.endpoint.size(), config.endpoint) != 0) return {};
    std::string_view path(url);
    path.remove_prefix(config.endpoint.size());
    for (std::string_view prefix : {"/api/models/", "/"}) {
        if (path.substr(0, prefix.size()) != prefix) continue;
        std::string_view rest = path.substr(prefix.size());
        const size_t slash1 = rest.find('/');
        if (slash1 == std::string_view::npos) continue;
        const size_t slash2 = rest.find('/', slash1 + 1);
        if (slash2 == std::string_view::npos) continue;
        const std::string_view tail = rest.substr(slash2);
        if (prefix == "/" && tail.substr(0, 9) != "/resolve/") continue;
        if (rest.substr(0, 4) == "api/") continue;
        return std::string(rest.substr(0, slash2));
    }
    return {};
}

// `ref` (absolute or relative) resolved against `base`; `ref` itself when either is unparsable.
std::string resolve_url(const std::string& base, const std::string& ref) {
    CurlUrl u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
        curl_url_set(u.get(), CURLUPART_URL, ref.c_str(), 0) != CURLUE_OK) {
        return ref;
    }
    char* raw = nullptr;
    if (curl_url_get(u.get(), CURLUPART_URL, &raw, 0) != CURLUE_OK) return ref;
    CurlString s(raw);
    return std::string(s.get());
}

// State of one hop (one HTTP response) shared with the curl callbacks.
struct Hop {
    const std::function<bool(const char*, size_t)>* on_data = nullptr;
    const HttpHeadCallback* on_head = nullptr;
    const std::string* url = nullptr;
    bool head_sent = false;
    int status = 0;
    std::string etag, content_range, location, error_code, error_message, link;
    int64_t content_length = -1;
    std::string error_body;
    bool cancelled = false;
    std::exception_ptr failure;

    void reset_headers() {
        status = 0;
        etag.clear();
        content_range.clear();
        location.clear();
        error_code.clear();
        error_message.clear();
        link.clear();
        content_length = -1;
    }
};

size_t on_header(char* buffer, size_t size, size_t count, void* user) {
    auto* hop = static_cast<Hop*>(user);
    const size_t n = size * count;
    std::string_view line(buffer, n);
    if (line.substr(0, 5) == "HTTP/") {  // a new response (after 100 Continue, too)
        hop->reset_headers();
        const size_t sp = line.find(' ');
        if (sp != std::string_view::npos) {
            int code = 0;
            for (size_t i = sp + 1;
                 i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])); ++i) {
                code = code * 10 + (line[i] - '0');
            }
            hop->status = code;
        }
        return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    const std::string_view name = line.substr(0, colon + 1);
    const std::string_view value = trim(line.substr(colon + 1));
    auto is = [&](std::string_view h) {
        return name.size() == h.size() && iequals_prefix(name, h);
    };
    if (is("etag:")) {
        std::string_view v = value;
        if (v.substr(0, 2) == "W/") v.remove_prefix(2);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        hop->etag = std::string(v);
    } else if (is("content-range:")) {
        hop->content_range = std::string(value);
    } else if (is("content-length:")) {
        try {
            hop->content_length = std::stoll(std::string(value));
        } catch (const std::exception&) {
            hop->content_length = -1;
        }
    } else if (is("link:")) {
        if (!hop->link.empty()) hop->link += ", ";
        hop->link += std::string(value);
    } else if (is("x-error-code:")) {
        hop->error_code = std::string(value);
    } else if (is("x-error-message:")) {
        hop->error_message = std::string(value);
    }
    return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* hop = static_cast<Hop*>(user);
    const size_t n = size * count;
    if (hop->status < 200 || hop->status >= 300) {
        if (hop->error_body.size() < kMaxErrorBody) {
            hop->error_body.append(data, std::min(n, kMaxErrorBody - hop->error_body.size()));
        }
        return n;
    }
    try {
        if (!hop->head_sent) {
            hop->head_sent = true;
            if (hop->on_head && *hop->on_head) {
                HttpResponse head;
                head.status = hop->status;
                head.effective_url = *hop->url;
                head.etag = hop->etag;
                head.content_range = hop->content_range;
                head.content_length = hop->content_length;
                (*hop->on_head)(head);
            }
        }
        if (!(*hop->on_data)(data, n)) {
            hop->cancelled = true;
            return 0;
        }
    } catch (...) {
        hop->failure = std::current_exception();
        return 0;
    }
    return n;
}

bool is_authorization(const std::string& header) {
    return iequals_prefix(header, "authorization:");
}

[[noreturn]] void throw_for_status(const Hop& hop, const std::string& url,
                                   const HubConfig& config) {
    const int s = hop.status;
    const std::string repo = repo_of(url, config);
    const std::string what = repo.empty() ? url : "repo " + repo;
    std::string detail = hop.error_message;
    if (detail.empty() && !hop.error_body.empty() && hop.error_body.size() < 300 &&
        hop.error_body.find('<') == std::string::npos) {
        detail = std::string(trim(hop.error_body));
    }
    auto with_detail = [&](std::string msg) {
        if (!detail.empty()) msg += " (" + detail + ")";
        return msg;
    };
    using K = HubError::Kind;
    if (s == 404) {
        const std::string msg = repo.empty() || hop.error_code == "EntryNotFound" ||
                                        hop.error_code == "RevisionNotFound"
                                    ? "not found: " + url
                                    : "not found: " + url + " (does " + what + " exist?)";
        throw HubError(K::NotFound, s, with_detail(msg));
    }
    if (s == 401 || s == 403) {
        // The hub answers 401 RepoNotFound for a missing repo too when no token is sent.
        std::string msg = what + " is gated or private";
        if (hop.error_code == "RepoNotFound") msg += " (or does not exist)";
        msg += config.token.empty() ? ": set HF_TOKEN to a token with access"
                                    : ": the token in HF_TOKEN has no access to it";
        throw HubError(K::Unauthorized, s, msg + " (HTTP " + std::to_string(s) + ")");
    }
    if (s == 416) {
        throw HubError(K::RangeNotSatisfiable, s, "range not satisfiable (HTTP 416) for " + url);
    }
    if (s == 429 || s >= 500) {
        throw HubError(K::Network, s,
                       with_detail("server error HTTP " + std::to_string(s) + " for " + url));
    }
    throw HubError(K::BadResponse, s,
                   with_detail("unexpected HTTP " + std::to_string(s) + " for " + url));
}

}  // namespace

namespace {

// http_get; `accept_compressed` lets the server gzip the body (JSON only: file bodies must keep
// their Content-Length meaning the file's bytes).
HttpResponse get(const HttpRequest& req,
                 const std::function<bool(const char* data, size_t size)>& on_data,
                 const HttpHeadCallback& on_head, bool accept_compressed) {
    static const HubConfig kDefaults;
    const HubConfig& config = req.config ? *req.config : kDefaults;
    if (config.offline) {
        throw HubError(HubError::Kind::Offline, 0,
                       "offline mode (HF_HUB_OFFLINE=1): not fetching " + req.url);
    }
    global_init();
    CurlEasy curl(curl_easy_init());
    if (!curl) throw HubError(HubError::Kind::Network, 0, "cannot initialise libcurl");

    const std::string first_origin = origin_of(req.url);
    std::string url = req.url;
    for (int hop_index = 0;; ++hop_index) {
        if (hop_index > kMaxRedirects) {
            throw HubError(HubError::Kind::BadResponse, 0, "too many redirects from " + req.url);
        }
        const bool same_origin = origin_of(url) == first_origin;
        CurlSlist headers;
        auto add_header = [&](const std::string& h) {
            curl_slist* next = curl_slist_append(headers.get(), h.c_str());
            if (!next) throw HubError(HubError::Kind::Network, 0, "out of memory in libcurl");
            static_cast<void>(headers.release());
            headers.reset(next);
        };
        for (const std::string& h : req.headers) {
            if (!is_authorization(h) || same_origin) add_header(h);
        }
        if (!config.token.empty() && same_origin)
            add_header("Authorization: Bearer " + config.token);

        Hop hop;
        hop.on_data = &on_data;
        hop.on_head = &on_head;
        hop.url = &url;
        char error_text[CURL_ERROR_SIZE] = {};
        CURL* h = curl.get();
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, config.connect_timeout_s);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, config.low_speed_timeout_s);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hop);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &hop);
        std::string range;
        if (req.range_begin >= 0) {
            range = std::to_string(req.range_begin) + "-";
            if (req.range_end >= 0) range += std::to_string(req.range_end);
            curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());
        } else if (accept_compressed) {
            curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // JSON may come compressed
        }

        const CURLcode rc = curl_easy_perform(h);
        if (hop.failure) std::rethrow_exception(hop.failure);
        if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && hop.cancelled)) {
            const std::string why = error_text[0] ? error_text : curl_easy_strerror(rc);
            throw HubError(HubError::Kind::Network, 0, "cannot fetch " + url + ": " + why);
        }
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        hop.status = static_cast<int>(code);
        if (hop.status >= 300 && hop.status < 400) {
            char* next = nullptr;
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next);
            if (next && *next && hop.status != 304) {
                url = next;
                continue;
            }
        }
        if (hop.status < 200 || hop.status >= 300) throw_for_status(hop, url, config);

        HttpResponse out;
        out.status = hop.status;
        out.effective_url = url;
        out.etag = std::move(hop.etag);
        out.content_range = std::move(hop.content_range);
        out.content_length = hop.content_length;
        out.cancelled = hop.cancelled;
        if (const std::string next = link_next_target(hop.link); !next.empty()) {
            out.next_link = resolve_url(url, next);
        }
        return out;
    }
}

}  // namespace

std::string link_next_target(const std::string& link_header) {
    // Entries "<target>; param; param", separated by commas outside <...>.
    std::string_view rest(link_header);
    while (!rest.empty()) {
        const size_t open = rest.find('<');
        if (open == std::string_view::npos) return {};
        const size_t close = rest.find('>', open + 1);
        if (close == std::string_view::npos) return {};
        const std::string_view target = rest.substr(open + 1, close - open - 1);
        rest.remove_prefix(close + 1);
        const size_t next_entry = rest.find('<');
        std::string_view params = rest.substr(0, next_entry);
        // rel="next", rel=next or rel="next prev" (space separated relation types).
        while (!params.empty()) {
            const size_t semi = params.find(';');
            std::string_view param = trim(params.substr(0, semi));
            params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
            while (!param.empty() && param.back() == ',')
                param = trim(param.substr(0, param.size() - 1));
            if (param.size() < 4 || !iequals_prefix(param, "rel")) continue;
            std::string_view v = trim(param.substr(3));
            if (v.empty() || v.front() != '=') continue;
            v = trim(v.substr(1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            for (size_t p = 0; p <= v.size();) {
                const size_t sp = std::min(v.find(' ', p), v.size());
                const std::string_view rel = v.substr(p, sp - p);
                if (rel.size() == 4 && iequals_prefix(rel, "next")) return std::string(target);
                p = sp + 1;
            }
        }
        if (next_entry == std::string_view::npos) return {};
        rest.remove_prefix(next_entry);
    }
    return {};
}

HttpResponse http_get(const HttpRequest& req,
                      const std::function<bool(const char* data, size_t size)>& on_data,
                      const HttpHeadCallback& on_head) {
    return get(req, on_data, on_head, false);
}

std::string http_get_text(const HttpRequest& req, HttpResponse* response) {
    std::string body;
    bool too_big = false;
    HttpResponse resp = get(
        req,
        [&](const char* data, size_t size) {
            if (body.size() + size > kMaxTextBody) {
                too_big = true;
                return false;
            }
            body.append(data, size);
            return true;
        },
        {}, true);
    if (too_big) {
        throw HubError(HubError::Kind::BadResponse, 200,
                       "response from " + req.url + " is larger than 64 MiB");
    }
    if (response) *response = std::move(resp);
    return body;
}

}  // namespace folio::hub
