#pragma once
// The OpenAI wire format: request bodies → validated parameters (model independent), and the
// JSON pieces of responses and stream chunks. Everything that reads a request throws ApiError
// (400, naming the field); nothing here touches an engine.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "folio/request_output.h"
#include "folio/sampling_params.h"

namespace folio {
class Vocab;
}

namespace folio::server {

using json = nlohmann::json;

enum class Endpoint { Completions, Chat };

// One completions prompt as the client gave it: text or token ids.
struct PromptInput {
    bool is_text = true;
    std::string text;
    json tokens;  // the raw token array, checked against the vocabulary later
};

struct RequestLimits {
    int32_t max_tokens = 32768;  // largest max_tokens / max_completion_tokens
    int32_t max_n = 128;         // largest n
    int32_t max_prompts = 256;   // most prompts (completions) or inputs (embeddings) per request
};

struct GenerationRequest {
    Endpoint endpoint = Endpoint::Completions;
    std::string model;  // empty: the default model
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
    SamplingParams sampling;     // sampling.logprobs set when logprobs were asked
    bool logprobs = false;       // return logprobs (completions: `logprobs` given; chat: true)
    std::string user;

    std::vector<PromptInput> prompts;  // completions: one or more
    json messages;                     // chat: normalized (string contents, system roles)
    json tools;                        // chat: passed to the template when present
};

// Parses /v1/completions or /v1/chat/completions. Token ids and logit_bias keys are checked
// against the vocabulary later (SamplingParams::validate with the model's vocab size).
GenerationRequest parse_generation_request(const json& body, Endpoint endpoint,
                                           const RequestLimits& limits);

struct EmbeddingRequest {
    std::string model;
    std::vector<PromptInput> inputs;
    bool base64 = false;
    std::string user;
};
EmbeddingRequest parse_embedding_request(const json& body, const RequestLimits& limits);

// The `model` field: absent → "", a non-string → 400.
std::string parse_model_field(const json& body);

// ---- responses ----------------------------------------------------------------------------

// {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details": {...}}
json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

// Legacy completions logprobs: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}.
// `text_offset` continues from `offset` (bytes of this choice's text so far), which it advances.
json completion_logprobs_json(const Vocab& vocab, const std::vector<PositionLogprobs>& lps,
                              size_t& offset);
// Chat logprobs: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}.
json chat_logprobs_json(const Vocab& vocab, const std::vector<PositionLogprobs>& lps);

// "stop", "length", "abort", "error".
std::string finish_reason_string(std::optional<FinishReason> r);

// A random id such as "cmpl-3f9a..." (24 hex digits after the prefix).
std::string make_id(const std::string& prefix);
int64_t unix_time_now();

// Little-endian float32 bytes, base64 encoded (OpenAI's encoding_format "base64").
std::string base64_floats(const std::vector<float>& values);
// Decoder used by tests and tools; throws std::invalid_argument on malformed input.
std::vector<uint8_t> base64_decode(const std::string& text);

}  // namespace folio::server
