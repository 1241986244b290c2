#include "server/api_error.h"

namespace folio::server {

std::string ApiError::default_type(int status) {
    // OpenAI answers every 4xx (401 and 404 included) with invalid_request_error.
    return status >= 500 ? "server_error" : "invalid_request_error";
}

nlohmann::json ApiError::to_json() const {
    return error_body(what(), m_type, m_param, m_code);
}

nlohmann::json error_body(const std::string& message, const std::string& type,
                          const std::string& param, const std::string& code) {
    nlohmann::json e = {
        {"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (!param.empty()) e["param"] = param;
    if (!code.empty()) e["code"] = code;
    return {{"error", std::move(e)}};
}

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace folio::server
