#pragma once
// Runs one sequence at a time through a backend: chunked prefill, then token-by-token decode
// with sampling, stop strings and streaming detokenization. The KV cache is addressed through
// the sequence's block table, exactly as the batched engine does.
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.h"
#include "folio/sampling_params.h"
#include "model/model.h"

namespace folio {

struct GeneratorOptions {
    int num_threads = 0;              // 0: all cores
    int64_t n_ctx = 0;                // context window in tokens; 0: min(trained, 4096)
    DType kv_dtype = DType::F16;
    int64_t max_batch_tokens = 512;   // prefill chunk size
};

enum class FinishReason { Stop, Length, Abort };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "abort"

struct GenerationResult {
    std::vector<int32_t> tokens;  // generated ids (stop token excluded)
    std::string text;             // generated text (stop string excluded)
    FinishReason finish_reason = FinishReason::Length;
    int64_t num_prompt_tokens = 0;
    double prompt_seconds = 0;  // prefill wall time
    double decode_seconds = 0;  // from the first sampled token to the last
};

class Generator {
public:
    // Throws std::runtime_error when the KV cache cannot be allocated.
    Generator(std::shared_ptr<const Model> model, const GeneratorOptions& options);
    ~Generator();

    const Model& model() const { return *m_model; }
    int64_t n_ctx() const { return m_n_ctx; }
    Backend& backend() { return *m_backend; }

    // Generates a continuation of `prompt`. on_text(delta) receives text as soon as it is safe
    // (complete UTF-8, no partial stop string); returning false aborts. Throws
    // std::invalid_argument for an empty prompt, a prompt that fills the context, or invalid
    // sampling parameters.
    GenerationResult generate(std::span<const int32_t> prompt, const SamplingParams& params,
                              const std::function<bool(std::string_view)>& on_text = {});

    // Teacher forcing: feeds `tokens` and returns the logits after every position,
    // [tokens.size()][n_vocab]. Throws std::invalid_argument when tokens exceed the context.
    std::vector<float> evaluate(std::span<const int32_t> tokens);

    // Runs the prompt through the model without sampling (prefill benchmark); returns seconds.
    double prefill(std::span<const int32_t> tokens);

private:
    // Feeds tokens[begin, end) of the sequence (positions begin..end-1); fills logits for the
    // requested rows.
    void forward_range(std::span<const int32_t> tokens, int64_t begin, int64_t end,
                       bool all_logits, std::vector<float>& logits);

    std::shared_ptr<const Model> m_model;
    GeneratorOptions m_options;
    int64_t m_n_ctx = 0;
    std::unique_ptr<Backend> m_backend;
    std::vector<int32_t> m_block_table;  // the one sequence's blocks: 0..n-1 in order
};

}  // namespace folio
