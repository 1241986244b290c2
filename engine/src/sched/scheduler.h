#pragma once
// Scheduler: continuous batching at token granularity (vLLM v1's Scheduler).
//
// One loop, no prefill/decode phases. Each schedule() spends max_num_batched_tokens:
//   1. running requests, in priority order: a decode takes 1 token, an unfinished prefill (or
//      recomputation after preemption) takes as much of the rest as the budget allows (chunked
//      prefill). KVCacheManager::allocate_slots() per request; when it fails, the lowest-priority
//      running request (highest (priority, arrival)) is preempted: its blocks are freed, its
//      computed tokens reset, and it goes back to the waiting queue to be recomputed later from
//      prompt + generated tokens. A request that would have to preempt itself waits.
//   2. if nothing was preempted: waiting requests in (priority, arrival) order, while the budget,
//      max_num_seqs and the free blocks allow, each with a prefix-cache lookup first. A request
//      that can never fit (nothing running, and still no room) finishes with FinishedError.
// update_from_output() advances computed tokens, appends sampled tokens, checks stop conditions
// (stop token, max_tokens, max_model_len) and frees the blocks of finished requests at once;
// finish_requests() does the same for aborts and stop strings.
//
// Engine thread only. Owns the requests; borrows the KVCacheManager.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv/kv_cache_manager.h"
#include "sched/request.h"
#include "sched/scheduler_output.h"

namespace folio {

struct SchedulerConfig {
    int32_t max_num_seqs = 64;
    int32_t max_num_batched_tokens = 512;
    // Longest sequence; a request stops (FinishedLength) when it reaches it. The KV cache should
    // hold at least one sequence of this length, or long requests fail with FinishedError.
    int32_t max_model_len = 4096;
    // Most prompt tokens one request may compute in one step (0 = no cap beyond the budget).
    // A cap keeps a long prompt from filling whole steps, so the decodes running beside it
    // keep producing tokens at a steady pace.
    int32_t long_prefill_token_threshold = 0;
};

// One sequence's result of a step.
struct RequestUpdate {
    std::string request_id;
    int32_t new_token_id = -1;  // sampled this step, -1 if none (prefill chunk, scoring)
    RequestStatus status = RequestStatus::Running;
    // With FinishedStopped: new_token_id is the stop token (not part of the output text).
    bool stopped_by_token = false;
    int32_t num_output_tokens = 0;  // after this step
};

struct SchedulerCounters {
    int64_t num_preemptions = 0;
    int64_t num_steps = 0;  // non-empty schedule() results
};

class Scheduler {
  public:
    // Preconditions: positive limits.
    Scheduler(const SchedulerConfig& config, KVCacheManager& kv_cache_manager);
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    const SchedulerConfig& config() const { return config_; }

    // Queues a new request (status Waiting). Preconditions: its id is not live; its prompt is
    // shorter than max_model_len (or, prompt-only, not longer).
    void add_request(std::unique_ptr<Request> request);

    // Finishes live requests with `status` (FinishedAborted, FinishedStopped ...) and frees their
    // blocks now. Unknown ids are skipped; returns the ids that were live.
    std::vector<std::string> finish_requests(std::span<const std::string> request_ids,
                                             RequestStatus status);

    // Plans one step (see top). Returns an empty plan when nothing can run.
    SchedulerOutput schedule();

    // Applies a computed step: sampled_token_ids[i] is the token sampled for output.requests[i]
    // (ignored unless that entry has `sample` and is not prompt-only). Returns one update per
    // scheduled request, in order. Finished requests are removed and their blocks freed.
    std::vector<RequestUpdate> update_from_output(const SchedulerOutput& output,
                                                  std::span<const int32_t> sampled_token_ids);

    bool has_unfinished_requests() const { return !requests_.empty(); }
    int32_t num_running() const { return static_cast<int32_t>(running_.size()); }
    int32_t num_waiting() const { return static_cast<int32_t>(waiting_.size()); }
    // A live request, or nullptr.
    const Request* get_request(const std::string& request_id) const;
    std::vector<std::string> live_request_ids() const;
    const SchedulerCounters& counters() const { return counters_; }
    const KVCacheManager& kv_cache_manager() const { return kv_; }

  private:
    void preempt(Request* request);
    void insert_waiting(Request* request);
    void insert_running(Request* request);
    // Removes from running/waiting, frees blocks, sets status, destroys the request.
    void finish(Request* request, RequestStatus status);
    // Finished-by-scheduler check after a token was appended (vLLM's check_stop).
    RequestStatus check_stop(const Request& request, int32_t token, bool& by_token) const;

    SchedulerConfig config_;
    KVCacheManager& kv_;
    std::unordered_map<std::string, std::unique_ptr<Request>> requests_;
    std::vector<Request*> running_;  // sorted by Request::before
    std::vector<Request*> waiting_;  // sorted by Request::before
    SchedulerCounters counters_;
};

}  // namespace folio
