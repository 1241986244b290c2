#pragma once
// Paged attention on the CPU: every query token attends causally to its sequence's K/V, read
// only through the sequence's block table (no contiguous per-request KV anywhere).
#include <cstdint>

#include "backend/cpu/cpu_kv_cache.h"
#include "backend/cpu/thread_pool.h"
#include "runtime/forward_batch.h"

namespace folio {

struct AttentionShape {
    int64_t n_head = 0;
    int64_t n_kv_head = 0;
    int64_t head_dim = 0;
    float scale = 1.0f;  // usually 1/sqrt(head_dim)
};

// q: [n_tokens][n_head * head_dim] (rope applied); out: same shape. The K/V of every token in
// the batch must already be stored in `cache` at its slot. Token t of a sequence attends to
// positions 0..positions[t]. Work is split over (token, kv head) pairs across the pool.
void paged_attention(const ForwardBatch& batch, const CpuKvCache& cache, int64_t layer,
                     const AttentionShape& shape, const float* q, float* out, ThreadPool& pool);

}  // namespace folio
