#include "runtime/engine_core.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>

#include "common/check.h"

namespace folio {
namespace {

constexpr auto kRateWindow = std::chrono::seconds(10);

FinishReason finish_reason_of(RequestStatus status) {
    switch (status) {
        case RequestStatus::FinishedStopped:
            return FinishReason::Stop;
        case RequestStatus::FinishedLength:
            return FinishReason::Length;
        case RequestStatus::FinishedAborted:
            return FinishReason::Abort;
        default:
            return FinishReason::Error;
    }
}

PositionLogprobs to_position_logprobs(int32_t token, const TokenLogprobs& lp) {
    PositionLogprobs out;
    out.token = token;
    out.logprob = lp.logprob;
    out.top.reserve(lp.top.size());
    for (const TokenLogprob& t : lp.top) out.top.push_back(TopLogprob{t.token, t.logprob});
    return out;
}

}  // namespace

EngineCore::EngineCore(std::shared_ptr<const Model> model, std::unique_ptr<Backend> backend,
                       const EngineCoreConfig& config)
    : model_(std::move(model)), backend_(std::move(backend)), config_(config) {
    FOLIO_CHECK(model_ && backend_);
    FOLIO_CHECK(backend_->kv_num_blocks() == config.num_kv_blocks);
    FOLIO_CHECK(backend_->kv_block_size() == config.block_size);
    n_vocab_ = model_->hparams().n_vocab;
    eog_ids_ = model_->vocab().eog_ids();
    kv_ = std::make_unique<KVCacheManager>(config.num_kv_blocks, config.block_size,
                                           config.enable_prefix_caching);
    scheduler_ = std::make_unique<Scheduler>(config.scheduler, *kv_);
    runner_ = std::make_unique<ModelRunner>(*backend_, n_vocab_, model_->hparams().n_embd);
    output_ = std::make_unique<OutputProcessor>(model_->vocab());
    stats_.kv_blocks_total = config.num_kv_blocks - 1;
    stats_.kv_blocks_free = stats_.kv_blocks_total;
}

EngineCore::~EngineCore() {
    shutdown();
}

void EngineCore::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    FOLIO_CHECK(!started_ && !stop_);
    started_ = true;
    thread_ = std::thread([this] { run(); });
}

void EngineCore::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_ && !thread_.joinable()) return;
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EngineCore::add_request(EngineCoreRequest request, std::shared_ptr<RequestStream> stream) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) throw std::runtime_error("the engine is shut down");
        if (!live_ids_.insert(request.request_id).second)
            throw std::invalid_argument("request id '" + request.request_id +
                                        "' is already in use");
        inbox_.emplace_back(AddMsg{std::move(request), std::move(stream)});
    }
    cv_.notify_one();
}

void EngineCore::abort_request(const std::string& request_id) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_ || live_ids_.count(request_id) == 0) return;
        inbox_.emplace_back(AbortMsg{request_id});
    }
    cv_.notify_one();
}

void EngineCore::run() {
    for (;;) {
        std::vector<Msg> msgs;
        bool stopping = false;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            const bool busy = scheduler_->has_unfinished_requests();
            if (!busy) cv_.wait(lock, [this] { return stop_ || !inbox_.empty(); });
            msgs.swap(inbox_);
            stopping = stop_;
        }
        for (Msg& m : msgs) {
            if (auto* add = std::get_if<AddMsg>(&m)) {
                handle_add(*add);
            } else {
                handle_abort(std::get<AbortMsg>(m).request_id);
            }
        }
        if (stopping) {
            finish_seqs(output_->all_unfinished_seqs(), FinishReason::Abort);
            publish(Clock::now());
            return;  // add_request() refuses new requests once stop_ is set
        }
        if (scheduler_->has_unfinished_requests()) {
            try {
                step();
            } catch (const std::exception& e) {
                fail_all(std::string("engine step failed: ") + e.what());
            }
        }
        publish(Clock::now());
    }
}

