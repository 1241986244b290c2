#include "backend/cpu/cpu_attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/attention_decode.h"
#include "backend/cpu/cpu_ops.h"
#include "common/check.h"
#include "kernels/cpu/cpu_features.h"

namespace folio {
namespace {

// Query rows of one sequence handled together: each K/V block is converted once per tile.
constexpr int64_t kQueryTile = 16;

// ---- inner loops: scores against one block, weighted V sum --------------------------------
// kt: one K block transposed to [head_dim][block_size] f32; scores[j] = dot(q, key j) * scale
// for j < n (n <= block_size).

void block_scores_scalar(const float* q, const float* kt, int64_t head_dim, int64_t bs, int64_t n,
                         float scale, float* scores) {
    float acc[64] = {};
    for (int64_t d = 0; d < head_dim; ++d)
        for (int64_t j = 0; j < n; ++j) acc[j] += q[d] * kt[d * bs + j];
    for (int64_t j = 0; j < n; ++j) scores[j] = acc[j] * scale;
}

__attribute__((target("avx2,fma"))) void block_scores_avx2(const float* q, const float* kt,
                                                           int64_t head_dim, int64_t bs, int64_t n,
                                                           float scale, float* scores) {
    if (bs != 16) return block_scores_scalar(q, kt, head_dim, bs, n, scale, scores);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 2 <= head_dim; d += 2) {
        const __m256 q0 = _mm256_broadcast_ss(q + d), q1 = _mm256_broadcast_ss(q + d + 1);
        a0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(kt + d * 16), a0);
        a1 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(kt + d * 16 + 8), a1);
        b0 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(kt + d * 16 + 16), b0);
        b1 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(kt + d * 16 + 24), b1);
    }
    for (; d < head_dim; ++d) {
        const __m256 q0 = _mm256_broadcast_ss(q + d);
        a0 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(kt + d * 16), a0);
        a1 = _mm256_fmadd_ps(q0, _mm256_loadu_ps(kt + d * 16 + 8), a1);
    }
    const __m256 vs = _mm256_set1_ps(scale);
    alignas(32) float out[16];
    _mm256_store_ps(out, _mm256_mul_ps(_mm256_add_ps(a0, b0), vs));
    _mm256_store_ps(out + 8, _mm256_mul_ps(_mm256_add_ps(a1, b1), vs));
    std::copy_n(out, n, scores);
}

// out[0..head_dim) += sum_j p[j] * v[j][0..head_dim) for j < n (v rows contiguous).
void weighted_sum_scalar(const float* p, const float* v, int64_t n, int64_t head_dim, float* out) {
    for (int64_t j = 0; j < n; ++j)
        for (int64_t d = 0; d < head_dim; ++d) out[d] += p[j] * v[j * head_dim + d];
}

__attribute__((target("avx2,fma"))) void weighted_sum_avx2(const float* p, const float* v,
                                                           int64_t n, int64_t head_dim,
                                                           float* out) {
    if (head_dim % 64 != 0) {
        if (head_dim % 8 != 0) return weighted_sum_scalar(p, v, n, head_dim, out);
        for (int64_t d = 0; d < head_dim; d += 8) {
            __m256 acc = _mm256_loadu_ps(out + d);
            for (int64_t j = 0; j < n; ++j)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), _mm256_loadu_ps(v + j * head_dim + d),
                                      acc);
            _mm256_storeu_ps(out + d, acc);
        }
        return;
    }
    // 64 output dims stay in 8 registers while every row j is added with one broadcast.
    for (int64_t d = 0; d < head_dim; d += 64) {
        __m256 acc[8];
        for (int k = 0; k < 8; ++k) acc[k] = _mm256_loadu_ps(out + d + 8 * k);
        for (int64_t j = 0; j < n; ++j) {
            const __m256 pj = _mm256_broadcast_ss(p + j);
            const float* vr = v + j * head_dim + d;
            for (int k = 0; k < 8; ++k)
                acc[k] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vr + 8 * k), acc[k]);
        }
        for (int k = 0; k < 8; ++k) _mm256_storeu_ps(out + d + 8 * k, acc[k]);
    }
}

