#pragma once
// Request: one sequence as the scheduler sees it (vLLM v1's Request). A client request with
// n > 1 becomes n of these (its children), which share the prompt's KV blocks through prefix
// caching. Owned by the Scheduler; engine thread only.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kv/kv_request.h"

namespace folio {

enum class RequestStatus {
    Waiting,          // queued, never scheduled
    Running,          // holds blocks, scheduled every step until finished
    Preempted,        // was running; blocks freed, back in the waiting queue for recomputation
    FinishedStopped,  // stop token (EOS / stop_token_ids), or a stop string seen by the caller
    FinishedLength,   // max_tokens, or the context (max_model_len) is full
    FinishedAborted,  // aborted
    FinishedError,    // can never fit the KV cache, or the step failed
};

bool is_finished(RequestStatus status);
const char* request_status_name(RequestStatus status);

// What the scheduler needs to know to stop a sequence (vLLM's check_stop inputs).
struct StopCriteria {
    int32_t max_tokens = INT32_MAX;       // generated tokens, >= 1
    int32_t min_tokens = 0;               // no stop token counts before this many tokens
    std::vector<int32_t> stop_token_ids;  // EOS ids (unless ignore_eos) and stop_token_ids
    // Scoring or embedding request (return_prompt_logits / return_embedding): finishes as soon
    // as its prompt is computed, sampling nothing.
    bool prompt_only = false;
    // With prompt_only: the final hidden states of the prompt are wanted instead of its logits.
    bool prompt_hidden = false;
};

class Request {
  public:
    // Precondition: prompt not empty.
    Request(std::string request_id, std::vector<int32_t> prompt_token_ids, StopCriteria stop,
            int32_t priority = 0, int64_t arrival_index = 0);

    const std::string& request_id() const { return kv.request_id; }
    int32_t num_prompt_tokens() const { return num_prompt_tokens_; }
    int32_t num_tokens() const { return kv.num_tokens(); }
    int32_t num_output_tokens() const { return kv.num_tokens() - num_prompt_tokens_; }
    int32_t num_computed_tokens() const { return kv.num_computed_tokens; }
    std::span<const int32_t> prompt_token_ids() const {
        return std::span<const int32_t>(kv.token_ids)
            .first(static_cast<size_t>(num_prompt_tokens_));
    }
    std::span<const int32_t> output_token_ids() const {
        return std::span<const int32_t>(kv.token_ids)
            .subspan(static_cast<size_t>(num_prompt_tokens_));
    }
    const StopCriteria& stop() const { return stop_; }
    int32_t priority() const { return priority_; }
    int64_t arrival_index() const { return arrival_index_; }

    // Appends a sampled token to the sequence (KV not computed yet).
    void append_output_token(int32_t token) { kv.token_ids.push_back(token); }

    // Served before `other`: lower (priority, arrival_index).
    bool before(const Request& other) const {
        return priority_ != other.priority_ ? priority_ < other.priority_
                                            : arrival_index_ < other.arrival_index_;
    }

    // The KV cache manager's view: id, prompt + output tokens, computed tokens, block hashes.
    KVRequest kv;
    RequestStatus status = RequestStatus::Waiting;
    // Prompt tokens found in the prefix cache at first admission (-1 before it).
    int32_t num_cached_tokens = -1;
    int32_t num_preemptions = 0;

  private:
    int32_t num_prompt_tokens_;
    StopCriteria stop_;
    int32_t priority_;
    int64_t arrival_index_;
};

}  // namespace folio
