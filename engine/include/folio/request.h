#pragma once
// What a client submits to the engine (folio/engine.h): a prompt, its sampling parameters and a
// priority. Plain data: copy freely.
#include <cstdint>
#include <string>
#include <vector>

#include "folio/sampling_params.h"

namespace folio {

struct RequestSpec {
    // The prompt, as text (tokenized by the engine with the model's vocabulary) or as token ids.
    // Exactly one of the two must be non-empty; prompt_tokens wins when both are given.
    std::string prompt;
    std::vector<int32_t> prompt_tokens;
    // Text prompts only: add BOS/EOS as the model's metadata says, and turn control-token text
    // such as "<|im_start|>" into those tokens.
    bool add_special = true;
    bool parse_special = false;

    SamplingParams sampling;

    // Lower values are served first (vLLM's convention); ties go by arrival. Under memory
    // pressure the running request with the highest (priority, arrival) is preempted first.
    int32_t priority = 0;

    // Unique among live requests; empty: the engine picks "req-<n>".
    std::string request_id;

    // Scoring / teacher forcing: the request generates nothing and its final RequestOutput
    // carries the logits after every prompt position ([num_prompt_tokens][n_vocab] floats).
    // Requires sampling.n == 1; the prompt may then fill the whole context.
    bool return_prompt_logits = false;
    // Embedding: the request generates nothing and its final RequestOutput carries the mean over
    // all prompt positions of the final (normed) hidden states, L2-normalized ([n_embd] floats).
    // Requires sampling.n == 1; the prompt may then fill the whole context.
    bool return_embedding = false;
};

}  // namespace folio
