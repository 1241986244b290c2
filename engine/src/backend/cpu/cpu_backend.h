#pragma once
// The CPU backend: prepared weights (CpuWeight), the paged KV cache in host memory, a thread
// pool, and the forward pass of the shared decoder architecture (llama, qwen2, phi3).
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kv_cache.h"
#include "backend/cpu/cpu_matmul.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/thread_pool.h"
#include "model/model.h"

namespace folio {

struct CpuBackendOptions {
    int num_threads = 0;  // 0: all cores
    int64_t kv_num_blocks = 0;
    int64_t kv_block_size = 16;
    DType kv_dtype = DType::F16;
    bool commit_kv_memory = false;  // see EngineConfig::commit_kv_memory
};

class CpuBackend : public Backend {
  public:
    // `model` must outlive the backend. Throws std::runtime_error on failure (e.g. KV memory).
    CpuBackend(const Model& model, const CpuBackendOptions& options);
    ~CpuBackend() override;

    std::string name() const override;
    void forward(const ForwardBatch& batch, float* logits, float* hidden) override;
    int64_t kv_num_blocks() const override { return m_kv->shape().num_blocks; }
    int64_t kv_block_size() const override { return m_kv->shape().block_size; }
    ThreadPool& pool() { return m_pool; }

  private:
    struct Layer;
    struct Buffers;
    void prepare_weights();
    void run_layer(size_t il, const ForwardBatch& batch, Buffers& buf);

    const Model& m_model;
    ThreadPool m_pool;
    std::unique_ptr<CpuKvCache> m_kv;
    WeightArena m_arena;  // repacked weights; outlives every CpuWeight below
    std::vector<Layer> m_layers;
    std::unique_ptr<CpuWeight> m_tok_embd;
    std::unique_ptr<CpuWeight> m_output;  // its own copy even when tied to the embedding
    std::vector<float> m_output_norm;
    std::vector<float> m_rope_freq_factors;  // rope_freqs.weight (llama-3), or empty
    RopeParams m_rope;
    std::unique_ptr<Buffers> m_buf;
};

}  // namespace folio
