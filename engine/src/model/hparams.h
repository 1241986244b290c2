#pragma once
// Hyperparameters of a decoder-only transformer, read from GGUF metadata ("<arch>.*" keys).
#include <cstdint>
#include <string>

namespace folio {
namespace gguf {
class GgufFile;
}

enum class RopeType { Norm, Neox };  // Norm pairs (x[2i], x[2i+1]); Neox pairs (x[i], x[i+n_rot/2])

struct ModelHParams {
    std::string arch;
    std::string name;
    int64_t n_vocab = 0;
    int64_t n_ctx_train = 0;
    int64_t n_embd = 0;
    int64_t n_layer = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t n_ff = 0;
    int64_t head_dim = 0;  // per head, for Q, K and V
    int64_t n_rot = 0;     // rotated dims per head (<= head_dim)
    float rms_eps = 1e-5f;
    float rope_freq_base = 10000.0f;
    float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
    RopeType rope_type = RopeType::Norm;

    int64_t n_embd_q() const { return n_head * head_dim; }
    int64_t n_embd_kv() const { return n_head_kv * head_dim; }
    int64_t n_gqa() const { return n_head / n_head_kv; }
};

// Reads and checks the hyperparameters; throws gguf::GgufError naming the key on missing or
// inconsistent values (e.g. head count not dividing the embedding size).
ModelHParams load_hparams(const gguf::GgufFile& file);

}  // namespace folio
