#pragma once
// Logit processors that run before sampling proper. Each edits one sequence's logits in place;
// token ids outside [0, logits.size()) are ignored. Not thread-safe across threads sharing logits;
// scratch memory is thread_local, so different threads may process different sequences.
#include <cstdint>
#include <map>
#include <span>

#include "folio/sampling_params.h"

namespace folio {

// The bias value at or below which logit_bias bans a token (logit = -inf) instead of adding.
inline constexpr float kLogitBiasBan = -100.0f;

// logits[t] += bias for each entry; bias <= kLogitBiasBan sets logits[t] = -inf.
void apply_logit_bias(std::span<float> logits, const std::map<int32_t, float>& logit_bias);

// logits[t] = -inf for each listed token.
void ban_tokens(std::span<float> logits, std::span<const int32_t> tokens);

// True when apply_penalties would change anything for these params.
bool penalties_enabled(const SamplingParams& params);

// Repetition (multiplicative, prompt + generated) then frequency/presence (additive, generated
// only) penalties over the window of the last params.penalty_last_n tokens of
// prompt_tokens ++ generated_tokens (see SamplingParams). Cost O(window), not O(vocab).
void apply_penalties(std::span<float> logits, const SamplingParams& params,
                     std::span<const int32_t> prompt_tokens,
                     std::span<const int32_t> generated_tokens);

}  // namespace folio
