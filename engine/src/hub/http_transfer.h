#pragma once
// Low-level HTTP GET over libcurl for the hub client and the downloader.
//
// http_get() follows redirects itself (at most 10 hops) so that it can drop credentials when a
// redirect leaves the original host (scheme, host or port differ), as huggingface_hub does for
// CDN redirects: the Authorization header (from HubConfig::token or from `headers`) is sent only
// to the host of the first URL. Only the body of the final 2xx response reaches `on_data`;
// redirect and error bodies never do.
//
// Errors throw folio::hub::HubError:
//   Offline              HubConfig::offline is set: nothing touches the network
//   Network              connection failure, timeout, body cut short (transient), HTTP 429/5xx
//                        (transient), too many redirects (not transient)
//   NotFound             HTTP 404 (and 401 with X-Error-Code: RepoNotFound)
//   Unauthorized         HTTP 401/403: "repo X is gated or private: set HF_TOKEN ..."
//   RangeNotSatisfiable  HTTP 416
//   BadResponse          any other non-2xx status
// An exception thrown by `on_data` propagates unchanged after the transfer is torn down.
//
// A ranged request answered with 200 (a server that ignores Range) is not an error: check
// HttpResponse::status (206 vs 200) and content_range, or see them in HttpRequest::on_head
// before the first body byte.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "folio/hub.h"

namespace folio::hub {

struct HttpRequest {
    std::string url;
    std::vector<std::string> headers;   // "Name: value" lines, sent on every hop
    int64_t range_begin = -1;           // -1: no Range header
    int64_t range_end = -1;             // inclusive; -1 = to the end
    const HubConfig* config = nullptr;  // token, timeouts, offline; null: anonymous defaults
};

struct HttpResponse;
// Called once with the final 2xx response's status and headers just before its first body byte
// reaches on_data (not at all for an empty body). May throw: the transfer is torn down and the
// exception propagates like one from on_data.
using HttpHeadCallback = std::function<void(const HttpResponse& head)>;

struct HttpResponse {
    int status = 0;               // status of the final response (200, 206, ...)
    std::string effective_url;    // URL of the final response, after redirects
    std::string etag;             // ETag of the final response without quotes or W/ prefix
    std::string content_range;    // Content-Range header of the final response, as sent
    int64_t content_length = -1;  // Content-Length of the final response; -1 when not sent
    bool cancelled = false;       // on_data returned false; the body is incomplete
    // Target of the `Link: <URL>; rel="next"` header (pagination), resolved against the
    // response's URL; empty when there is none.
    std::string next_link;
};

// GET `req.url` and stream the final 2xx body to `on_data` (return false to stop: the call then
// returns normally with `cancelled` set). Throws HubError as described above.
HttpResponse http_get(const HttpRequest& req,
                      const std::function<bool(const char* data, size_t size)>& on_data,
                      const HttpHeadCallback& on_head = {});

// GET a small document (JSON) into a string; `response` (optional) receives the final
// response's status and headers. Throws HubError; BadResponse above 64 MiB.
std::string http_get_text(const HttpRequest& req, HttpResponse* response = nullptr);

// The rel="next" target of a Link header value ("<https://x/y?cursor=a>; rel=\"next\", <...>;
// rel=\"prev\""), unresolved; empty when there is none.
std::string link_next_target(const std::string& link_header);

}  // namespace folio::hub
