#pragma once
// What the engine streams back for a request (folio/engine.h): one RequestOutput per engine step
// in which the request made progress, each carrying deltas (new tokens, new text, their logprobs)
// for the completions that progressed, and a last one with finished == true.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace folio {

enum class FinishReason {
    Stop,    // end-of-generation token, a stop token id or a stop string
    Length,  // max_tokens reached, or the context (max_model_len) is full
    Abort,   // aborted by the client or by engine shutdown
    Error,   // the engine could not run the request (message in RequestOutput::error)
};
// "stop", "length", "abort", "error".
const char* finish_reason_name(FinishReason r);

struct TopLogprob {
    int32_t token = 0;
    float logprob = 0.0f;
};

// Logprobs of one generated token (see Sampler in engine/src/sampling/sampler.h for the
// distribution they come from).
struct PositionLogprobs {
    int32_t token = 0;            // the generated token
    float logprob = 0.0f;         // its logprob
    std::vector<TopLogprob> top;  // the SamplingParams::logprobs most likely tokens
};

// One completion's progress in one RequestOutput.
struct CompletionOutput {
    int32_t index = 0;               // which of the request's n completions (0 .. n-1)
    std::vector<int32_t> token_ids;  // tokens generated since this completion's previous output;
                                     // a stop token (EOS, stop_token_ids) is not included
    std::string text;                // text added since the previous output (complete UTF-8;
                                     // a stop string and what follows it are not included)
    std::vector<PositionLogprobs> logprobs;     // one per token_ids entry when logprobs were asked
    std::optional<FinishReason> finish_reason;  // set on this completion's last output
    int32_t num_cached_tokens = 0;  // prompt tokens found in the prefix cache at admission
};

struct RequestUsage {
    int64_t prompt_tokens = 0;
    // Sampled tokens over all completions so far, a final stop token included.
    int64_t completion_tokens = 0;
    // Prompt tokens of completion 0 served from the prefix cache instead of computed.
    int64_t cached_prompt_tokens = 0;
};

struct RequestMetrics {
    using Clock = std::chrono::steady_clock;
    Clock::time_point arrival_time;          // submit()
    Clock::time_point first_scheduled_time;  // first engine step that computed it
    Clock::time_point first_token_time;      // first sampled token (any completion)
    Clock::time_point last_token_time;       // latest sampled token
    Clock::time_point finished_time;         // set on the final output

    // Prefill wall time: first scheduled step to first token (0 before the first token).
    double prefill_seconds() const;
    // Decode wall time: first token to the latest token.
    double decode_seconds() const;
};

struct RequestOutput {
    std::string request_id;
    // Completions that progressed or finished in this step (in index order). Concatenating the
    // deltas of one index over all outputs gives that completion's whole result.
    std::vector<CompletionOutput> outputs;
    bool finished = false;  // the request's last output: every completion has finished
    std::string error;      // why, when a completion finished with FinishReason::Error
    RequestUsage usage;     // totals so far
    RequestMetrics metrics;
    // With RequestSpec::return_prompt_logits, on the final output: [prompt tokens][n_vocab].
    std::vector<float> prompt_logits;
    // With RequestSpec::return_embedding, on the final output: [n_embd], unit L2 norm.
    std::vector<float> embedding;
};

}  // namespace folio
