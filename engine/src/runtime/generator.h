#pragma once
// Generator: a thin synchronous helper over folio::Engine for one caller that runs one request at
// a time (tests, scripts). Everything goes through the engine's scheduler, paged KV cache and
// step loop; the engine is sized for one sequence of n_ctx tokens, without prefix caching, so
// every call computes from scratch.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "folio/engine.h"
#include "folio/request_output.h"
#include "folio/sampling_params.h"
#include "model/model.h"
#include "tensor/dtype.h"

namespace folio {

struct GeneratorOptions {
    int num_threads = 0;             // 0: all cores
    int64_t n_ctx = 0;               // context window in tokens; 0: min(trained, 4096)
    DType kv_dtype = DType::F16;     // F16, F32 or Q8_0
    int64_t max_batch_tokens = 512;  // prefill chunk size (max_num_batched_tokens)
};

struct GenerationResult {
    std::vector<int32_t> tokens;  // generated ids (stop token excluded)
    std::string text;             // generated text (stop string excluded)
    FinishReason finish_reason = FinishReason::Length;
    int64_t num_prompt_tokens = 0;
    double prompt_seconds = 0;  // prefill wall time (first step to first token)
    double decode_seconds = 0;  // from the first sampled token to the last
};

class Generator {
  public:
    // Throws std::runtime_error when the KV cache cannot be allocated.
    Generator(std::shared_ptr<const Model> model, const GeneratorOptions& options);
    ~Generator();

    const Model& model() const { return *m_model; }
    int64_t n_ctx() const { return m_n_ctx; }
    Engine& engine() { return *m_engine; }

    // Generates a continuation of `prompt` (n == 1). on_text(delta) receives text as soon as it
    // is safe (complete UTF-8, no partial stop string); returning false aborts. Throws
    // std::invalid_argument for an empty prompt, a prompt that fills the context, or invalid
    // sampling parameters.
    GenerationResult generate(std::span<const int32_t> prompt, const SamplingParams& params,
                              const std::function<bool(std::string_view)>& on_text = {});

    // Teacher forcing: feeds `tokens` and returns the logits after every position,
    // [tokens.size()][n_vocab]. Throws std::invalid_argument when tokens exceed the context.
    std::vector<float> evaluate(std::span<const int32_t> tokens);

  private:
    std::shared_ptr<const Model> m_model;
    int64_t m_n_ctx = 0;
    std::unique_ptr<Engine> m_engine;
};

}  // namespace folio
