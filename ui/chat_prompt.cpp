#include "chat_prompt.h"

#include <algorithm>

#include "chat/chat_template.h"
#include "folio/engine.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

std::vector<int32_t> chatPromptTokens(const folio::Engine& engine,
                                      const folio::chat::ChatTemplate& tmpl,
                                      const nlohmann::json& messages) {
    const folio::Vocab& vocab = engine.model().vocab();
    const std::string text =
        tmpl.render(messages, folio::chat::RenderOptions::for_model(engine.model()));
    bool templateHasBos = false;
    if (vocab.bos() != folio::kNoToken) {
        const std::string_view bosText = vocab.token_text(vocab.bos());
        templateHasBos = !bosText.empty() && std::string_view(text).starts_with(bosText);
    }
    std::vector<int32_t> tokens = vocab.tokenize(text, /*add_special=*/false, true);
    if (vocab.add_bos() && vocab.bos() != folio::kNoToken && !templateHasBos) {
        tokens.insert(tokens.begin(), vocab.bos());
    }
    return tokens;
}

namespace {

// The index where the turn after the one starting at `from` begins (the next user message).
size_t nextTurn(const nlohmann::json& messages, size_t from) {
    size_t i = from + 1;
    while (i < messages.size() && messages[i].value("role", "") != "user") ++i;
    return i;
}

nlohmann::json withSystemPrompt(const std::string& systemPrompt, const nlohmann::json& messages,
                                size_t from) {
    nlohmann::json out = nlohmann::json::array();
    if (!systemPrompt.empty()) out.push_back({{"role", "system"}, {"content", systemPrompt}});
    for (size_t i = from; i < messages.size(); ++i) out.push_back(messages[i]);
    return out;
}

}  // namespace

FittedChatPrompt fitChatPrompt(const folio::Engine& engine, const folio::chat::ChatTemplate& tmpl,
                               const std::string& systemPrompt, const nlohmann::json& messages,
                               int64_t budget) {
    const auto promptFrom = [&](size_t from) {
        return chatPromptTokens(engine, tmpl, withSystemPrompt(systemPrompt, messages, from));
    };
    const auto fits = [&](const std::vector<int32_t>& tokens) {
        return static_cast<int64_t>(tokens.size()) <= budget;
    };
    std::vector<int32_t> tokens = promptFrom(0);
    if (fits(tokens)) return {std::move(tokens), 0};

    // Where the prompt may start: the first message, then each later turn's user message.
    std::vector<size_t> starts{0};
    for (size_t next = nextTurn(messages, 0); next < messages.size();
         next = nextTurn(messages, next)) {
        starts.push_back(next);
    }
    size_t lo = 0, hi = starts.size() - 1;
    if (hi > 0) tokens = promptFrom(starts[hi]);  // the newest turn alone
    if (!fits(tokens)) {
        throw ChatPromptTooLong(
            "the message is too long for the model's context: the prompt "
            "needs " +
            std::to_string(tokens.size()) + " tokens, and " + std::to_string(budget) +
            " fit beside room for the answer");
    }
    // Leaving out turns only shortens the prompt, so the fewest to leave out is found by
    // bisection (a long conversation is rendered a few times, not once per turn).
    // Invariant: starting at starts[lo] does not fit; starting at starts[hi] does (`tokens`).
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        std::vector<int32_t> candidate = promptFrom(starts[mid]);
        if (fits(candidate)) {
            hi = mid;
            tokens = std::move(candidate);
        } else {
            lo = mid;
        }
    }
    return {std::move(tokens), static_cast<int>(starts[hi])};
}

int64_t chatPromptBudget(int64_t contextLength, const folio::SamplingParams& sampling) {
    const int64_t answer =
        std::min<int64_t>(sampling.max_tokens.value_or(contextLength / 2), contextLength / 2);
    return std::max<int64_t>(1, contextLength - std::max<int64_t>(answer, 1));
}

folio::SamplingParams withConversationSampling(folio::SamplingParams base,
                                               const std::string& overridesJson) {
    if (overridesJson.empty()) return base;
    const nlohmann::json j =
        nlohmann::json::parse(overridesJson, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return base;
    if (const auto t = j.find("temperature"); t != j.end() && t->is_number()) {
        const double v = t->get<double>();
        if (validChatTemperature(v)) base.temperature = static_cast<float>(v);
    }
    if (const auto p = j.find("top_p"); p != j.end() && p->is_number()) {
        const double v = p->get<double>();
        if (validChatTopP(v)) base.top_p = static_cast<float>(v);
    }
    if (const auto m = j.find("max_tokens"); m != j.end() && m->is_number_integer()) {
        const int64_t v = m->get<int64_t>();
        if (validChatMaxTokens(v)) base.max_tokens = static_cast<int32_t>(v);
    }
    return base;
}