struct Inner {
    void (*scores)(const float*, const float*, int64_t, int64_t, int64_t, float, float*);
    void (*weighted_sum)(const float*, const float*, int64_t, int64_t, float*);
};

const Inner& inner() {
    static const Inner ops = cpu_features().avx2 ? Inner{block_scores_avx2, weighted_sum_avx2}
                                                 : Inner{block_scores_scalar, weighted_sum_scalar};
    return ops;
}

// ---- one task: a tile of query rows of one sequence, one KV head ----------------------------

struct Scratch {
    std::vector<float> scores;  // [tile rows][n_gqa][ctx]
    std::vector<float> block;   // one K or V block as f32: [block_size][head_dim]
    std::vector<float> kt;      // the K block transposed: [head_dim][block_size]
    std::vector<float> q;       // the tile's query heads of this KV head, scaled
};

void attend_tile(const ForwardBatch& batch, const SeqBatchInfo& seq, int32_t row0, int32_t rows,
                 const CpuKvCache& cache, int64_t layer, int64_t kvh, const AttentionShape& s,
                 const float* q, float* out, Scratch& sc) {
    const auto& ops = inner();
    const auto& cs = cache.shape();
    const int64_t n_gqa = s.n_head / s.n_kv_head, hd = s.head_dim, bs = cs.block_size;
    const int64_t qstride = s.n_head * hd;
    // Rows of a sequence have consecutive positions, so the last row sees the longest context.
    const int64_t ctx_max = batch.positions[static_cast<size_t>(row0 + rows - 1)] + 1;
    const int64_t n_blocks = (ctx_max + bs - 1) / bs;
    FOLIO_CHECK(n_blocks <= static_cast<int64_t>(seq.block_table.size()));
    sc.scores.resize(static_cast<size_t>(rows * n_gqa * ctx_max));
    sc.block.resize(static_cast<size_t>(bs * hd));
    sc.kt.resize(static_cast<size_t>(bs * hd));
    auto ctx_of = [&](int32_t r) { return batch.positions[static_cast<size_t>(row0 + r)] + 1; };
    auto scores_of = [&](int32_t r, int64_t g) {
        return sc.scores.data() + (r * n_gqa + g) * ctx_max;
    };

    // Q·K on F16/F32 caches: the one-query kernel reads each key in place for a row's query
    // heads together (eight FMA chains; the transposed-block loop below has four).
    const bool in_place = attend_one_query_supported(cs);
    if (in_place) {
        sc.q.resize(static_cast<size_t>(rows * n_gqa * hd));
        for (int32_t r = 0; r < rows; ++r) {
            const float* q_row = q + (row0 + r) * qstride + kvh * n_gqa * hd;
            for (int64_t i = 0; i < n_gqa * hd; ++i) sc.q[r * n_gqa * hd + i] = q_row[i] * s.scale;
        }
    }
    for (int64_t b = 0; in_place && b < n_blocks; ++b) {
        const int64_t base = b * bs, n = std::min(bs, ctx_max - base);
        const uint8_t* keys = cache.k_head(layer, seq.block_table[static_cast<size_t>(b)], kvh);
        for (int32_t r = 0; r < rows; ++r) {
            const int64_t m = std::min(n, ctx_of(r) - base);
            if (m > 0) {
                one_query_block_scores(cs, keys, m, sc.q.data() + r * n_gqa * hd, n_gqa,
                                       scores_of(r, 0) + base, ctx_max);
            }
        }
    }
    // Other caches: every K block is converted and transposed once for the whole tile.
    for (int64_t b = 0; !in_place && b < n_blocks; ++b) {
        const int64_t base = b * bs, n = std::min(bs, ctx_max - base);
        const int32_t block = seq.block_table[static_cast<size_t>(b)];
        dequantize_row_fast(cs.dtype, cache.k_head(layer, block, kvh), sc.block.data(), n * hd);
        for (int64_t j = 0; j < n; ++j)
            for (int64_t d = 0; d < hd; ++d) sc.kt[d * bs + j] = sc.block[j * hd + d];
        for (int32_t r = 0; r < rows; ++r) {
            const int64_t m = std::min(n, ctx_of(r) - base);
            if (m <= 0) continue;
            const float* q_row = q + (row0 + r) * qstride;
            for (int64_t g = 0; g < n_gqa; ++g)
                ops.scores(q_row + (kvh * n_gqa + g) * hd, sc.kt.data(), hd, bs, m, s.scale,
                           scores_of(r, g) + base);
        }
    }
    // Softmax over each row's own causal context.
    for (int32_t r = 0; r < rows; ++r) {
        for (int64_t g = 0; g < n_gqa; ++g) {
            softmax(scores_of(r, g), ctx_of(r));
            std::fill_n(out + (row0 + r) * qstride + (kvh * n_gqa + g) * hd, hd, 0.0f);
        }
    }
    // P·V: every V block is converted once for the whole tile.
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t base = b * bs, n = std::min(bs, ctx_max - base);
        const int32_t block = seq.block_table[static_cast<size_t>(b)];
        dequantize_row_fast(cs.dtype, cache.v_head(layer, block, kvh), sc.block.data(), n * hd);
        for (int32_t r = 0; r < rows; ++r) {
            const int64_t m = std::min(n, ctx_of(r) - base);
            if (m <= 0) continue;
            for (int64_t g = 0; g < n_gqa; ++g)
                ops.weighted_sum(scores_of(r, g) + base, sc.block.data(), m, hd,
                                 out + (row0 + r) * qstride + (kvh * n_gqa + g) * hd);
        }
    }
}

