#include "runtime/model_runner.h"

#include "common/check.h"
#include "sched/request.h"

namespace folio {

ModelRunner::ModelRunner(Backend& backend, int64_t n_vocab, int64_t n_embd)
    : backend_(backend), n_vocab_(n_vocab), n_embd_(n_embd) {
    FOLIO_CHECK(n_vocab > 0 && n_embd > 0);
}

void ModelRunner::build_batch(const SchedulerOutput& output, ForwardBatch& batch,
                              ModelRunnerOutput& result) const {
    const int64_t bs = backend_.kv_block_size();
    batch.clear();
    batch.tokens.reserve(static_cast<size_t>(output.total_num_scheduled_tokens));
    batch.positions.reserve(static_cast<size_t>(output.total_num_scheduled_tokens));
    batch.slot_mapping.reserve(static_cast<size_t>(output.total_num_scheduled_tokens));
    result.n_vocab = n_vocab_;
    result.n_embd = n_embd_;
    result.first_row.assign(output.requests.size(), -1);
    result.num_rows.assign(output.requests.size(), 0);

    for (size_t i = 0; i < output.requests.size(); ++i) {
        const ScheduledRequest& s = output.requests[i];
        const std::vector<int32_t>& tokens = s.request->kv.token_ids;
        const int32_t begin = s.num_computed_tokens;
        const int32_t end = begin + s.num_scheduled_tokens;
        FOLIO_CHECK(s.num_scheduled_tokens > 0 && end <= static_cast<int32_t>(tokens.size()));
        FOLIO_CHECK(static_cast<int64_t>(s.block_ids.size()) * bs >= end);
        const int32_t row0 = batch.num_tokens();
        for (int32_t pos = begin; pos < end; ++pos) {
            batch.tokens.push_back(tokens[static_cast<size_t>(pos)]);
            batch.positions.push_back(pos);
            batch.slot_mapping.push_back(
                static_cast<int64_t>(s.block_ids[static_cast<size_t>(pos / bs)]) * bs + pos % bs);
        }
        batch.seqs.push_back(
            SeqBatchInfo{row0, s.num_scheduled_tokens, std::span<const int32_t>(s.block_ids)});
        if (s.all_hidden) {
            result.first_row[i] = static_cast<int32_t>(batch.hidden_rows.size());
            result.num_rows[i] = s.num_scheduled_tokens;
            for (int32_t r = row0; r < row0 + s.num_scheduled_tokens; ++r)
                batch.hidden_rows.push_back(r);
        } else if (s.all_logits) {
            result.first_row[i] = static_cast<int32_t>(batch.logits_rows.size());
            result.num_rows[i] = s.num_scheduled_tokens;
            for (int32_t r = row0; r < row0 + s.num_scheduled_tokens; ++r)
                batch.logits_rows.push_back(r);
        } else if (s.sample) {
            result.first_row[i] = static_cast<int32_t>(batch.logits_rows.size());
            result.num_rows[i] = 1;
            batch.logits_rows.push_back(row0 + s.num_scheduled_tokens - 1);
        }
    }
}

void ModelRunner::execute(const SchedulerOutput& output, ModelRunnerOutput& result) {
    FOLIO_CHECK(!output.empty());
    build_batch(output, batch_, result);
    result.logits.resize(batch_.logits_rows.size() * static_cast<size_t>(n_vocab_));
    result.hidden.resize(batch_.hidden_rows.size() * static_cast<size_t>(n_embd_));
    backend_.forward(batch_, result.logits.data(), result.hidden.data());
}

}  // namespace folio
