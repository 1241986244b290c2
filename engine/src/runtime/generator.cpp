#include "runtime/generator.h"

#include <algorithm>
#include <stdexcept>

#include "backend/cpu/cpu_backend.h"
#include "common/check.h"
#include "sampling/sampler.h"
#include "sampling/stop_strings.h"
#include "tokenizer/vocab.h"

namespace folio {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::Stop: return "stop";
        case FinishReason::Length: return "length";
        case FinishReason::Abort: return "abort";
    }
    return "?";
}

Generator::Generator(std::shared_ptr<const Model> model, const GeneratorOptions& options)
    : m_model(std::move(model)), m_options(options) {
    const auto& hp = m_model->hparams();
    m_n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
    if (m_n_ctx <= 0) m_n_ctx = 4096;
    CpuBackendOptions bo;
    bo.num_threads = options.num_threads;
    bo.kv_block_size = 16;
    bo.kv_num_blocks = (m_n_ctx + bo.kv_block_size - 1) / bo.kv_block_size;
    bo.kv_dtype = options.kv_dtype;
    m_backend = std::make_unique<CpuBackend>(*m_model, bo);
    m_block_table.resize(static_cast<size_t>(bo.kv_num_blocks));
    for (size_t i = 0; i < m_block_table.size(); ++i) m_block_table[i] = static_cast<int32_t>(i);
}

Generator::~Generator() = default;

void Generator::forward_range(std::span<const int32_t> tokens, int64_t begin, int64_t end,
                              bool all_logits, std::vector<float>& logits) {
    const int64_t n_vocab = m_model->hparams().n_vocab;
    const int64_t bs = m_backend->kv_block_size();
    ForwardBatch batch;
    for (int64_t chunk = begin; chunk < end; chunk += m_options.max_batch_tokens) {
        const int64_t chunk_end = std::min(end, chunk + m_options.max_batch_tokens);
        batch.clear();
        for (int64_t p = chunk; p < chunk_end; ++p) {
            batch.tokens.push_back(tokens[static_cast<size_t>(p)]);
            batch.positions.push_back(static_cast<int32_t>(p));
            batch.slot_mapping.push_back(m_block_table[static_cast<size_t>(p / bs)] * bs + p % bs);
            if (all_logits || p == end - 1)
                batch.logits_rows.push_back(static_cast<int32_t>(p - chunk));
        }
        batch.seqs.push_back(SeqBatchInfo{0, static_cast<int32_t>(chunk_end - chunk),
                                          std::span<const int32_t>(m_block_table)});
        const size_t out_offset = all_logits ? static_cast<size_t>((chunk - begin) * n_vocab) : 0;
        logits.resize(std::max(logits.size(),
                               out_offset + batch.logits_rows.size() * static_cast<size_t>(n_vocab)));
        m_backend->forward(batch, logits.data() + out_offset);
    }
}

std::vector<float> Generator::evaluate(std::span<const int32_t> tokens) {
    if (tokens.empty()) throw std::invalid_argument("no tokens to evaluate");
    if (static_cast<int64_t>(tokens.size()) > m_n_ctx)
        throw std::invalid_argument("input of " + std::to_string(tokens.size()) +
                                    " tokens exceeds the context of " + std::to_string(m_n_ctx));
    std::vector<float> logits;
    forward_range(tokens, 0, static_cast<int64_t>(tokens.size()), true, logits);
    return logits;
}

double Generator::prefill(std::span<const int32_t> tokens) {
    auto t0 = Clock::now();
    std::vector<float> logits;
    forward_range(tokens, 0, static_cast<int64_t>(tokens.size()), false, logits);
    return seconds_since(t0);
}

GenerationResult Generator::generate(std::span<const int32_t> prompt, const SamplingParams& params,
                                     const std::function<bool(std::string_view)>& on_text) {
    const auto& vocab = m_model->vocab();
    const int64_t n_vocab = m_model->hparams().n_vocab;
    if (prompt.empty()) throw std::invalid_argument("the prompt is empty");
    if (static_cast<int64_t>(prompt.size()) >= m_n_ctx)
        throw std::invalid_argument("the prompt has " + std::to_string(prompt.size()) +
                                    " tokens, which fills the context of " +
                                    std::to_string(m_n_ctx) + " tokens");
    if (auto err = params.validate(static_cast<int32_t>(n_vocab)); !err.empty())
        throw std::invalid_argument(err);

    GenerationResult result;
    result.num_prompt_tokens = static_cast<int64_t>(prompt.size());
    std::vector<int32_t> eog;
    for (int32_t id = 0; id < n_vocab; ++id)
        if (vocab.is_eog(id)) eog.push_back(id);
    Sampler sampler(params, static_cast<int32_t>(n_vocab), eog);
    StopStringMatcher stops(params.stop);
    StreamingDetokenizer detok(vocab);

    std::vector<int32_t> seq(prompt.begin(), prompt.end());
    std::vector<float> logits;
    auto t0 = Clock::now();
    forward_range(seq, 0, static_cast<int64_t>(seq.size()), false, logits);
    result.prompt_seconds = seconds_since(t0);
    auto t1 = Clock::now();

    const int64_t max_new = std::min<int64_t>(params.max_tokens.value_or(INT32_MAX),
                                              m_n_ctx - static_cast<int64_t>(seq.size()));
    auto emit = [&](const std::string& text) {
        if (text.empty()) return true;
        result.text += text;
        return on_text ? on_text(text) : true;
    };
    result.finish_reason = FinishReason::Length;
    for (int64_t i = 0; i < max_new; ++i) {
        std::span<float> row(logits.data(), static_cast<size_t>(n_vocab));
        const int32_t tok = sampler.sample(row, prompt, result.tokens);
        const bool stop_token =
            (!params.ignore_eos && vocab.is_eog(tok)) ||
            std::find(params.stop_token_ids.begin(), params.stop_token_ids.end(), tok) !=
                params.stop_token_ids.end();
        if (stop_token) {
            result.finish_reason = FinishReason::Stop;
            break;
        }
        result.tokens.push_back(tok);
        seq.push_back(tok);
        auto r = stops.feed(detok.push(tok));
        if (!emit(r.text)) {
            result.finish_reason = FinishReason::Abort;
            break;
        }
        if (r.stopped) {
            result.finish_reason = FinishReason::Stop;
            break;
        }
        if (i + 1 == max_new) break;
        const auto pos = static_cast<int64_t>(seq.size()) - 1;
        forward_range(seq, pos, pos + 1, false, logits);
    }
    if (result.finish_reason != FinishReason::Abort && !stops.stopped()) {
        auto r = stops.feed(detok.flush());
        emit(r.text);
        if (!r.stopped) emit(stops.flush());
        else result.finish_reason = FinishReason::Stop;
    }
    result.decode_seconds = seconds_since(t1);
    return result;
}

}  // namespace folio
