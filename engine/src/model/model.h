#pragma once
// A loaded model: the mapped GGUF file, its hyperparameters, bound weights and tokenizer.
// Immutable after load and shared by every backend and request that uses it.
#include <filesystem>
#include <memory>

#include "gguf/gguf_file.h"
#include "model/architecture.h"
#include "model/hparams.h"
#include "model/model_weights.h"
#include "tokenizer/vocab.h"

namespace folio {

class Model {
  public:
    // Opens and validates `path`; throws gguf::GgufError / std::runtime_error with a message
    // naming the file and the problem (unsupported architecture, missing tensor, ...).
    static std::unique_ptr<Model> load(const std::filesystem::path& path);

    const gguf::GgufFile& file() const { return *m_file; }
    const ModelHParams& hparams() const { return m_hparams; }
    const ModelWeights& weights() const { return m_weights; }
    const Architecture& architecture() const { return *m_arch; }
    const Vocab& vocab() const { return *m_vocab; }
    // Bytes of all tensor data (what the weights occupy in memory).
    size_t weight_bytes() const;

  private:
    Model() = default;
    std::unique_ptr<gguf::GgufFile> m_file;
    ModelHParams m_hparams;
    ModelWeights m_weights;
    const Architecture* m_arch = nullptr;
    std::unique_ptr<Vocab> m_vocab;
};

}  // namespace folio
