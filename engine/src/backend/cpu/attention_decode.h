#pragma once
// One query row against its sequence's paged K/V (the decode case), for an F16 or F32 cache
// on AVX2 (with FMA and F16C): Q·K, softmax and P·V read each block in place, with no
// conversion or transposition into scratch, and the query heads that share a KV head (GQA)
// share every K/V load. Rows of a prefill take the tile path of cpu_attention.cpp instead.
#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/cpu_kv_cache.h"

namespace folio {

struct DecodeAttentionArgs {
    const CpuKvCache* cache = nullptr;
    std::span<const int32_t> block_table;  // the sequence's blocks in position order
    int64_t ctx = 0;                       // positions 0..ctx-1 are attended to
    int64_t layer = 0;
    int64_t kv_head = 0;
    int64_t n_gqa = 1;  // query heads per KV head
    float scale = 1.0f;
    const float* q = nullptr;  // n_gqa heads of head_dim, consecutive
    float* out = nullptr;      // n_gqa heads of head_dim, consecutive (overwritten)
};

// Whether attend_one_query() handles this cache: F16 or F32, head_dim a multiple of 16 and at
// most 256, block_size at most 64, on a CPU with AVX2.
bool attend_one_query_supported(const KvCacheShape& shape);

// Precondition: attend_one_query_supported(cache shape). `scores` is reusable scratch.
void attend_one_query(const DecodeAttentionArgs& a, std::vector<float>& scores);

}  // namespace folio
