#pragma once
// The prompt of a chat reply: the conversation rendered with the model's chat template and
// tokenized, trimmed to fit the model's context.
//
// When the whole conversation does not fit in the budget, the oldest turns are left out, a
// whole turn at a time (a user message and the replies after it); the system prompt and the
// newest turn always stay. FittedChatPrompt::dropped says how many stored messages were left
// out, so the window can show it (never silently).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "folio/sampling_params.h"

namespace folio {
class Engine;
namespace chat {
class ChatTemplate;
}
}  // namespace folio

struct FittedChatPrompt {
    std::vector<int32_t> tokens;
    int dropped = 0;  // oldest messages of `messages` left out
};

// Thrown when even the newest turn alone does not fit; the message says by how much.
class ChatPromptTooLong : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The rendered prompt as tokens. Control-token text in it (from the template) becomes control
// tokens; BOS is added as the vocabulary asks unless the template already printed it.
std::vector<int32_t> chatPromptTokens(const folio::Engine& engine,
                                      const folio::chat::ChatTemplate& tmpl,
                                      const nlohmann::json& messages);

// `messages`: the stored messages, oldest first ({"role", "content"} objects). The prompt must
// leave room for the answer within the engine's context: at most `budget` tokens.
FittedChatPrompt fitChatPrompt(const folio::Engine& engine, const folio::chat::ChatTemplate& tmpl,
                               const std::string& systemPrompt, const nlohmann::json& messages,
                               int64_t budget);

// Tokens a reply's prompt may use: the context less the room kept for the answer (max_tokens,
// at most half the context).
int64_t chatPromptBudget(int64_t contextLength, const folio::SamplingParams& sampling);

// The ranges a conversation's own sampling may take (checked where it is set and where it is
// read back).
inline bool validChatTemperature(double t) {
    return t >= 0.0 && t <= 2.0;
}
inline bool validChatTopP(double p) {
    return p > 0.0 && p <= 1.0;
}
inline bool validChatMaxTokens(int64_t n) {
    return n >= 1 && n <= 1'000'000;
}

// `base` with a conversation's sampling overrides (a JSON object with any of "temperature",
// "top_p", "max_tokens"; see ConversationRecord::sampling) applied. Empty, malformed or
// out-of-range values leave `base` as it is.
folio::SamplingParams withConversationSampling(folio::SamplingParams base,
                                               const std::string& overridesJson);
