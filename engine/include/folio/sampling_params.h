#pragma once
// Per-request sampling parameters with OpenAI / vLLM semantics. Plain data: copy freely.
// The engine applies them per sequence in this order (engine/src/sampling/sampler.h):
//   logit_bias → min_tokens ban → repetition/presence/frequency penalties
//   → greedy argmax if temperature == 0, else top_k → temperature → softmax → top_p → min_p → draw.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace folio {

struct SamplingParams {
    // Softmax temperature. 0 = greedy (argmax; the lowest token id wins ties). Must be >= 0.
    float temperature = 1.0f;
    // Keep only the k most likely tokens. 0 or -1 = off.
    int32_t top_k = 0;
    // Nucleus sampling: keep the smallest set of most likely tokens whose probability mass is
    // >= top_p. In (0, 1]; 1 = off.
    float top_p = 1.0f;
    // Drop tokens whose probability is below min_p * (probability of the most likely token).
    // In [0, 1]; 0 = off.
    float min_p = 0.0f;

    // Multiplicative repetition penalty (llama.cpp / vLLM): for every token that occurs in the
    // penalty window of prompt + generated tokens, logit > 0 ? logit / p : logit * p.
    // > 0; 1 = off; > 1 discourages repeats.
    float repetition_penalty = 1.0f;
    // OpenAI additive penalties over *generated* tokens in the penalty window:
    // logit -= frequency_penalty * count + presence_penalty * (count > 0). Each in [-2, 2]; 0 =
    // off.
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    // Penalty window: the last penalty_last_n tokens of the context (prompt followed by generated
    // tokens). -1 = the whole context, 0 = all three penalties off. Presence/frequency only count
    // the generated tokens that fall inside the window; the repetition penalty counts all of them.
    int32_t penalty_last_n = -1;

    // token id → additive bias, applied to the raw logits before anything else. A bias of -100
    // or lower bans the token outright (logit = -inf); +100 in practice forces it. In [-100, 100].
    std::map<int32_t, float> logit_bias;

    // Seed of this request's own RNG (std::mt19937_64). Same seed + same logits → same tokens,
    // regardless of what other requests run in the batch. No seed = seeded from random_device.
    std::optional<uint64_t> seed;

    // Generation stops (and the string is not included in the output) when the text contains any
    // of these. Must not be empty strings.
    std::vector<std::string> stop;
    // Generation stops after sampling any of these tokens (the token is not included in the text).
    std::vector<int32_t> stop_token_ids;
    // Maximum number of generated tokens. Unset = until EOS / stop / context limit. >= 1.
    std::optional<int32_t> max_tokens;
    // EOS and stop_token_ids are banned (logit = -inf) until this many tokens were generated.
    int32_t min_tokens = 0;
    // Keep generating after the model's EOS token(s).
    bool ignore_eos = false;

    // Number of most likely alternatives to return with every generated token, with the chosen
    // token's own logprob. Unset = no logprobs; 0 = the chosen token's logprob only.
    // In [0, kMaxLogprobs]. See Sampler for which distribution these come from.
    std::optional<int32_t> logprobs;
    static constexpr int32_t kMaxLogprobs = 20;

    // Number of independent completions for the prompt. >= 1.
    int32_t n = 1;

    bool is_greedy() const { return temperature == 0.0f || top_k == 1; }

    // Empty if every field is in range; otherwise one message that starts with the field name,
    // e.g. "temperature must be >= 0 (got -1)". With vocab_size > 0, token ids in logit_bias and
    // stop_token_ids are also checked against [0, vocab_size).
    std::string validate(int32_t vocab_size = 0) const;
};

}  // namespace folio
