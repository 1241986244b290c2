// folio::Engine (folio/engine.h): config resolution, KV pool sizing, request validation, and the
// client-side RequestHandle. The step loop itself is EngineCore.
#include "folio/engine.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_kv_cache.h"
#include "model/model.h"
#include "runtime/engine_core.h"
#include "runtime/request_stream.h"

namespace folio {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

std::atomic<uint64_t> g_next_request{0};

DType to_dtype(KvCacheType t) {
    switch (t) {
        case KvCacheType::F32:
            return DType::F32;
        case KvCacheType::Q8_0:
            return DType::Q8_0;
        case KvCacheType::F16:
            break;
    }
    return DType::F16;
}

// MemAvailable from /proc/meminfo in bytes, 0 when unknown.
int64_t mem_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    int64_t value = 0;
    std::string unit;
    while (in >> key >> value) {
        std::getline(in, unit);
        if (key == "MemAvailable:") return value * 1024;
    }
    return 0;
}

// The KV budget when none is given: what MemAvailable leaves after a copy of the weights (the
// CPU backend repacks most of them) and some headroom, but no more than max_num_seqs sequences
// of `seq_len` tokens need.
int64_t auto_kv_budget(const Model& model, int64_t bytes_per_block, int64_t block_size,
                       int64_t seq_len, int64_t max_num_seqs) {
    const int64_t avail = mem_available();
    const int64_t weights = static_cast<int64_t>(model.weight_bytes());
    const int64_t headroom = std::max<int64_t>(kGiB, avail / 10);
    int64_t budget = avail > 0 ? avail - weights - headroom : 2 * kGiB;
    const int64_t blocks_per_seq = (seq_len + block_size - 1) / block_size;
    const int64_t cap = bytes_per_block * (blocks_per_seq * max_num_seqs + 1);
    budget = std::min(budget, cap);
    // Always allow one sequence of seq_len, however tight memory looks (the pool is committed
    // lazily; an explicit --kv-cache-memory gives exact control).
    return std::max(budget, bytes_per_block * (blocks_per_seq + 1));
}

void check_config(const EngineConfig& c) {
    auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
    if (c.num_threads < 0)
        bad("num_threads must be >= 0 (got " + std::to_string(c.num_threads) + ")");
    if (c.kv_cache_memory < 0) bad("kv_cache_memory must be >= 0");
    if (c.num_kv_blocks < 0) bad("num_kv_blocks must be >= 0");
    if (c.max_model_len < 0) bad("max_model_len must be >= 0");
    if (c.block_size < 1 || c.block_size > 1024)
        bad("block_size must be in [1, 1024] (got " + std::to_string(c.block_size) + ")");
    if (c.max_num_seqs < 1)
        bad("max_num_seqs must be >= 1 (got " + std::to_string(c.max_num_seqs) + ")");
    if (c.long_prefill_token_threshold < 0)
        bad("long_prefill_token_threshold must be >= 0 (got " +
            std::to_string(c.long_prefill_token_threshold) + ")");
    if (c.max_num_batched_tokens < 1)
        bad("max_num_batched_tokens must be >= 1 (got " + std::to_string(c.max_num_batched_tokens) +
            ")");
    // Otherwise the decodes of the last running sequences could wait behind the budget forever.
    if (c.max_num_batched_tokens < c.max_num_seqs)
        bad("max_num_batched_tokens (" + std::to_string(c.max_num_batched_tokens) +
            ") must be >= max_num_seqs (" + std::to_string(c.max_num_seqs) + ")");
}

}  // namespace

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::Stop:
            return "stop";
        case FinishReason::Length:
            return "length";
        case FinishReason::Abort:
            return "abort";
        case FinishReason::Error:
            return "error";
    }
    return "?";
}

const char* kv_cache_type_name(KvCacheType t) {
    switch (t) {
        case KvCacheType::F16:
            return "f16";
        case KvCacheType::F32:
            return "f32";
        case KvCacheType::Q8_0:
            return "q8_0";
    }
    return "?";
}

double RequestMetrics::prefill_seconds() const {
    if (first_token_time < first_scheduled_time) return 0.0;
    return std::chrono::duration<double>(first_token_time - first_scheduled_time).count();
}

double RequestMetrics::decode_seconds() const {
    if (last_token_time < first_token_time) return 0.0;
    return std::chrono::duration<double>(last_token_time - first_token_time).count();
}

// ---- Engine -----------------------------------------------------------------------------------

std::unique_ptr<Engine> Engine::create(const EngineConfig& config) {
    check_config(config);
    if (config.model_path.empty()) throw std::invalid_argument("model_path is empty");
    std::shared_ptr<const Model> model(Model::load(config.model_path));
    return create(std::move(model), config);
}

