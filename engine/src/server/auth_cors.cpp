#include "server/auth_cors.h"

#include <arpa/inet.h>

#include <algorithm>

#include <httplib.h>

namespace folio::server {

bool constant_time_equals(std::string_view a, std::string_view b) {
    // Walk the longer length so that the time does not depend on where a mismatch occurs.
    const size_t n = std::max(a.size(), b.size());
    volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff = static_cast<unsigned char>(diff | (x ^ y));
    }
    return diff == 0;
}

bool authorized(const httplib::Request& req, const std::vector<std::string>& keys) {
    if (keys.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kPrefix = "Bearer ";
    if (header.size() <= kPrefix.size()) return false;
    bool prefix_ok = true;
    for (size_t i = 0; i < kPrefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(kPrefix[i])))
            prefix_ok = false;
    std::string_view token = std::string_view(header).substr(kPrefix.size());
    bool ok = false;
    for (const auto& key : keys) ok = constant_time_equals(token, key) || ok;
    return prefix_ok && ok;
}

std::string allowed_origin(const httplib::Request& req, const std::vector<std::string>& origins) {
    if (origins.empty() || !req.has_header("Origin")) return {};
    std::string origin = req.get_header_value("Origin");
    for (const auto& o : origins)
        if (o == "*" || o == origin) return origin;
    return {};
}

void add_cors_headers(const httplib::Request& req, httplib::Response& res,
                      const std::vector<std::string>& origins) {
    std::string origin = allowed_origin(req, origins);
    if (origin.empty()) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
}

void answer_preflight(const httplib::Request& req, httplib::Response& res,
                      const std::vector<std::string>& origins) {
    res.status = 204;
    std::string origin = allowed_origin(req, origins);
    if (origin.empty()) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    std::string headers = req.get_header_value("Access-Control-Request-Headers");
    res.set_header("Access-Control-Allow-Headers",
                   headers.empty() ? "Authorization, Content-Type" : headers);
    res.set_header("Access-Control-Max-Age", "600");
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") return true;
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return false;
}

}  // namespace folio::server
