#pragma once
// Typed access to optional fields of a request's JSON object. A missing field and an explicit
// null both read as "absent" (std::nullopt), as the OpenAI API treats them. A wrong type or an
// out-of-range value throws ApiError (400) whose message and `param` name the field.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace folio::server {

using json = nlohmann::json;

// Parses a request body: a JSON object at most `max_depth` levels deep. Throws ApiError 400.
json parse_json_object(const std::string& body, int max_depth = 64);

// Field lookups; `obj` must be a JSON object.
const json* find_field(const json& obj, const char* key);  // nullptr when absent or null

std::optional<bool> get_bool(const json& obj, const char* key);
std::optional<std::string> get_string(const json& obj, const char* key);
std::optional<int64_t> get_int(const json& obj, const char* key, int64_t lo, int64_t hi);
std::optional<double> get_number(const json& obj, const char* key, double lo, double hi);

// A value that must be an integer in [lo, hi]; `param` names it in errors.
int64_t as_int(const json& v, const std::string& param, int64_t lo, int64_t hi);
// An array of token ids in [0, n_vocab).
std::vector<int32_t> as_token_array(const json& v, const std::string& param, int64_t n_vocab);
// A string or an array of strings (the `stop` shape).
std::vector<std::string> as_string_list(const json& v, const std::string& param);

// JSON's own type name for messages ("string", "array", ...).
std::string type_name(const json& v);

}  // namespace folio::server
