#include "backend/cpu/cpu_attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/check.h"
#include "kernels/cpu/cpu_features.h"
#include "tensor/quants.h"

namespace folio {
namespace {

// ---- row helpers: scalar and AVX2 versions --------------------------------------------------

float dot_scalar(const float* a, const float* b, int64_t n) {
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

void axpy_scalar(float a, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

__attribute__((target("avx2,fma"))) float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float s = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"))) void axpy_avx2(float a, const float* x, float* y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += a * x[i];
}

__attribute__((target("avx2,f16c"))) void f16_to_f32_avx2(const fp16_t* src, float* dst,
                                                         int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                      reinterpret_cast<const __m128i*>(src + i))));
    for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

struct RowOps {
    float (*dot)(const float*, const float*, int64_t);
    void (*axpy)(float, const float*, float*, int64_t);
    bool avx2;
};

const RowOps& row_ops() {
    static const RowOps ops = cpu_features().avx2 ? RowOps{dot_avx2, axpy_avx2, true}
                                                  : RowOps{dot_scalar, axpy_scalar, false};
    return ops;
}

// n consecutive head rows of `dtype` (each head_dim long) → f32.
void rows_to_f32(DType dtype, const uint8_t* src, float* dst, int64_t n_rows, int64_t head_dim,
                 bool avx2) {
    const int64_t n = n_rows * head_dim;
    if (dtype == DType::F32) {
        std::copy_n(reinterpret_cast<const float*>(src), n, dst);
    } else if (dtype == DType::F16 && avx2) {
        f16_to_f32_avx2(reinterpret_cast<const fp16_t*>(src), dst, n);
    } else {
        dequantize_row(dtype, src, dst, n);  // rows are contiguous, so one call covers them
    }
}

// ---- the kernel -----------------------------------------------------------------------------

struct Scratch {
    std::vector<float> scores;  // [n_gqa][ctx]
    std::vector<float> kv;      // [block_size][head_dim]
};

void attend_one(const ForwardBatch& batch, const SeqBatchInfo& seq, int32_t row,
                const CpuKvCache& cache, int64_t layer, int64_t kvh, const AttentionShape& s,
                const float* q, float* out, Scratch& scratch) {
    const auto& ops = row_ops();
    const auto& cs = cache.shape();
    const int64_t n_gqa = s.n_head / s.n_kv_head;
    const int64_t ctx = batch.positions[row] + 1;
    const int64_t bs = cs.block_size;
    const int64_t n_blocks = (ctx + bs - 1) / bs;
    FOLIO_CHECK(n_blocks <= static_cast<int64_t>(seq.block_table.size()));
    const int64_t qstride = s.n_head * s.head_dim;
    const float* q_row = q + row * qstride;
    float* out_row = out + row * qstride;

    scratch.scores.resize(static_cast<size_t>(n_gqa * ctx));
    scratch.kv.resize(static_cast<size_t>(bs * s.head_dim));
    float* kv = scratch.kv.data();

    // Scores: one pass over the K blocks, all query heads of the group at once.
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t n = std::min(bs, ctx - b * bs);
        const int32_t block = seq.block_table[static_cast<size_t>(b)];
        rows_to_f32(cs.dtype, cache.k_head(layer, block, kvh), kv, n, s.head_dim, ops.avx2);
        for (int64_t g = 0; g < n_gqa; ++g) {
            const float* qh = q_row + (kvh * n_gqa + g) * s.head_dim;
            float* sc = scratch.scores.data() + g * ctx + b * bs;
            for (int64_t j = 0; j < n; ++j)
                sc[j] = ops.dot(qh, kv + j * s.head_dim, s.head_dim) * s.scale;
        }
    }
    // Softmax per head.
    for (int64_t g = 0; g < n_gqa; ++g) {
        float* sc = scratch.scores.data() + g * ctx;
        float mx = *std::max_element(sc, sc + ctx);
        double sum = 0;
        for (int64_t j = 0; j < ctx; ++j) {
            sc[j] = std::exp(sc[j] - mx);
            sum += sc[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t j = 0; j < ctx; ++j) sc[j] *= inv;
        std::fill_n(out_row + (kvh * n_gqa + g) * s.head_dim, s.head_dim, 0.0f);
    }
    // Weighted sum of V.
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t n = std::min(bs, ctx - b * bs);
        const int32_t block = seq.block_table[static_cast<size_t>(b)];
        rows_to_f32(cs.dtype, cache.v_head(layer, block, kvh), kv, n, s.head_dim, ops.avx2);
        for (int64_t g = 0; g < n_gqa; ++g) {
            const float* sc = scratch.scores.data() + g * ctx + b * bs;
            float* o = out_row + (kvh * n_gqa + g) * s.head_dim;
            for (int64_t j = 0; j < n; ++j) ops.axpy(sc[j], kv + j * s.head_dim, o, s.head_dim);
        }
    }
}

}  // namespace

void paged_attention(const ForwardBatch& batch, const CpuKvCache& cache, int64_t layer,
                     const AttentionShape& shape, const float* q, float* out, ThreadPool& pool) {
    FOLIO_CHECK(shape.n_head % shape.n_kv_head == 0);
    FOLIO_CHECK(cache.shape().n_kv_head == shape.n_kv_head && cache.shape().head_dim == shape.head_dim);
    const int64_t n_rows = batch.num_tokens();
    std::vector<int32_t> row_seq(static_cast<size_t>(n_rows), -1);
    for (size_t si = 0; si < batch.seqs.size(); ++si) {
        const auto& sq = batch.seqs[si];
        for (int32_t r = sq.token_begin; r < sq.token_begin + sq.num_tokens; ++r)
            row_seq[static_cast<size_t>(r)] = static_cast<int32_t>(si);
    }
    const int64_t n_tasks = n_rows * shape.n_kv_head;
    pool.parallel_for(n_tasks, 1, [&](int64_t begin, int64_t end, int) {
        thread_local Scratch scratch;
        for (int64_t t = begin; t < end; ++t) {
            const auto row = static_cast<int32_t>(t / shape.n_kv_head);
            const int64_t kvh = t % shape.n_kv_head;
            const int32_t si = row_seq[static_cast<size_t>(row)];
            FOLIO_CHECK(si >= 0);
            attend_one(batch, batch.seqs[static_cast<size_t>(si)], row, cache, layer, kvh, shape, q,
                       out, scratch);
        }
    });
}

}  // namespace folio
