#include "server/openai_protocol.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>

#include "server/api_error.h"
#include "server/json_fields.h"
#include "tokenizer/vocab.h"

namespace folio::server {

namespace {

constexpr float kFloatMax = 3.0e38f;

float get_float(const json& body, const char* key, double lo, double hi, float fallback) {
    auto v = get_number(body, key, lo, hi);
    return v ? static_cast<float>(*v) : fallback;
}

// Checks a prompt entry: text or a token-id array (validated against the vocab later).
PromptInput prompt_from(const json& v, const std::string& param) {
    PromptInput p;
    if (v.is_string()) {
        p.text = v.get<std::string>();
        if (p.text.empty()) throw bad_param(param, param + " must not be empty");
        return p;
    }
    if (v.is_array()) {
        if (v.empty()) throw bad_param(param, param + " must not be empty");
        for (size_t i = 0; i < v.size(); ++i) {
            if (!v[i].is_number_integer() && !v[i].is_number_unsigned())
                throw bad_param(param, param + "[" + std::to_string(i) +
                                           "] must be an integer token id (got " + type_name(v[i]) +
                                           ")");
        }
        p.is_text = false;
        p.tokens = v;
        return p;
    }
    throw bad_param(
        param, param + " must be a string or an array of token ids (got " + type_name(v) + ")");
}

// string | [string] | [int] | [[int]]: the four prompt shapes of /v1/completions and
// /v1/embeddings.
std::vector<PromptInput> parse_prompts(const json& body, const char* key,
                                       const RequestLimits& limits) {
    const json* v = find_field(body, key);
    if (!v) throw bad_param(key, std::string(key) + " is required");
    std::vector<PromptInput> out;
    if (v->is_string()) {
        out.push_back(prompt_from(*v, key));
    } else if (v->is_array()) {
        if (v->empty()) throw bad_param(key, std::string(key) + " must not be empty");
        const json& first = (*v)[0];
        if (first.is_number()) {
            out.push_back(prompt_from(*v, key));
        } else {
            if (v->size() > static_cast<size_t>(limits.max_prompts))
                throw bad_param(key, std::string(key) + " has " + std::to_string(v->size()) +
                                         " entries, more than the limit of " +
                                         std::to_string(limits.max_prompts));
            for (size_t i = 0; i < v->size(); ++i)
                out.push_back(
                    prompt_from((*v)[i], std::string(key) + "[" + std::to_string(i) + "]"));
        }
    } else {
        throw bad_param(key, std::string(key) +
                                 " must be a string, an array of strings, an array of token ids "
                                 "or an array of token-id arrays (got " +
                                 type_name(*v) + ")");
    }
    return out;
}

// Chat messages: an array of {role, content, ...}; content a string, null (assistant tool
// calls) or an array of {"type": "text", "text"} parts, which are joined into one string.
json normalize_messages(const json& body) {
    const json* v = find_field(body, "messages");
    if (!v) throw bad_param("messages", "messages is required");
    if (!v->is_array())
        throw bad_param("messages", "messages must be an array (got " + type_name(*v) + ")");
    if (v->empty()) throw bad_param("messages", "messages must not be empty");
    json out = json::array();
    for (size_t i = 0; i < v->size(); ++i) {
        const std::string param = "messages[" + std::to_string(i) + "]";
        const json& m = (*v)[i];
        if (!m.is_object())
            throw bad_param(param, param + " must be an object (got " + type_name(m) + ")");
        auto role_it = m.find("role");
        if (role_it == m.end() || !role_it->is_string())
            throw bad_param(param + ".role", param + ".role must be a string");
        std::string role = role_it->get<std::string>();
        if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
            role != "tool" && role != "function")
            throw bad_param(param + ".role",
                            param +
                                ".role must be one of system, developer, user, assistant, "
                                "tool (got '" +
                                role + "')");
        json msg = m;
        if (role == "developer") msg["role"] = "system";
        auto content_it = m.find("content");
        if (content_it == m.end() || content_it->is_null()) {
            if (role != "assistant")
                throw bad_param(param + ".content", param + ".content is required");
            msg["content"] = "";
        } else if (content_it->is_array()) {
            std::string text;
            for (size_t k = 0; k < content_it->size(); ++k) {
                const std::string pp = param + ".content[" + std::to_string(k) + "]";
                const json& part = (*content_it)[k];
                if (!part.is_object())
                    throw bad_param(pp, pp + " must be an object (got " + type_name(part) + ")");
                auto type_it = part.find("type");
                if (type_it == part.end() || !type_it->is_string())
                    throw bad_param(pp + ".type", pp + ".type must be a string");
                if (*type_it != "text")
                    throw bad_param(pp + ".type", pp + ".type '" + type_it->get<std::string>() +
                                                      "' is not supported (only \"text\" parts)");
                auto text_it = part.find("text");
                if (text_it == part.end() || !text_it->is_string())
                    throw bad_param(pp + ".text", pp + ".text must be a string");
                text += text_it->get<std::string>();
            }
            msg["content"] = std::move(text);
        } else if (!content_it->is_string()) {
            throw bad_param(param + ".content",
                            param + ".content must be a string or an array of text parts (got " +
                                type_name(*content_it) + ")");
        }
        out.push_back(std::move(msg));
    }
    return out;
}

void parse_sampling(const json& body, Endpoint endpoint, const RequestLimits& limits,
                    GenerationRequest& r) {
    SamplingParams& s = r.sampling;
    s.temperature = get_float(body, "temperature", 0.0, 2.0, 1.0f);
    s.top_p = get_float(body, "top_p", 0.0, 1.0, 1.0f);
    s.presence_penalty = get_float(body, "presence_penalty", -2.0, 2.0, 0.0f);
    s.frequency_penalty = get_float(body, "frequency_penalty", -2.0, 2.0, 0.0f);
    // vLLM's extra parameters.
    if (auto k = get_int(body, "top_k", -1, 1 << 30)) s.top_k = static_cast<int32_t>(*k);
    s.min_p = get_float(body, "min_p", 0.0, 1.0, 0.0f);
    s.repetition_penalty = get_float(body, "repetition_penalty", 0.0, kFloatMax, 1.0f);
    if (auto b = get_bool(body, "ignore_eos")) s.ignore_eos = *b;
    if (auto m = get_int(body, "min_tokens", 0, limits.max_tokens))
        s.min_tokens = static_cast<int32_t>(*m);
    if (const json* ids = find_field(body, "stop_token_ids"))
        s.stop_token_ids = as_token_array(*ids, "stop_token_ids", int64_t{1} << 31);

    // max_completion_tokens supersedes max_tokens (OpenAI deprecated the latter for chat).
    std::optional<int64_t> max_tokens = get_int(body, "max_tokens", 1, INT32_MAX);
    if (auto mct = get_int(body, "max_completion_tokens", 1, INT32_MAX)) max_tokens = mct;
    const char* max_param =
        find_field(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (max_tokens && *max_tokens > limits.max_tokens)
        throw bad_param(max_param, std::string(max_param) +
                                       " must be <= " + std::to_string(limits.max_tokens) +
                                       " (got " + std::to_string(*max_tokens) + ")");
    if (max_tokens) {
        s.max_tokens = static_cast<int32_t>(*max_tokens);
    } else if (endpoint == Endpoint::Completions) {
        s.max_tokens = 16;  // the OpenAI default for /v1/completions
    }

    if (auto n = get_int(body, "n", 1, limits.max_n)) s.n = static_cast<int32_t>(*n);
    if (auto best_of = get_int(body, "best_of", 1, limits.max_n); best_of && *best_of != s.n)
        throw bad_param("best_of", "best_of other than n is not supported");
    if (const json* stop = find_field(body, "stop")) {
        s.stop = as_string_list(*stop, "stop");
        for (const auto& str : s.stop)
            if (str.empty()) throw bad_param("stop", "stop must not contain empty strings");
    }
    if (const json* seed = find_field(body, "seed"))
        s.seed = static_cast<uint64_t>(as_int(*seed, "seed", INT64_MIN, INT64_MAX));

    if (const json* bias = find_field(body, "logit_bias")) {
        if (!bias->is_object())
            throw bad_param("logit_bias",
                            "logit_bias must be an object mapping token ids to "
                            "biases (got " +
                                type_name(*bias) + ")");
        for (const auto& [key, value] : bias->items()) {
            int64_t id = -1;
            try {
                size_t used = 0;
                id = std::stoll(key, &used);
                if (used != key.size()) id = -1;
            } catch (const std::exception&) {
                id = -1;
            }
            if (id < 0 || id > INT32_MAX)
                throw bad_param("logit_bias",
                                "logit_bias keys must be token ids (got '" + key + "')");
            if (!value.is_number())
                throw bad_param("logit_bias", "logit_bias values must be numbers in [-100, 100]");
            double b = value.get<double>();
            if (!(b >= -100.0 && b <= 100.0))
                throw bad_param("logit_bias", "logit_bias values must be in [-100, 100] (got " +
                                                  value.dump() + ")");
            s.logit_bias[static_cast<int32_t>(id)] = static_cast<float>(b);
        }
    }

    if (endpoint == Endpoint::Completions) {
        // Integer logprobs: that many alternatives per token (0: the chosen token only).
        const json* lp = find_field(body, "logprobs");
        if (lp && lp->is_boolean())
            throw bad_param("logprobs", "logprobs must be an integer for /v1/completions");
        if (auto n = get_int(body, "logprobs", 0, SamplingParams::kMaxLogprobs)) {
            r.logprobs = true;
            s.logprobs = static_cast<int32_t>(*n);
        }
    } else {
        r.logprobs = get_bool(body, "logprobs").value_or(false);
        auto top = get_int(body, "top_logprobs", 0, SamplingParams::kMaxLogprobs);
        if (top && *top > 0 && !r.logprobs)
            throw bad_param("top_logprobs", "top_logprobs requires logprobs to be true");
        if (r.logprobs) s.logprobs = static_cast<int32_t>(top.value_or(0));
    }
}

}  // namespace

std::string parse_model_field(const json& body) {
    return get_string(body, "model").value_or("");
}

GenerationRequest parse_generation_request(const json& body, Endpoint endpoint,
                                           const RequestLimits& limits) {
    GenerationRequest r;
    r.endpoint = endpoint;
    r.model = parse_model_field(body);
    r.stream = get_bool(body, "stream").value_or(false);
    if (const json* so = find_field(body, "stream_options")) {
        if (!so->is_object()) throw bad_param("stream_options", "stream_options must be an object");
        r.include_usage = get_bool(*so, "include_usage").value_or(false);
    }
    r.user = get_string(body, "user").value_or("");
    parse_sampling(body, endpoint, limits, r);

    if (endpoint == Endpoint::Completions) {
        r.prompts = parse_prompts(body, "prompt", limits);
        if (get_bool(body, "echo").value_or(false))
            throw bad_param("echo", "echo is not supported");
        if (auto suffix = get_string(body, "suffix"); suffix && !suffix->empty())
            throw bad_param("suffix", "suffix is not supported");
        if (static_cast<int64_t>(r.prompts.size()) * r.sampling.n > limits.max_prompts)
            throw bad_param("n", "n times the number of prompts must be <= " +
                                     std::to_string(limits.max_prompts));
    } else {
        r.messages = normalize_messages(body);
        if (const json* tools = find_field(body, "tools")) {
            if (!tools->is_array()) throw bad_param("tools", "tools must be an array");
            r.tools = *tools;
        }
        if (const json* rf = find_field(body, "response_format")) {
            if (!rf->is_object())
                throw bad_param("response_format", "response_format must be an object");
            auto type = get_string(*rf, "type").value_or("text");
            if (type != "text")
                throw bad_param("response_format",
                                "response_format type '" + type + "' is not supported");
        }
    }
    return r;
}

EmbeddingRequest parse_embedding_request(const json& body, const RequestLimits& limits) {
    EmbeddingRequest r;
    r.model = parse_model_field(body);
    r.inputs = parse_prompts(body, "input", limits);
    r.user = get_string(body, "user").value_or("");
    auto format = get_string(body, "encoding_format").value_or("float");
    if (format != "float" && format != "base64")
        throw bad_param("encoding_format",
                        "encoding_format must be \"float\" or \"base64\" (got '" + format + "')");
    r.base64 = format == "base64";
    if (find_field(body, "dimensions"))
        throw bad_param("dimensions", "dimensions is not supported");
    return r;
}

json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
    return {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

namespace {
std::string piece(const Vocab& vocab, int32_t id) {
    try {
        return vocab.token_to_piece(id, true);
    } catch (const std::exception&) {
        return {};
    }
}
json bytes_of(const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
}
}  // namespace

json completion_logprobs_json(const Vocab& vocab, const std::vector<PositionLogprobs>& lps,
                              size_t& offset) {
    json tokens = json::array(), token_logprobs = json::array(), top = json::array(),
         offsets = json::array();
    for (const auto& p : lps) {
        std::string text = piece(vocab, p.token);
        tokens.push_back(text);
        token_logprobs.push_back(p.logprob);
        json alts = json::object();
        for (const auto& t : p.top) {
            std::string k = piece(vocab, t.token);
            if (!alts.contains(k)) alts[k] = t.logprob;
        }
        top.push_back(std::move(alts));
        offsets.push_back(offset);
        offset += text.size();
    }
    return {{"tokens", std::move(tokens)},
            {"token_logprobs", std::move(token_logprobs)},
            {"top_logprobs", std::move(top)},
            {"text_offset", std::move(offsets)}};
}

json chat_logprobs_json(const Vocab& vocab, const std::vector<PositionLogprobs>& lps) {
    json content = json::array();
    for (const auto& p : lps) {
        std::string text = piece(vocab, p.token);
        json alts = json::array();
        for (const auto& t : p.top) {
            std::string alt = piece(vocab, t.token);
            alts.push_back({{"token", alt}, {"logprob", t.logprob}, {"bytes", bytes_of(alt)}});
        }
        content.push_back({{"token", text},
                           {"logprob", p.logprob},
                           {"bytes", bytes_of(text)},
                           {"top_logprobs", std::move(alts)}});
    }
    return {{"content", std::move(content)}};
}

std::string finish_reason_string(std::optional<FinishReason> r) {
    return r ? finish_reason_name(*r) : "";
}

std::string make_id(const std::string& prefix) {
    static std::atomic<uint64_t> counter{0};
    thread_local std::mt19937_64 rng(std::random_device{}() ^
                                     (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull));
    static const char* hex = "0123456789abcdef";
    std::string id = prefix;
    for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
    return id;
}

int64_t unix_time_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string base64_floats(const std::vector<float>& values) {
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<uint8_t> bytes(values.size() * 4);
    for (size_t i = 0; i < values.size(); ++i) {
        uint32_t u = 0;
        std::memcpy(&u, &values[i], 4);
        for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<uint8_t>(u >> (8 * b));
    }
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t chunk = uint32_t{bytes[i]} << 16;
        if (i + 1 < bytes.size()) chunk |= uint32_t{bytes[i + 1]} << 8;
        if (i + 2 < bytes.size()) chunk |= bytes[i + 2];
        out += alphabet[(chunk >> 18) & 63];
        out += alphabet[(chunk >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(chunk >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? alphabet[chunk & 63] : '=';
    }
    return out;
}

std::vector<uint8_t> base64_decode(const std::string& text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    if (text.size() % 4 != 0) throw std::invalid_argument("base64 length is not a multiple of 4");
    std::vector<uint8_t> out;
    for (size_t i = 0; i < text.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            char c = text[i + k];
            if (c == '=' && i + 4 == text.size() && k >= 2) {
                v[k] = 0;
                ++pad;
            } else {
                v[k] = value(c);
                if (v[k] < 0 || pad) throw std::invalid_argument("invalid base64");
            }
        }
        uint32_t chunk = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) |
                         uint32_t(v[3]);
        out.push_back(static_cast<uint8_t>(chunk >> 16));
        if (pad < 2) out.push_back(static_cast<uint8_t>(chunk >> 8));
        if (pad < 1) out.push_back(static_cast<uint8_t>(chunk));
    }
    return out;
}

}  // namespace folio::server
