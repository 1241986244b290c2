#pragma once
// The architectures Folio runs. Each has one file (llama.cpp, qwen2.cpp, phi3.cpp) that binds its
// GGUF tensors into ModelWeights and states its quirks; the forward pass is shared.
#include <string>
#include <string_view>
#include <vector>

#include "model/model_weights.h"

namespace folio {

struct Architecture {
    std::string_view name;  // general.architecture
    RopeType rope_type;
    ModelWeights (*bind)(const gguf::GgufFile& file, const ModelHParams& hp);
};

// nullptr when `name` is not supported.
const Architecture* find_architecture(std::string_view name);
std::string supported_architectures();  // "llama, qwen2, phi3"

ModelWeights bind_llama(const gguf::GgufFile& file, const ModelHParams& hp);
ModelWeights bind_qwen2(const gguf::GgufFile& file, const ModelHParams& hp);
ModelWeights bind_phi3(const gguf::GgufFile& file, const ModelHParams& hp);

}  // namespace folio
