#pragma once
// API-key checks (Authorization: Bearer KEY, constant-time comparison) and CORS for listed
// origins. Stateless helpers over the ServerConfig lists.
#include <string>
#include <string_view>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace folio::server {

// Whether `a` equals `b`, in time that depends only on their lengths.
bool constant_time_equals(std::string_view a, std::string_view b);

// True when `keys` is empty or the request carries "Authorization: Bearer <one of keys>".
// Every key is compared, so the time taken does not reveal which (if any) matched.
bool authorized(const httplib::Request& req, const std::vector<std::string>& keys);

// The request's Origin when it is allowed by `origins` ("*" allows any), else "".
std::string allowed_origin(const httplib::Request& req, const std::vector<std::string>& origins);

// Adds Access-Control-Allow-Origin (and Vary: Origin) for an allowed origin; nothing otherwise.
void add_cors_headers(const httplib::Request& req, httplib::Response& res,
                      const std::vector<std::string>& origins);

// Answers a CORS preflight (OPTIONS): 204, with the allow headers for a listed origin only.
void answer_preflight(const httplib::Request& req, httplib::Response& res,
                      const std::vector<std::string>& origins);

// True for "127.0.0.1", "::1", "localhost" and the rest of 127.0.0.0/8.
bool is_loopback_host(const std::string& host);

}  // namespace folio::server
