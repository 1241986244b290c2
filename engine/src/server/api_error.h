#pragma once
// OpenAI-shaped errors: {"error": {"message", "type", "param", "code"}}. Request parsing and the
// route code throw ApiError; the handler boundary (server.cpp) turns it into the response, so no
// exception ever reaches cpp-httplib.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace folio::server {

class ApiError : public std::runtime_error {
  public:
    ApiError(int status, std::string message, std::string param = {}, std::string code = {},
             std::string type = {})
        : std::runtime_error(message),
          m_status(status),
          m_param(std::move(param)),
          m_code(std::move(code)),
          m_type(type.empty() ? default_type(status) : std::move(type)) {}

    int status() const { return m_status; }
    const std::string& param() const { return m_param; }
    const std::string& code() const { return m_code; }
    const std::string& type() const { return m_type; }

    // The response body.
    nlohmann::json to_json() const;

    static std::string default_type(int status);

  private:
    int m_status;
    std::string m_param, m_code, m_type;
};

// 400 invalid_request_error naming `param`.
inline ApiError bad_param(const std::string& param, const std::string& message) {
    return ApiError(400, message, param);
}

// The OpenAI error body; empty param/code become null.
nlohmann::json error_body(const std::string& message, const std::string& type,
                          const std::string& param, const std::string& code);

// Serializes for the wire: invalid UTF-8 (partial token pieces) becomes U+FFFD, never throws.
std::string dump_json(const nlohmann::json& j);

}  // namespace folio::server