void EngineCore::handle_add(AddMsg& msg) {
    EngineCoreRequest& req = msg.request;
    const SamplingParams& p = req.params;
    StopCriteria stop;
    stop.max_tokens = p.max_tokens.value_or(INT32_MAX);
    stop.min_tokens = p.min_tokens;
    if (!p.ignore_eos) stop.stop_token_ids = eog_ids_;
    stop.stop_token_ids.insert(stop.stop_token_ids.end(), p.stop_token_ids.begin(),
                               p.stop_token_ids.end());
    stop.prompt_only = req.return_prompt_logits || req.return_embedding;
    stop.prompt_hidden = req.return_embedding;

    const int32_t n = stop.prompt_only ? 1 : p.n;
    std::vector<std::string> seq_ids;
    for (int32_t i = 0; i < n; ++i) {
        std::string seq_id = "seq-" + std::to_string(next_seq_++);
        auto request = std::make_unique<Request>(seq_id, req.prompt_token_ids, stop, req.priority,
                                                 next_arrival_++);
        scheduler_->add_request(std::move(request));
        SeqEntry entry;
        entry.request_id = req.request_id;
        if (!stop.prompt_only) {
            entry.sampler = std::make_unique<Sampler>(p, static_cast<int32_t>(n_vocab_), eog_ids_,
                                                      static_cast<uint64_t>(i));
        }
        entry.num_logprobs = p.logprobs.value_or(-1);
        seqs_.emplace(seq_id, std::move(entry));
        seq_ids.push_back(std::move(seq_id));
    }
    output_->add_request(req.request_id, std::move(msg.stream), p,
                         static_cast<int32_t>(req.prompt_token_ids.size()), req.arrival_time,
                         seq_ids);
}

void EngineCore::handle_abort(const std::string& request_id) {
    finish_seqs(output_->unfinished_seqs(request_id), FinishReason::Abort);
}

void EngineCore::finish_seqs(const std::vector<std::string>& seq_ids, FinishReason reason,
                             const std::string& error) {
    if (seq_ids.empty()) return;
    RequestStatus status = RequestStatus::FinishedAborted;
    if (reason == FinishReason::Stop) status = RequestStatus::FinishedStopped;
    if (reason == FinishReason::Length) status = RequestStatus::FinishedLength;
    if (reason == FinishReason::Error) status = RequestStatus::FinishedError;
    scheduler_->finish_requests(seq_ids, status);
    for (const std::string& id : seq_ids) {
        output_->on_finished(id, reason, error);
        seqs_.erase(id);
    }
}

void EngineCore::fail_all(const std::string& error) {
    finish_seqs(output_->all_unfinished_seqs(), FinishReason::Error, error);
    // Blocks allocated for the failed step carry hashes of KV that was never computed.
    kv_->reset_prefix_cache();
}

