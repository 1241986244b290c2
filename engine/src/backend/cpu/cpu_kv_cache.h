#pragma once
// The paged KV cache in host memory: for every layer, K and V pools of num_blocks blocks of
// block_size token slots. Layout per layer and per pool: [block][kv_head][slot][head_dim] in
// `dtype` (F16 default, F32, or Q8_0 with head_dim a multiple of 32), so one head's keys in a
// block are contiguous. Nothing is per request: sequences address it through block tables.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/dtype.h"

namespace folio {

struct KvCacheShape {
    int64_t n_layer = 0;
    int64_t n_kv_head = 0;
    int64_t head_dim = 0;
    int64_t num_blocks = 0;
    int64_t block_size = 16;
    DType dtype = DType::F16;
};

class CpuKvCache {
  public:
    // Throws std::runtime_error on an unsupported dtype or when memory cannot be reserved.
    // commit_now: fault in every page at once (steady resident memory from the start) instead
    // of committing each block's pages when it is first written.
    explicit CpuKvCache(const KvCacheShape& shape, bool commit_now = false);
    ~CpuKvCache();
    CpuKvCache(const CpuKvCache&) = delete;
    CpuKvCache& operator=(const CpuKvCache&) = delete;

    const KvCacheShape& shape() const { return m_shape; }
    // Bytes of one head's slot (head_dim elements of dtype).
    size_t head_bytes() const { return m_head_bytes; }
    // Bytes needed for one block across all layers, K and V.
    static size_t bytes_per_block(const KvCacheShape& shape);
    size_t total_bytes() const { return m_total_bytes; }

    // Start of head `h`'s block_size slots in block `block` of layer `layer`.
    uint8_t* k_head(int64_t layer, int64_t block, int64_t h) { return ptr(0, layer, block, h); }
    uint8_t* v_head(int64_t layer, int64_t block, int64_t h) { return ptr(1, layer, block, h); }
    const uint8_t* k_head(int64_t layer, int64_t block, int64_t h) const {
        return const_cast<CpuKvCache*>(this)->ptr(0, layer, block, h);
    }
    const uint8_t* v_head(int64_t layer, int64_t block, int64_t h) const {
        return const_cast<CpuKvCache*>(this)->ptr(1, layer, block, h);
    }

    // Stores one token's K and V ([n_kv_head * head_dim] f32 each) into `slot`
    // (block * block_size + offset), converting to dtype.
    void store(int64_t layer, int64_t slot, const float* k, const float* v);

  private:
    uint8_t* ptr(int kv, int64_t layer, int64_t block, int64_t h);

    KvCacheShape m_shape;
    size_t m_head_bytes = 0;
    size_t m_block_bytes = 0;  // one block, one layer, K or V
    size_t m_total_bytes = 0;
    uint8_t* m_data = nullptr;
};

}  // namespace folio
