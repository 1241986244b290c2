#pragma once
// EngineCore: the step loop on one dedicated thread (vLLM v1's EngineCore + the parts of its
// front end that are cheap enough to run inline).
//
// Owns the backend, the KVCacheManager, the Scheduler, the ModelRunner, one Sampler per sequence
// and the OutputProcessor; only the engine thread touches them. Each iteration:
//   1. drains the input queue (new requests, aborts): a request with n > 1 becomes n sequences
//      that share the prompt's KV blocks through prefix caching;
//   2. step(): Scheduler::schedule() → ModelRunner::execute() → Sampler per sequence →
//      Scheduler::update_from_output() (stop tokens, lengths; frees finished blocks) →
//      OutputProcessor (detokenize, stop strings → finish at once);
//   3. publishes the counters, then pushes each request's RequestOutput delta to its stream.
// It sleeps while there is nothing to run. Thread-safe public methods; see folio/engine.h.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "backend/backend.h"
#include "folio/engine.h"
#include "folio/sampling_params.h"
#include "kv/kv_cache_manager.h"
#include "model/model.h"
#include "runtime/model_runner.h"
#include "runtime/output_processor.h"
#include "runtime/request_stream.h"
#include "sampling/sampler.h"
#include "sched/scheduler.h"

namespace folio {

struct EngineCoreConfig {
    SchedulerConfig scheduler;
    int32_t num_kv_blocks = 0;  // physical blocks, the null block included
    int32_t block_size = 16;
    bool enable_prefix_caching = true;
};

// A validated, tokenized request (Engine::submit does the validation).
struct EngineCoreRequest {
    std::string request_id;
    std::vector<int32_t> prompt_token_ids;
    SamplingParams params;
    int32_t priority = 0;
    bool return_prompt_logits = false;
    bool return_embedding = false;
    std::chrono::steady_clock::time_point arrival_time;
};

class EngineCore : public std::enable_shared_from_this<EngineCore> {
  public:
    using Clock = std::chrono::steady_clock;

    // The backend's KV pool must have config.num_kv_blocks blocks of config.block_size.
    EngineCore(std::shared_ptr<const Model> model, std::unique_ptr<Backend> backend,
               const EngineCoreConfig& config);
    // Calls shutdown().
    ~EngineCore();
    EngineCore(const EngineCore&) = delete;
    EngineCore& operator=(const EngineCore&) = delete;

    // Starts the engine thread (once).
    void start();
    // Aborts every unfinished request (final Abort outputs), stops and joins the thread.
    // Idempotent.
    void shutdown();

    // Queues a request whose outputs go to `stream`. Throws std::invalid_argument when its id is
    // live, std::runtime_error after shutdown.
    void add_request(EngineCoreRequest request, std::shared_ptr<RequestStream> stream);
    // Queues an abort; unknown ids are ignored.
    void abort_request(const std::string& request_id);

    EngineStats stats() const;
    Backend& backend() { return *backend_; }

  private:
    struct AddMsg {
        EngineCoreRequest request;
        std::shared_ptr<RequestStream> stream;
    };
    struct AbortMsg {
        std::string request_id;
    };
    using Msg = std::variant<AddMsg, AbortMsg>;

    struct SeqEntry {
        std::string request_id;
        std::unique_ptr<Sampler> sampler;
        int32_t num_logprobs = -1;  // -1: none asked
    };
    struct StepRecord {
        Clock::time_point begin, end;
        int64_t prompt_tokens = 0;
        int64_t generation_tokens = 0;
    };

    void run();
    void handle_add(AddMsg& msg);
    void handle_abort(const std::string& request_id);
    void step();
    // Finishes sequences with `reason` in the scheduler (if still live) and the output processor.
    void finish_seqs(const std::vector<std::string>& seq_ids, FinishReason reason,
                     const std::string& error = {});
    void fail_all(const std::string& error);
    // Publishes counters, then pushes outputs (a client seeing a final output sees its effect
    // on the counters, e.g. freed blocks).
    void publish(Clock::time_point now);

    // Immutable after construction.
    std::shared_ptr<const Model> model_;
    std::unique_ptr<Backend> backend_;
    EngineCoreConfig config_;
    int64_t n_vocab_ = 0;
    std::vector<int32_t> eog_ids_;

    // Engine thread only.
    std::unique_ptr<KVCacheManager> kv_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<ModelRunner> runner_;
    std::unique_ptr<OutputProcessor> output_;
    std::unordered_map<std::string, SeqEntry> seqs_;
    ModelRunnerOutput runner_output_;
    int64_t next_seq_ = 0;
    int64_t next_arrival_ = 0;
    int64_t finished_requests_ = 0;
    int64_t prompt_tokens_total_ = 0;
    int64_t generation_tokens_total_ = 0;
    StepRecord last_step_;
    bool have_step_ = false;

    // Shared with client threads.
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Msg> inbox_;
    std::unordered_set<std::string> live_ids_;
    bool stop_ = false;
    bool started_ = false;
    std::thread thread_;

    mutable std::mutex stats_mutex_;
    EngineStats stats_;
    std::deque<StepRecord> window_;
};

}  // namespace folio