std::unique_ptr<Engine> Engine::create(std::shared_ptr<const Model> model,
                                       const EngineConfig& config) {
    if (!model) throw std::invalid_argument("no model");
    check_config(config);
    const ModelHParams& hp = model->hparams();

    KvCacheShape shape;
    shape.n_layer = hp.n_layer;
    shape.n_kv_head = hp.n_head_kv;
    shape.head_dim = hp.head_dim;
    shape.num_blocks = 1;
    shape.block_size = config.block_size;
    shape.dtype = to_dtype(config.kv_cache_type);
    const auto bytes_per_block = static_cast<int64_t>(CpuKvCache::bytes_per_block(shape));

    const int64_t trained = hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096;
    const int64_t seq_len = config.max_model_len > 0 ? config.max_model_len : trained;
    int64_t usable = 0;
    int64_t budget = 0;
    if (config.num_kv_blocks > 0) {
        usable = config.num_kv_blocks;
    } else {
        budget = config.kv_cache_memory > 0
                     ? config.kv_cache_memory
                     : auto_kv_budget(*model, bytes_per_block, config.block_size, seq_len,
                                      config.max_num_seqs);
        usable = budget / bytes_per_block - 1;
        if (usable < 1)
            throw std::invalid_argument(
                "the KV cache budget of " + std::to_string(budget) + " bytes holds no block (" +
                std::to_string(bytes_per_block) + " bytes per block of " +
                std::to_string(config.block_size) + " tokens, plus one reserved block)");
    }
    usable = std::min<int64_t>(usable, (int64_t{1} << 30) / config.block_size);
    const int64_t capacity = usable * config.block_size;
    int64_t max_model_len = std::min(trained, capacity);
    if (config.max_model_len > 0) {
        if (config.max_model_len > capacity)
            throw std::invalid_argument("max_model_len " + std::to_string(config.max_model_len) +
                                        " does not fit the KV cache, which holds " +
                                        std::to_string(capacity) + " tokens (" +
                                        std::to_string(usable) + " blocks of " +
                                        std::to_string(config.block_size) +
                                        "); give it more memory or lower max_model_len");
        max_model_len = config.max_model_len;
    }

    CpuBackendOptions bo;
    bo.num_threads = config.num_threads;
    bo.kv_num_blocks = usable + 1;  // block 0 is the null block
    bo.kv_block_size = config.block_size;
    bo.kv_dtype = shape.dtype;
    bo.commit_kv_memory = config.commit_kv_memory;
    auto backend = std::make_unique<CpuBackend>(*model, bo);

    EngineCoreConfig cc;
    cc.scheduler.max_num_seqs = config.max_num_seqs;
    cc.scheduler.max_num_batched_tokens = config.max_num_batched_tokens;
    cc.scheduler.long_prefill_token_threshold = config.long_prefill_token_threshold;
    cc.scheduler.max_model_len = static_cast<int32_t>(max_model_len);
    cc.num_kv_blocks = static_cast<int32_t>(usable + 1);
    cc.block_size = config.block_size;
    cc.enable_prefix_caching = config.enable_prefix_caching;

    std::unique_ptr<Engine> engine(new Engine());
    engine->info_.backend = backend->name();
    engine->info_.kv_cache_type = config.kv_cache_type;
    engine->info_.block_size = config.block_size;
    engine->info_.num_kv_blocks = usable;
    engine->info_.bytes_per_block = bytes_per_block;
    engine->info_.kv_cache_bytes = bytes_per_block * (usable + 1);
    engine->info_.max_model_len = max_model_len;
    engine->info_.max_num_seqs = config.max_num_seqs;
    engine->info_.max_num_batched_tokens = config.max_num_batched_tokens;
    engine->info_.enable_prefix_caching = config.enable_prefix_caching;
    engine->info_.n_vocab = hp.n_vocab;
    engine->model_ = model;
    engine->core_ = std::make_shared<EngineCore>(std::move(model), std::move(backend), cc);
    engine->core_->start();
    return engine;
}

Engine::~Engine() {
    if (core_) core_->shutdown();
}

