#pragma once
// OutputProcessor: turns the engine's per-sequence token updates into RequestOutput deltas (vLLM
// v1's OutputProcessor, run on the engine thread). Per sequence: incremental detokenization
// (StreamingDetokenizer) and stop strings (StopStringMatcher); per request: its n sequences'
// deltas, usage and metrics, pushed to the request's RequestStream once per step by flush().
//
// Engine thread only (the streams themselves are thread-safe).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "folio/request_output.h"
#include "folio/sampling_params.h"
#include "runtime/request_stream.h"
#include "sampling/stop_strings.h"
#include "tokenizer/vocab.h"

namespace folio {

class OutputProcessor {
  public:
    using Clock = std::chrono::steady_clock;

    explicit OutputProcessor(const Vocab& vocab) : vocab_(vocab) {}

    // Registers a request and the ids of its n sequences (index = position in seq_ids).
    void add_request(const std::string& request_id, std::shared_ptr<RequestStream> stream,
                     const SamplingParams& params, int32_t num_prompt_tokens,
                     Clock::time_point arrival_time, std::span<const std::string> seq_ids);

    bool has_request(const std::string& request_id) const {
        return requests_.count(request_id) != 0;
    }
    // Ids of the request's sequences that have not finished.
    std::vector<std::string> unfinished_seqs(const std::string& request_id) const;
    std::vector<std::string> all_unfinished_seqs() const;

    // The sequence was computed in a step (the first time: first_scheduled_time and its prompt
    // tokens found in the prefix cache).
    void on_scheduled(const std::string& seq_id, int32_t num_cached_tokens, Clock::time_point now);
    // Logits rows of a scoring request, in position order.
    void on_prompt_logits(const std::string& seq_id, std::span<const float> rows);
    // Adds prompt hidden-state rows ([rows][n_embd]) to the request's embedding (mean-pooled and
    // L2-normalized when the request finishes).
    void on_prompt_hidden(const std::string& seq_id, std::span<const float> rows, size_t n_embd);
    // A generated token (not a stop token). Returns true when a stop string matched: the
    // sequence must be finished with Stop (call on_finished).
    bool on_token(const std::string& seq_id, int32_t token, const PositionLogprobs* logprobs,
                  Clock::time_point now);
    // A stop token was sampled (counted in usage, not shown).
    void on_stop_token(const std::string& seq_id, Clock::time_point now);
    // The sequence finished. Flushes its held-back text unless aborted or failed.
    void on_finished(const std::string& seq_id, FinishReason reason, const std::string& error = {});

    // Collects one output per request with news since the last call; finished requests are
    // forgotten. Returns (stream, output) pairs for the caller to push (after it has updated
    // whatever must be visible before a client sees a final output).
    std::vector<std::pair<std::shared_ptr<RequestStream>, RequestOutput>> collect(
        Clock::time_point now);

    size_t num_requests() const { return requests_.size(); }

  private:
    struct RequestState;
    struct SeqState {
        RequestState* request = nullptr;
        int32_t index = 0;
        StreamingDetokenizer detok;
        StopStringMatcher stops;
        int32_t num_cached_tokens = 0;
        bool scheduled = false;
        bool finished = false;

        SeqState(const Vocab& vocab, std::vector<std::string> stop_strings)
            : detok(vocab), stops(std::move(stop_strings)) {}
    };
    struct RequestState {
        std::string request_id;
        std::shared_ptr<RequestStream> stream;
        bool want_logprobs = false;
        int32_t n = 1;
        int32_t num_finished = 0;
        std::vector<std::string> seq_ids;
        RequestUsage usage;
        RequestMetrics metrics;
        bool first_scheduled = false;
        bool first_token = false;
        std::vector<float> prompt_logits;
        std::vector<double> hidden_sum;  // embedding requests: sum of prompt hidden states
        int64_t hidden_rows = 0;
        std::string error;
        std::map<int32_t, CompletionOutput> pending;  // index -> delta since the last output
    };

    SeqState& seq(const std::string& seq_id);
    CompletionOutput& pending(SeqState& s);
    void note_token_time(RequestState& r, Clock::time_point now);

    const Vocab& vocab_;
    std::unordered_map<std::string, std::unique_ptr<RequestState>> requests_;
    std::unordered_map<std::string, std::unique_ptr<SeqState>> seqs_;
};

}  // namespace folio
