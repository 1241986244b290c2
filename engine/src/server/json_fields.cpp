#include "server/json_fields.h"

#include <cmath>

#include "server/api_error.h"

namespace folio::server {

json parse_json_object(const std::string& body, int max_depth) {
    if (body.empty()) throw ApiError(400, "the request body is empty; expected a JSON object");
    json j;
    try {
        // The callback sees every value's depth before the DOM grows: deep nesting is refused
        // without recursion anywhere.
        j = json::parse(body, [max_depth](int depth, json::parse_event_t, json&) {
            if (depth > max_depth)
                throw ApiError(400, "the request body nests deeper than " +
                                        std::to_string(max_depth) + " levels");
            return true;
        });
    } catch (const ApiError&) {
        throw;
    } catch (const json::exception& e) {
        throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
    }
    if (!j.is_object())
        throw ApiError(400, "the request body must be a JSON object (got " + type_name(j) + ")");
    return j;
}

std::string type_name(const json& v) {
    if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
    if (v.is_number_float()) return "number";
    return v.type_name();
}

const json* find_field(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<bool> get_bool(const json& obj, const char* key) {
    const json* v = find_field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_boolean())
        throw bad_param(key, std::string(key) + " must be a boolean (got " + type_name(*v) + ")");
    return v->get<bool>();
}

std::optional<std::string> get_string(const json& obj, const char* key) {
    const json* v = find_field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_string())
        throw bad_param(key, std::string(key) + " must be a string (got " + type_name(*v) + ")");
    return v->get<std::string>();
}

int64_t as_int(const json& v, const std::string& param, int64_t lo, int64_t hi) {
    int64_t x = 0;
    if (v.is_number_integer()) {
        x = v.get<int64_t>();
    } else if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(hi))
            throw bad_param(param, param + " must be <= " + std::to_string(hi) + " (got " +
                                       std::to_string(u) + ")");
        x = static_cast<int64_t>(u);
    } else if (v.is_number_float()) {
        double d = v.get<double>();
        if (!std::isfinite(d) || d != std::floor(d) || d < -9.0e18 || d > 9.0e18)
            throw bad_param(param, param + " must be an integer (got " + v.dump() + ")");
        x = static_cast<int64_t>(d);
    } else {
        throw bad_param(param, param + " must be an integer (got " + type_name(v) + ")");
    }
    if (x < lo)
        throw bad_param(param, param + " must be >= " + std::to_string(lo) + " (got " +
                                   std::to_string(x) + ")");
    if (x > hi)
        throw bad_param(param, param + " must be <= " + std::to_string(hi) + " (got " +
                                   std::to_string(x) + ")");
    return x;
}

std::optional<int64_t> get_int(const json& obj, const char* key, int64_t lo, int64_t hi) {
    const json* v = find_field(obj, key);
    if (!v) return std::nullopt;
    return as_int(*v, key, lo, hi);
}

std::optional<double> get_number(const json& obj, const char* key, double lo, double hi) {
    const json* v = find_field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_number())
        throw bad_param(key, std::string(key) + " must be a number (got " + type_name(*v) + ")");
    double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
        json lo_j = lo, hi_j = hi;
        throw bad_param(key, std::string(key) + " must be in [" + lo_j.dump() + ", " + hi_j.dump() +
                                 "] (got " + v->dump() + ")");
    }
    return d;
}

std::vector<int32_t> as_token_array(const json& v, const std::string& param, int64_t n_vocab) {
    if (!v.is_array())
        throw bad_param(param, param + " must be an array of token ids (got " + type_name(v) + ")");
    std::vector<int32_t> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        const json& t = v[i];
        if (!t.is_number_integer() && !t.is_number_unsigned())
            throw bad_param(param, param + "[" + std::to_string(i) +
                                       "] must be an integer token id (got " + type_name(t) + ")");
        out.push_back(static_cast<int32_t>(as_int(t, param + "[" + std::to_string(i) + "]", 0,
                                                  std::max<int64_t>(n_vocab - 1, 0))));
    }
    return out;
}

std::vector<std::string> as_string_list(const json& v, const std::string& param) {
    if (v.is_string()) return {v.get<std::string>()};
    if (!v.is_array())
        throw bad_param(
            param, param + " must be a string or an array of strings (got " + type_name(v) + ")");
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string())
            throw bad_param(param, param + "[" + std::to_string(i) + "] must be a string (got " +
                                       type_name(v[i]) + ")");
        out.push_back(v[i].get<std::string>());
    }
    return out;
}

}  // namespace folio::server
