#pragma once
// The tensors of a pre-norm decoder-only transformer (llama family), bound by name from a GGUF
// file. Pointers refer to tensor infos inside the owning GgufFile. An architecture file decides
// which optional tensors exist (biases, fused projections) and the rope style.
#include <vector>

#include "gguf/gguf_file.h"
#include "model/hparams.h"

namespace folio {

struct LayerWeights {
    const gguf::TensorInfo* attn_norm = nullptr;  // [n_embd] f32
    // Either separate q/k/v projections or one fused qkv ([n_embd] -> q | k | v rows).
    const gguf::TensorInfo* wq = nullptr;  // [n_embd] -> [n_embd_q]
    const gguf::TensorInfo* wk = nullptr;  // [n_embd] -> [n_embd_kv]
    const gguf::TensorInfo* wv = nullptr;
    const gguf::TensorInfo* wqkv = nullptr;
    const gguf::TensorInfo* bq = nullptr;  // optional biases (qwen2)
    const gguf::TensorInfo* bk = nullptr;
    const gguf::TensorInfo* bv = nullptr;
    const gguf::TensorInfo* wo = nullptr;  // [n_embd_q] -> [n_embd]
    const gguf::TensorInfo* ffn_norm = nullptr;
    // Either separate gate/up or one fused gate_up ([n_embd] -> gate | up rows, phi3).
    const gguf::TensorInfo* w_gate = nullptr;  // [n_embd] -> [n_ff]
    const gguf::TensorInfo* w_up = nullptr;
    const gguf::TensorInfo* w_gate_up = nullptr;
    const gguf::TensorInfo* w_down = nullptr;  // [n_ff] -> [n_embd]
};

struct ModelWeights {
    const gguf::TensorInfo* tok_embd = nullptr;     // rows = tokens
    const gguf::TensorInfo* output_norm = nullptr;  // [n_embd]
    const gguf::TensorInfo* output = nullptr;       // rows = tokens; tok_embd when tied
    const gguf::TensorInfo* rope_freqs = nullptr;   // optional [n_rot/2] divisors (llama-3)
    std::vector<LayerWeights> layers;
};

// Looks up tensors and checks their shapes; throws gguf::GgufError naming the tensor.
class WeightBinder {
  public:
    WeightBinder(const gguf::GgufFile& file, const ModelHParams& hp) : m_file(file), m_hp(hp) {}
    // Tensor `name` with exactly the given dims (ne[0] first); throws when missing or mis-shaped.
    const gguf::TensorInfo* require(const std::string& name, std::initializer_list<int64_t> ne);
    // nullptr when absent; throws when present with the wrong shape.
    const gguf::TensorInfo* optional(const std::string& name, std::initializer_list<int64_t> ne);
    static std::string layer_name(int layer, const char* suffix);
    // token_embd, output_norm, and output (the embedding when output.weight is absent).
    void bind_embeddings(ModelWeights& w);

  private:
    void check_shape(const gguf::TensorInfo& t, std::initializer_list<int64_t> ne);
    const gguf::GgufFile& m_file;
    const ModelHParams& m_hp;
};

}  // namespace folio