void EngineCore::step() {
    const Clock::time_point begin = Clock::now();
    SchedulerOutput so = scheduler_->schedule();
    for (const std::string& id : so.failed_request_ids) {
        output_->on_finished(id, FinishReason::Error,
                             "the request does not fit in the KV cache (" +
                                 std::to_string(kv_->num_blocks() - 1) + " blocks of " +
                                 std::to_string(kv_->block_size()) + " tokens)");
        seqs_.erase(id);
    }
    if (so.empty()) return;

    for (const ScheduledRequest& s : so.requests) {
        output_->on_scheduled(s.request->request_id(), std::max(0, s.request->num_cached_tokens),
                              begin);
    }
    runner_->execute(so, runner_output_);

    // Sample every sequence whose step reached its last known token.
    std::vector<int32_t> sampled(so.requests.size(), -1);
    std::vector<std::optional<PositionLogprobs>> logprobs(so.requests.size());
    int64_t prompt_tokens = 0;
    for (size_t i = 0; i < so.requests.size(); ++i) {
        const ScheduledRequest& s = so.requests[i];
        prompt_tokens += s.num_prompt_positions;
        const int32_t row = runner_output_.first_row[i];
        if (row < 0) continue;
        const std::string& seq_id = s.request->request_id();
        if (s.all_hidden) {
            const auto n_embd = static_cast<size_t>(runner_output_.n_embd);
            const auto rows =
                std::span<const float>(runner_output_.hidden)
                    .subspan(static_cast<size_t>(row) * n_embd,
                             static_cast<size_t>(runner_output_.num_rows[i]) * n_embd);
            output_->on_prompt_hidden(seq_id, rows, n_embd);
            continue;
        }
        if (s.all_logits) {
            const auto rows =
                std::span<const float>(runner_output_.logits)
                    .subspan(static_cast<size_t>(row) * n_vocab_,
                             static_cast<size_t>(runner_output_.num_rows[i]) * n_vocab_);
            output_->on_prompt_logits(seq_id, rows);
            continue;
        }
        SeqEntry& entry = seqs_.at(seq_id);
        TokenLogprobs lp;
        const int32_t token = entry.sampler->sample(
            runner_output_.row(row), s.request->prompt_token_ids(), s.request->output_token_ids(),
            entry.num_logprobs >= 0 ? &lp : nullptr);
        sampled[i] = token;
        if (entry.num_logprobs >= 0) logprobs[i] = to_position_logprobs(token, lp);
    }

    const std::vector<RequestUpdate> updates = scheduler_->update_from_output(so, sampled);
    const Clock::time_point end = Clock::now();
    int64_t generated = 0;
    std::vector<std::string> stopped_by_string;
    for (size_t i = 0; i < updates.size(); ++i) {
        const RequestUpdate& u = updates[i];
        bool finished = is_finished(u.status);
        FinishReason reason = finish_reason_of(u.status);
        if (u.new_token_id >= 0) {
            ++generated;
            if (u.stopped_by_token) {
                output_->on_stop_token(u.request_id, end);
            } else if (output_->on_token(u.request_id, u.new_token_id,
                                         logprobs[i] ? &*logprobs[i] : nullptr, end)) {
                reason = FinishReason::Stop;
                if (!finished) stopped_by_string.push_back(u.request_id);
                finished = true;
            }
        }
        if (finished) {
            output_->on_finished(u.request_id, reason);
            seqs_.erase(u.request_id);
        }
    }
    // Stop strings are seen here, after the scheduler's checks: free those sequences now too.
    scheduler_->finish_requests(stopped_by_string, RequestStatus::FinishedStopped);

    prompt_tokens_total_ += prompt_tokens;
    generation_tokens_total_ += generated;
    last_step_ = StepRecord{begin, end, prompt_tokens, generated};
    have_step_ = true;
}

void EngineCore::publish(Clock::time_point now) {
    auto outputs = output_->collect(now);
    std::vector<std::string> finished_ids;
    for (const auto& [stream, out] : outputs)
        if (out.finished) finished_ids.push_back(out.request_id);
    finished_requests_ += static_cast<int64_t>(finished_ids.size());

    {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        EngineStats& s = stats_;
        s.num_running = scheduler_->num_running();
        s.num_waiting = scheduler_->num_waiting();
        s.kv_blocks_total = kv_->num_blocks() - 1;
        s.kv_blocks_free = kv_->num_free_blocks();
        s.kv_blocks_used = s.kv_blocks_total - s.kv_blocks_free;
        const PrefixCacheStats& pc = kv_->prefix_cache_stats();
        s.prefix_cache_queries = pc.queries;
        s.prefix_cache_hits = pc.hits;
        s.prefix_cache_hit_rate = pc.hit_rate();
        s.num_preemptions = scheduler_->counters().num_preemptions;
        s.num_steps = scheduler_->counters().num_steps;
        s.num_requests_finished = finished_requests_;
        s.prompt_tokens_total = prompt_tokens_total_;
        s.generation_tokens_total = generation_tokens_total_;
        if (have_step_) {
            window_.push_back(last_step_);
            have_step_ = false;
        }
        while (!window_.empty() && now - window_.front().end > kRateWindow) window_.pop_front();
    }
    if (!finished_ids.empty()) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const std::string& id : finished_ids) live_ids_.erase(id);
    }
    for (auto& [stream, out] : outputs) stream->push(std::move(out));
}

EngineStats EngineCore::stats() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    EngineStats s = stats_;
    const Clock::time_point now = Clock::now();
    int64_t prompt = 0, generated = 0;
    Clock::time_point first = now;
    for (const StepRecord& r : window_) {
        if (now - r.end > kRateWindow) continue;
        prompt += r.prompt_tokens;
        generated += r.generation_tokens;
        first = std::min(first, r.begin);
    }
    const double span = std::chrono::duration<double>(now - first).count();
    if (span > 0) {
        s.prompt_tokens_per_s = static_cast<double>(prompt) / span;
        s.generation_tokens_per_s = static_cast<double>(generated) / span;
    }
    return s;
}

}  // namespace folio
