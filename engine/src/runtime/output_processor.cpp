#include "runtime/output_processor.h"

#include <cmath>

#include "common/check.h"

namespace folio {

namespace {

// Mean of `num_rows` summed rows, scaled to unit L2 norm (all zeros stay zeros).
std::vector<float> mean_l2_normalized(const std::vector<double>& sum, int64_t num_rows) {
    double norm = 0.0;
    for (double v : sum) norm += v * v;
    norm = std::sqrt(norm);
    std::vector<float> out(sum.size(), 0.0f);
    if (norm == 0.0 || num_rows == 0) return out;
    for (size_t i = 0; i < sum.size(); ++i) out[i] = static_cast<float>(sum[i] / norm);
    return out;
}

}  // namespace

void OutputProcessor::add_request(const std::string& request_id,
                                  std::shared_ptr<RequestStream> stream,
                                  const SamplingParams& params, int32_t num_prompt_tokens,
                                  Clock::time_point arrival_time,
                                  std::span<const std::string> seq_ids) {
    FOLIO_CHECK(!seq_ids.empty() && requests_.count(request_id) == 0);
    auto r = std::make_unique<RequestState>();
    r->request_id = request_id;
    r->stream = std::move(stream);
    r->want_logprobs = params.logprobs.has_value();
    r->n = static_cast<int32_t>(seq_ids.size());
    r->seq_ids.assign(seq_ids.begin(), seq_ids.end());
    r->usage.prompt_tokens = num_prompt_tokens;
    r->metrics.arrival_time = arrival_time;
    for (size_t i = 0; i < seq_ids.size(); ++i) {
        auto s = std::make_unique<SeqState>(vocab_, params.stop);
        s->request = r.get();
        s->index = static_cast<int32_t>(i);
        FOLIO_CHECK(seqs_.count(seq_ids[i]) == 0);
        seqs_.emplace(seq_ids[i], std::move(s));
    }
    requests_.emplace(request_id, std::move(r));
}

std::vector<std::string> OutputProcessor::unfinished_seqs(const std::string& request_id) const {
    std::vector<std::string> ids;
    auto it = requests_.find(request_id);
    if (it == requests_.end()) return ids;
    for (const std::string& id : it->second->seq_ids) {
        auto s = seqs_.find(id);
        if (s != seqs_.end() && !s->second->finished) ids.push_back(id);
    }
    return ids;
}

std::vector<std::string> OutputProcessor::all_unfinished_seqs() const {
    std::vector<std::string> ids;
    for (const auto& [id, s] : seqs_)
        if (!s->finished) ids.push_back(id);
    return ids;
}

OutputProcessor::SeqState& OutputProcessor::seq(const std::string& seq_id) {
    auto it = seqs_.find(seq_id);
    FOLIO_CHECK(it != seqs_.end());
    return *it->second;
}

CompletionOutput& OutputProcessor::pending(SeqState& s) {
    auto [it, inserted] = s.request->pending.try_emplace(s.index);
    if (inserted) {
        it->second.index = s.index;
        it->second.num_cached_tokens = s.num_cached_tokens;
    }
    return it->second;
}

void OutputProcessor::note_token_time(RequestState& r, Clock::time_point now) {
    if (!r.first_token) {
        r.first_token = true;
        r.metrics.first_token_time = now;
    }
    r.metrics.last_token_time = now;
}

void OutputProcessor::on_scheduled(const std::string& seq_id, int32_t num_cached_tokens,
                                   Clock::time_point now) {
    SeqState& s = seq(seq_id);
    if (s.scheduled) return;
    s.scheduled = true;
    s.num_cached_tokens = num_cached_tokens;
    RequestState& r = *s.request;
    if (s.index == 0) r.usage.cached_prompt_tokens = num_cached_tokens;
    if (!r.first_scheduled) {
        r.first_scheduled = true;
        r.metrics.first_scheduled_time = now;
    }
}

void OutputProcessor::on_prompt_logits(const std::string& seq_id, std::span<const float> rows) {
    SeqState& s = seq(seq_id);
    s.request->prompt_logits.insert(s.request->prompt_logits.end(), rows.begin(), rows.end());
}

void OutputProcessor::on_prompt_hidden(const std::string& seq_id, std::span<const float> rows,
                                       size_t n_embd) {
    RequestState& r = *seq(seq_id).request;
    FOLIO_CHECK(n_embd > 0 && rows.size() % n_embd == 0);
    if (r.hidden_sum.empty()) r.hidden_sum.assign(n_embd, 0.0);
    FOLIO_CHECK(r.hidden_sum.size() == n_embd);
    for (size_t i = 0; i < rows.size(); ++i) r.hidden_sum[i % n_embd] += rows[i];
    r.hidden_rows += static_cast<int64_t>(rows.size() / n_embd);
}

bool OutputProcessor::on_token(const std::string& seq_id, int32_t token,
                               const PositionLogprobs* logprobs, Clock::time_point now) {
    SeqState& s = seq(seq_id);
    FOLIO_CHECK(!s.finished);
    RequestState& r = *s.request;
    ++r.usage.completion_tokens;
    note_token_time(r, now);
    CompletionOutput& out = pending(s);
    out.token_ids.push_back(token);
    if (r.want_logprobs && logprobs != nullptr) out.logprobs.push_back(*logprobs);
    StopStringMatcher::Result res = s.stops.feed(s.detok.push(token));
    out.text += res.text;
    return res.stopped;
}

void OutputProcessor::on_stop_token(const std::string& seq_id, Clock::time_point now) {
    SeqState& s = seq(seq_id);
    ++s.request->usage.completion_tokens;
    note_token_time(*s.request, now);
}

void OutputProcessor::on_finished(const std::string& seq_id, FinishReason reason,
                                  const std::string& error) {
    SeqState& s = seq(seq_id);
    if (s.finished) return;
    s.finished = true;
    RequestState& r = *s.request;
    CompletionOutput& out = pending(s);
    if (reason != FinishReason::Abort && reason != FinishReason::Error && !s.stops.stopped()) {
        // Release what the detokenizer and the stop-string matcher held back.
        StopStringMatcher::Result res = s.stops.feed(s.detok.flush());
        out.text += res.text;
        if (res.stopped) {
            reason = FinishReason::Stop;
        } else {
            out.text += s.stops.flush();
        }
    }
    out.finish_reason = reason;
    if (reason == FinishReason::Error && r.error.empty()) r.error = error;
    ++r.num_finished;
}

std::vector<std::pair<std::shared_ptr<RequestStream>, RequestOutput>> OutputProcessor::collect(
    Clock::time_point now) {
    std::vector<std::pair<std::shared_ptr<RequestStream>, RequestOutput>> result;
    for (auto it = requests_.begin(); it != requests_.end();) {
        RequestState& r = *it->second;
        const bool finished = r.num_finished == r.n;
        if (r.pending.empty() && !finished) {
            ++it;
            continue;
        }
        RequestOutput out;
        out.request_id = r.request_id;
        out.outputs.reserve(r.pending.size());
        for (auto& [index, delta] : r.pending) out.outputs.push_back(std::move(delta));
        r.pending.clear();
        out.finished = finished;
        out.usage = r.usage;
        out.metrics = r.metrics;
        if (finished) {
            out.error = r.error;
            out.metrics.finished_time = now;
            out.prompt_logits = std::move(r.prompt_logits);
            // Only a request whose whole prompt was computed has an embedding.
            if (r.hidden_rows > 0 && r.hidden_rows == r.usage.prompt_tokens)
                out.embedding = mean_l2_normalized(r.hidden_sum, r.hidden_rows);
        }
        result.emplace_back(r.stream, std::move(out));
        if (finished) {
            for (const std::string& id : r.seq_ids) seqs_.erase(id);
            it = requests_.erase(it);
        } else {
            ++it;
        }
    }
    return result;
}

}  // namespace folio
