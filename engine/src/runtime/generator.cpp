#include "runtime/generator.h"

#include <algorithm>
#include <stdexcept>

namespace folio {

Generator::Generator(std::shared_ptr<const Model> model, const GeneratorOptions& options)
    : m_model(std::move(model)) {
    const auto& hp = m_model->hparams();
    m_n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
    if (m_n_ctx <= 0) m_n_ctx = 4096;
    EngineConfig config;
    config.num_threads = options.num_threads;
    config.block_size = 16;
    config.num_kv_blocks = (m_n_ctx + config.block_size - 1) / config.block_size;
    config.max_model_len = m_n_ctx;
    config.kv_cache_type = options.kv_dtype == DType::F32    ? KvCacheType::F32
                           : options.kv_dtype == DType::Q8_0 ? KvCacheType::Q8_0
                                                             : KvCacheType::F16;
    config.max_num_seqs = 1;
    config.max_num_batched_tokens =
        static_cast<int>(std::max<int64_t>(1, options.max_batch_tokens));
    config.enable_prefix_caching = false;
    m_engine = Engine::create(m_model, config);
}

Generator::~Generator() = default;

std::vector<float> Generator::evaluate(std::span<const int32_t> tokens) {
    if (tokens.empty()) throw std::invalid_argument("no tokens to evaluate");
    if (static_cast<int64_t>(tokens.size()) > m_n_ctx)
        throw std::invalid_argument("input of " + std::to_string(tokens.size()) +
                                    " tokens exceeds the context of " + std::to_string(m_n_ctx));
    RequestSpec spec;
    spec.prompt_tokens.assign(tokens.begin(), tokens.end());
    spec.return_prompt_logits = true;
    RequestHandle h = m_engine->submit(std::move(spec));
    RequestOutput out = h.collect();
    if (!out.error.empty()) throw std::runtime_error(out.error);
    return std::move(out.prompt_logits);
}

GenerationResult Generator::generate(std::span<const int32_t> prompt, const SamplingParams& params,
                                     const std::function<bool(std::string_view)>& on_text) {
    if (params.n != 1)
        throw std::invalid_argument("Generator::generate runs one completion (n == 1)");
    RequestSpec spec;
    spec.prompt_tokens.assign(prompt.begin(), prompt.end());
    spec.sampling = params;
    RequestHandle h = m_engine->submit(std::move(spec));

    GenerationResult result;
    result.num_prompt_tokens = static_cast<int64_t>(prompt.size());
    bool aborted = false;
    while (std::optional<RequestOutput> out = h.next()) {
        for (const CompletionOutput& c : out->outputs) {
            result.tokens.insert(result.tokens.end(), c.token_ids.begin(), c.token_ids.end());
            result.text += c.text;
            if (!c.text.empty() && on_text && !aborted && !on_text(c.text)) {
                aborted = true;
                h.abort();
            }
            if (c.finish_reason) result.finish_reason = *c.finish_reason;
        }
        if (out->finished) {
            if (!out->error.empty()) throw std::runtime_error(out->error);
            result.prompt_seconds = out->metrics.prefill_seconds();
            result.decode_seconds = out->metrics.decode_seconds();
        }
    }
    if (aborted) result.finish_reason = FinishReason::Abort;
    return result;
}

}  // namespace folio
