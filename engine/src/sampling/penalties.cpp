#include "sampling/penalties.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace folio {

namespace {

// Per-token state while applying penalties: kSeen | number of occurrences among generated tokens.
// Entries are reset after each call through the list of touched ids, so the cost stays O(window).
constexpr uint32_t kSeen = 0x80000000u;
constexpr uint32_t kCountMask = ~kSeen;

struct PenaltyScratch {
    std::vector<uint32_t> state;
    std::vector<int32_t> touched;
};

thread_local PenaltyScratch t_scratch;

}  // namespace

void apply_logit_bias(std::span<float> logits, const std::map<int32_t, float>& logit_bias) {
    const auto vocab = static_cast<int64_t>(logits.size());
    for (const auto& [token, bias] : logit_bias) {
        if (token < 0 || token >= vocab) continue;
        if (bias <= kLogitBiasBan) {
            logits[token] = -INFINITY;
        } else {
            logits[token] += bias;
        }
    }
}

void ban_tokens(std::span<float> logits, std::span<const int32_t> tokens) {
    const auto vocab = static_cast<int64_t>(logits.size());
    for (int32_t token : tokens) {
        if (token >= 0 && token < vocab) logits[token] = -INFINITY;
    }
}

bool penalties_enabled(const SamplingParams& params) {
    return params.penalty_last_n != 0 &&
           (params.repetition_penalty != 1.0f || params.presence_penalty != 0.0f ||
            params.frequency_penalty != 0.0f);
}

void apply_penalties(std::span<float> logits, const SamplingParams& params,
                     std::span<const int32_t> prompt_tokens,
                     std::span<const int32_t> generated_tokens) {
    if (!penalties_enabled(params)) return;
    const size_t vocab = logits.size();
    const size_t num_prompt = prompt_tokens.size();
    const size_t total = num_prompt + generated_tokens.size();
    const size_t window = params.penalty_last_n < 0
                              ? total
                              : std::min(total, static_cast<size_t>(params.penalty_last_n));
    const size_t start = total - window;  // index into prompt ++ generated

    PenaltyScratch& s = t_scratch;
    if (s.state.size() < vocab) s.state.resize(vocab, 0);
    s.touched.clear();

    auto visit = [&](int32_t token, uint32_t add) {
        if (token < 0 || static_cast<size_t>(token) >= vocab) return;
        uint32_t& st = s.state[static_cast<size_t>(token)];
        if (st == 0) s.touched.push_back(token);
        st = (st | kSeen) + add;
    };
    if (params.repetition_penalty != 1.0f) {
        for (size_t i = start; i < num_prompt; ++i) visit(prompt_tokens[i], 0);
    }
    for (size_t i = std::max(start, num_prompt) - num_prompt; i < generated_tokens.size(); ++i) {
        visit(generated_tokens[i], 1);
    }

    const float rep = params.repetition_penalty;
    const float freq = params.frequency_penalty;
    const float presence = params.presence_penalty;
    for (int32_t token : s.touched) {
        uint32_t& st = s.state[static_cast<size_t>(token)];
        float& logit = logits[static_cast<size_t>(token)];
        if (rep != 1.0f) logit = logit > 0.0f ? logit / rep : logit * rep;
        const uint32_t count = st & kCountMask;
        if (count > 0) logit -= freq * static_cast<float>(count) + presence;
        st = 0;
    }
    s.touched.clear();
}

}  // namespace folio