RequestHandle Engine::submit(RequestSpec spec) {
    std::vector<int32_t> tokens;
    if (!spec.prompt_tokens.empty()) {
        tokens = std::move(spec.prompt_tokens);
    } else if (!spec.prompt.empty()) {
        tokens = model_->vocab().tokenize(spec.prompt, spec.add_special, spec.parse_special);
    }
    if (tokens.empty()) throw std::invalid_argument("the prompt is empty");
    const int64_t n_vocab = info_.n_vocab;
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab)
            throw std::invalid_argument("prompt token id " + std::to_string(t) +
                                        " is out of range [0, " + std::to_string(n_vocab) + ")");
    }
    if (std::string err = spec.sampling.validate(static_cast<int32_t>(n_vocab)); !err.empty())
        throw std::invalid_argument(err);
    const auto num_prompt = static_cast<int64_t>(tokens.size());
    if (spec.return_prompt_logits && spec.return_embedding)
        throw std::invalid_argument("return_prompt_logits and return_embedding exclude each other");
    if (spec.return_prompt_logits || spec.return_embedding) {
        if (spec.sampling.n != 1)
            throw std::invalid_argument(
                std::string(spec.return_embedding ? "return_embedding" : "return_prompt_logits") +
                " needs n == 1");
        if (num_prompt > info_.max_model_len)
            throw std::invalid_argument("the prompt has " + std::to_string(num_prompt) +
                                        " tokens, more than the context of " +
                                        std::to_string(info_.max_model_len) + " tokens");
    } else if (num_prompt >= info_.max_model_len) {
        throw std::invalid_argument("the prompt has " + std::to_string(num_prompt) +
                                    " tokens, which fills the context of " +
                                    std::to_string(info_.max_model_len) + " tokens");
    }

    const bool auto_id = spec.request_id.empty();
    for (int attempt = 0;; ++attempt) {
        EngineCoreRequest req;
        req.request_id =
            auto_id ? "req-" + std::to_string(g_next_request.fetch_add(1)) : spec.request_id;
        req.prompt_token_ids = tokens;
        req.params = spec.sampling;
        req.priority = spec.priority;
        req.return_prompt_logits = spec.return_prompt_logits;
        req.return_embedding = spec.return_embedding;
        req.arrival_time = std::chrono::steady_clock::now();
        auto stream = std::make_shared<RequestStream>(req.request_id, tokens, core_);
        try {
            core_->add_request(std::move(req), stream);
        } catch (const std::invalid_argument&) {
            if (auto_id && attempt < 16) continue;  // a client used an id like ours
            throw;
        }
        return RequestHandle(std::move(stream));
    }
}

void Engine::abort(const std::string& request_id) {
    core_->abort_request(request_id);
}

EngineStats Engine::stats() const {
    return core_->stats();
}

// ---- RequestHandle ----------------------------------------------------------------------------

RequestHandle::RequestHandle(std::shared_ptr<RequestStream> stream) : stream_(std::move(stream)) {}

RequestHandle::RequestHandle(RequestHandle&& other) noexcept : stream_(std::move(other.stream_)) {}

RequestHandle& RequestHandle::operator=(RequestHandle&& other) noexcept {
    if (this != &other) {
        if (stream_) stream_->abort();
        stream_ = std::move(other.stream_);
    }
    return *this;
}

RequestHandle::~RequestHandle() {
    if (stream_) stream_->abort();
}

const std::string& RequestHandle::request_id() const {
    static const std::string empty;
    return stream_ ? stream_->request_id() : empty;
}

const std::vector<int32_t>& RequestHandle::prompt_token_ids() const {
    static const std::vector<int32_t> empty;
    return stream_ ? stream_->prompt_token_ids() : empty;
}

std::optional<RequestOutput> RequestHandle::next() {
    return stream_ ? stream_->next() : std::nullopt;
}

std::optional<RequestOutput> RequestHandle::try_next() {
    return stream_ ? stream_->try_next() : std::nullopt;
}

bool RequestHandle::done() const {
    return !stream_ || stream_->done();
}

void RequestHandle::abort() {
    if (stream_) stream_->abort();
}

RequestOutput RequestHandle::collect() {
    RequestOutput merged;
    merged.request_id = request_id();
    std::map<int32_t, CompletionOutput> by_index;
    while (std::optional<RequestOutput> out = next()) {
        for (CompletionOutput& c : out->outputs) {
            CompletionOutput& m = by_index[c.index];
            m.index = c.index;
            m.token_ids.insert(m.token_ids.end(), c.token_ids.begin(), c.token_ids.end());
            m.text += c.text;
            m.logprobs.insert(m.logprobs.end(), std::make_move_iterator(c.logprobs.begin()),
                              std::make_move_iterator(c.logprobs.end()));
            if (c.finish_reason) m.finish_reason = c.finish_reason;
            m.num_cached_tokens = c.num_cached_tokens;
        }
        merged.finished = out->finished;
        merged.error = out->error;
        merged.usage = out->usage;
        merged.metrics = out->metrics;
        if (!out->prompt_logits.empty()) merged.prompt_logits = std::move(out->prompt_logits);
        if (!out->embedding.empty()) merged.embedding = std::move(out->embedding);
    }
    for (auto& [index, c] : by_index) merged.outputs.push_back(std::move(c));
    return merged;
}

}  // namespace folio
