#pragma once
// Sampler: turns one sequence's logits into its next token, following SamplingParams.
//
// Order (each step only when enabled):
//   1. logit_bias (bias <= -100 bans the token)
//   2. while fewer than min_tokens were generated: ban EOS (unless ignore_eos) and stop_token_ids
//   3. penalties: repetition (prompt + generated), then frequency / presence (generated only)
//   4. temperature == 0 or top_k == 1: argmax, lowest token id on ties. Done.
//   5. top_k → temperature → softmax → top_p → min_p → one draw from the request's own RNG.
// Steps 1-3 edit `logits` in place; 4-5 only read them, so afterwards `logits` holds the
// "processed" logits that logprobs are computed from.
//
// Cost: a few vectorized O(vocab) passes per token (sampling/logit_ops.h), never a sort of the
// whole vocabulary. top_k widens a window below the max logit until it holds k tokens, then
// nth_element on those; without top_k the softmax numerators are computed densely, min_p is one
// filter, and top_p finds a weight floor holding top_p of the mass, collects the tokens above it
// and cuts them with a weighted quickselect. Scratch buffers are thread_local, so a Sampler is
// small (one per sequence) and any number of them may be used from one thread; one Sampler must not
// be used from two threads at once.
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "folio/sampling_params.h"

namespace folio {

using token_id = int32_t;

struct TokenLogprob {
    token_id token = 0;
    float logprob = 0.0f;
};

struct TokenProb {
    token_id token = 0;
    float prob = 0.0f;
};

// Logprobs of one sampled position.
//
// Distribution: log_softmax of the logits after logit_bias, the min_tokens ban and penalties,
// but before temperature, top_k, top_p and min_p (vLLM's default "raw logprobs" reports the model's
// distribution; we include the user's explicit bias and penalties, but not the truncation, so a
// sampled token always has a finite logprob unless it was banned, and greedy requests get the
// same numbers as sampled ones). Banned tokens have logprob -inf.
struct TokenLogprobs {
    float logprob = 0.0f;           // of the chosen token
    std::vector<TokenLogprob> top;  // the top-N tokens, most likely first, lower id on ties
};

// log_softmax of `logits` (computed in double): the logprob of `chosen` and the `top_n` most likely
// tokens. O(vocab) for small top_n.
TokenLogprobs compute_logprobs(std::span<const float> logits, token_id chosen, int32_t top_n);

class Sampler {
  public:
    // params: copied; expected to have passed validate() (out-of-range token ids are ignored).
    // vocab_size: tokens [0, vocab_size) can be sampled; logits may be longer (padded rows).
    // eos_token_ids: the model's end-of-generation tokens, banned while fewer than
    //   params.min_tokens tokens were generated (unless ignore_eos).
    // seq_index: the completion index within a request with n > 1; with a seed, completion i
    //   draws from its own stream derived from (seed, i), so the n completions differ but are
    //   reproducible. Index 0 uses the seed as is.
    Sampler(const SamplingParams& params, int32_t vocab_size,
            std::span<const token_id> eos_token_ids = {}, uint64_t seq_index = 0);

    // Picks the next token. logits: this sequence's row, at least vocab_size entries; edited in
    // place by steps 1-3 above. prompt_tokens / generated_tokens: the whole context so far (the
    // penalties look at them; generated_tokens.size() drives min_tokens). When `logprobs` is not
    // null it receives the chosen token's logprob and the top params.logprobs.value_or(0) tokens.
    token_id sample(std::span<float> logits, std::span<const token_id> prompt_tokens,
                    std::span<const token_id> generated_tokens, TokenLogprobs* logprobs = nullptr);

    // The distribution sample() would draw from (steps 1-5 without the draw): the surviving
    // tokens with their renormalized probabilities, most likely first. Greedy → {argmax, 1}.
    // Edits `logits` like sample(); does not advance the RNG. For tests, speculative decoding
    // and debugging; O(vocab).
    std::vector<TokenProb> distribution(std::span<float> logits,
                                        std::span<const token_id> prompt_tokens,
                                        std::span<const token_id> generated_tokens);

    const SamplingParams& params() const { return params_; }
    int32_t vocab_size() const { return vocab_size_; }

  private:
    // Result of step 5 up to the draw: the first num_candidates entries of the thread_local
    // candidate buffer with their unnormalized weights. num_candidates == 0: use argmax.
    // dense: no truncation; the weights are the thread_local dense buffer indexed by token id
    // and num_candidates is the vocabulary size.
    struct Truncated {
        size_t num_candidates = 0;
        double total_weight = 0.0;
        bool dense = false;
    };

    void process_logits(std::span<float> row, std::span<const token_id> prompt_tokens,
                        std::span<const token_id> generated_tokens);
    Truncated truncate(std::span<const float> logits) const;
    token_id draw(const Truncated& t);

    SamplingParams params_;
    int32_t vocab_size_;
    std::vector<token_id> min_tokens_banned_;  // EOS (unless ignore_eos) + stop_token_ids
    bool penalties_ = false;
    std::mt19937_64 rng_;
};

}  // namespace folio
