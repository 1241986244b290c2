#pragma once
// SchedulerOutput: one engine step's plan, from Scheduler::schedule() to the ModelRunner and back
// to Scheduler::update_from_output(). Engine thread only.
#include <cstdint>
#include <string>
#include <vector>

namespace folio {

class Request;

struct ScheduledRequest {
    // Owned by the Scheduler; valid until update_from_output() of this step.
    Request* request = nullptr;
    // Positions [num_computed_tokens, num_computed_tokens + num_scheduled_tokens) of the
    // request's tokens are computed this step.
    int32_t num_computed_tokens = 0;
    int32_t num_scheduled_tokens = 0;
    // The request's whole block table after this step's allocation (covers every position
    // computed so far and this step).
    std::vector<int32_t> block_ids;
    // The step reaches the request's last known token: its logits are sampled (or, for a
    // prompt-only request, the request completes).
    bool sample = false;
    // Logits of every scheduled position are wanted (prompt-only scoring requests).
    bool all_logits = false;
    // Final normed hidden states of every scheduled position are wanted instead (embeddings).
    bool all_hidden = false;
    // Positions before the prompt's end (for prompt-throughput accounting).
    int32_t num_prompt_positions = 0;
};

struct SchedulerOutput {
    // In batch order: running requests first (priority order), then newly admitted ones.
    std::vector<ScheduledRequest> requests;
    int32_t total_num_scheduled_tokens = 0;
    // Running requests preempted this step (blocks freed, back in the waiting queue).
    std::vector<std::string> preempted_request_ids;
    // Waiting requests that can never fit the KV cache: finished with FinishedError and
    // removed by this schedule() call.
    std::vector<std::string> failed_request_ids;

    bool empty() const { return requests.empty(); }
};

}  // namespace folio