struct Task {
    int32_t seq, row0, rows;
    int64_t kvh;
};

}  // namespace

void paged_attention(const ForwardBatch& batch, const CpuKvCache& cache, int64_t layer,
                     const AttentionShape& shape, const float* q, float* out, ThreadPool& pool) {
    FOLIO_CHECK(shape.n_head % shape.n_kv_head == 0);
    FOLIO_CHECK(cache.shape().n_kv_head == shape.n_kv_head &&
                cache.shape().head_dim == shape.head_dim);
    FOLIO_CHECK(cache.shape().block_size <= 64);
    // Tasks: (sequence, query tile, kv head); long prefills split into many tiles.
    std::vector<Task> tasks;
    for (size_t si = 0; si < batch.seqs.size(); ++si) {
        const auto& sq = batch.seqs[si];
        for (int32_t r = 0; r < sq.num_tokens; r += kQueryTile) {
            const auto rows =
                static_cast<int32_t>(std::min<int64_t>(kQueryTile, sq.num_tokens - r));
            for (int64_t h = 0; h < shape.n_kv_head; ++h)
                tasks.push_back(Task{static_cast<int32_t>(si), sq.token_begin + r, rows, h});
        }
    }
    // Later tiles see longer contexts: hand them out first for better balance.
    std::reverse(tasks.begin(), tasks.end());
    const bool one_query_path = attend_one_query_supported(cache.shape());
    const int64_t n_gqa = shape.n_head / shape.n_kv_head, qstride = shape.n_head * shape.head_dim;
    pool.parallel_for(static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end, int) {
        thread_local Scratch scratch;
        for (int64_t i = begin; i < end; ++i) {
            const Task& t = tasks[static_cast<size_t>(i)];
            const SeqBatchInfo& seq = batch.seqs[static_cast<size_t>(t.seq)];
            if (t.rows == 1 && one_query_path) {
                DecodeAttentionArgs a;
                a.cache = &cache;
                a.block_table = seq.block_table;
                a.ctx = batch.positions[static_cast<size_t>(t.row0)] + 1;
                a.layer = layer;
                a.kv_head = t.kvh;
                a.n_gqa = n_gqa;
                a.scale = shape.scale;
                const int64_t head0 = t.row0 * qstride + t.kvh * n_gqa * shape.head_dim;
                a.q = q + head0;
                a.out = out + head0;
                attend_one_query(a, scratch.scores);
                continue;
            }
            attend_tile(batch, seq, t.row0, t.rows, cache, layer, t.kvh, shape, q, out, scratch);
        }
    });
}

}  // namespace folio
