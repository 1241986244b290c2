#pragma once
// The public, thread-safe inference engine: one model, a paged KV cache, continuous batching.
//
//   auto engine = folio::Engine::create({.model_path = "model.gguf"});
//   folio::RequestSpec spec;
//   spec.prompt = "Once upon a time";
//   spec.sampling.max_tokens = 64;
//   folio::RequestHandle h = engine->submit(spec);     // throws std::invalid_argument on bad input
//   while (auto out = h.next()) std::cout << out->outputs[0].text;   // blocks per delta
//
// Every method may be called from any thread. One dedicated engine thread runs the step loop
// (schedule → forward → sample → detokenize) over all live requests; submit() and abort() only
// post messages to it, and each request's outputs arrive on its own RequestHandle.
//
// Errors: submit() validates synchronously and throws std::invalid_argument with a message naming
// the problem (empty prompt, prompt longer than the context, bad sampling parameters, duplicate
// request id); other requests are not affected. A request the engine later fails to run finishes
// with FinishReason::Error and RequestOutput::error set.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "folio/request.h"
#include "folio/request_output.h"
#include "folio/sampling_params.h"

namespace folio {

class Model;
class EngineCore;
class RequestStream;

enum class KvCacheType { F16, F32, Q8_0 };
const char* kv_cache_type_name(KvCacheType t);  // "f16", "f32", "q8_0"

struct EngineConfig {
    std::string model_path;  // GGUF file (ignored by the create() overload taking a Model)
    int num_threads = 0;     // CPU threads; 0: all cores
    // KV cache budget in bytes. 0: what fits in MemAvailable after the weights, leaving
    // headroom, capped at max_num_seqs sequences of max_model_len tokens.
    int64_t kv_cache_memory = 0;
    // Usable KV blocks, overriding kv_cache_memory when > 0 (tests, exact sizing).
    int64_t num_kv_blocks = 0;
    // Longest sequence (prompt + generated) in tokens. 0: the model's training context, capped
    // at what the KV cache holds. An explicit value the cache cannot hold is an error.
    int64_t max_model_len = 0;
    KvCacheType kv_cache_type = KvCacheType::F16;
    int block_size = 16;  // tokens per KV block
    // Most sequences running at once (a request with n > 1 counts n).
    int max_num_seqs = 64;
    // Most tokens computed in one engine step (prefill chunks + decodes). 512 on a CPU is about
    // 1.5-2 s of prefill (bench-300m, 2 cores): 2048 stalled every running request for ~7 s
    // whenever prompts arrived (loadgen 16 concurrent: TTFT p50 6.9 s -> 3.6 s, same throughput).
    int max_num_batched_tokens = 512;
    // Most prompt tokens one request computes per step (0 = only the step budget limits it).
    int long_prefill_token_threshold = 0;
    bool enable_prefix_caching = true;
    // Commit the whole KV pool's memory at creation (a server's steady footprint from the
    // start, as llama.cpp and vLLM allocate theirs) instead of page by page as blocks are first
    // used (lighter for one-off runs).
    bool commit_kv_memory = false;
};

// What create() resolved from an EngineConfig.
struct EngineInfo {
    std::string backend;  // e.g. "cpu (avx512-vnni, 2 threads)"
    KvCacheType kv_cache_type = KvCacheType::F16;
    int64_t block_size = 0;
    int64_t num_kv_blocks = 0;    // usable blocks (the null block excluded)
    int64_t bytes_per_block = 0;  // all layers, K and V
    int64_t kv_cache_bytes = 0;   // the whole pool, null block included
    int64_t max_model_len = 0;
    int max_num_seqs = 0;
    int max_num_batched_tokens = 0;
    bool enable_prefix_caching = true;
    int64_t n_vocab = 0;
};

// A snapshot of the engine's counters. Rates are over the last ~10 seconds.
struct EngineStats {
    int32_t num_running = 0;  // sequences being computed
    int32_t num_waiting = 0;  // sequences queued (new or preempted)
    int64_t kv_blocks_total = 0;
    int64_t kv_blocks_used = 0;          // held by live sequences
    int64_t kv_blocks_free = 0;          // free (some still hold evictable cached prefixes)
    double prefix_cache_hit_rate = 0.0;  // cached / looked-up prompt tokens, since start
    int64_t prefix_cache_queries = 0;    // tokens looked up
    int64_t prefix_cache_hits = 0;       // tokens found
    int64_t num_preemptions = 0;
    int64_t num_steps = 0;
    int64_t num_requests_finished = 0;
    int64_t prompt_tokens_total = 0;      // prompt positions computed (recomputation included)
    int64_t generation_tokens_total = 0;  // tokens sampled
    double prompt_tokens_per_s = 0.0;
    double generation_tokens_per_s = 0.0;
};

// The consumer's end of one request: a stream of RequestOutput deltas. Movable, not copyable.
// Destroying (or moving over) a handle whose request has not finished aborts the request, like a
// client disconnect. Safe to use from one thread at a time, and to outlive the Engine (the request
// then ends with FinishReason::Abort).
class RequestHandle {
  public:
    RequestHandle() = default;
    explicit RequestHandle(std::shared_ptr<RequestStream> stream);
    RequestHandle(RequestHandle&&) noexcept;
    RequestHandle& operator=(RequestHandle&&) noexcept;
    RequestHandle(const RequestHandle&) = delete;
    RequestHandle& operator=(const RequestHandle&) = delete;
    ~RequestHandle();

    bool valid() const { return stream_ != nullptr; }
    const std::string& request_id() const;
    const std::vector<int32_t>& prompt_token_ids() const;

    // Blocks until the next output; std::nullopt once the final output was returned.
    std::optional<RequestOutput> next();
    // The next output if one is ready, else std::nullopt (see done()).
    std::optional<RequestOutput> try_next();
    // The final output was returned by next()/try_next()/collect().
    bool done() const;
    // Blocks until the request finishes and returns the remaining outputs merged into one: per
    // completion the concatenated tokens, text and logprobs, and the final usage and metrics.
    RequestOutput collect();
    // Asks the engine to stop the request; its final output has FinishReason::Abort (unless it
    // finished first). Returns at once.
    void abort();

  private:
    std::shared_ptr<RequestStream> stream_;
};

class Engine {
  public:
    // Loads config.model_path and starts the engine thread. Throws std::invalid_argument for a
    // bad config, std::runtime_error (naming the file) when the model cannot be loaded or the KV
    // cache does not fit.
    static std::unique_ptr<Engine> create(const EngineConfig& config);
    // Same with an already loaded model (shared with the caller).
    static std::unique_ptr<Engine> create(std::shared_ptr<const Model> model,
                                          const EngineConfig& config);
    // Aborts every unfinished request (their handles get a final Abort output) and stops the
    // engine thread.
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Validates, tokenizes and queues a request. Throws std::invalid_argument (see top).
    RequestHandle submit(RequestSpec spec);
    // Aborts a live request by id; unknown or finished ids are ignored.
    void abort(const std::string& request_id);

    EngineStats stats() const;
    const EngineInfo& info() const { return info_; }
    const Model& model() const { return *model_; }

  private:
    Engine() = default;

    std::shared_ptr<const Model> model_;
    EngineInfo info_;
    std::shared_ptr<EngineCore> core_;
};

}  // namespace folio
