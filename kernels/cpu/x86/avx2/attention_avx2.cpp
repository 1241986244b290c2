// AVX2 flash-attention block step (OpsTable::attn_block): scores of a block's keys against a
// tile of queries, the online-softmax update, and the weighted sum of the block's values.
//
// Scores are computed transposed (s[j * ldq + i], keys down, queries across), so that one
// vector holds eight queries' scores for one key: the softmax update (masking, running max,
// exp, running sum, rescale factor) is then plain vertical arithmetic with no horizontal sums.
// Each query's lane sees the same operations in the same order whatever its position in the
// call, so its result never depends on the other queries of the tile.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;

// Covers [0, n) with register tiles of 6, then 4, 2 and 1 rows (keys or output dims): calls
// fn.template operator()<S>(start) for each tile of S rows.
template <typename Fn>
inline void for_row_tiles(int64_t n, const Fn& fn) {
    int64_t r = 0;
    for (; r + 6 <= n; r += 6) fn.template operator()<6>(r);
    for (; r + 4 <= n; r += 4) fn.template operator()<4>(r);
    for (; r + 2 <= n; r += 2) fn.template operator()<2>(r);
    for (; r < n; ++r) fn.template operator()<1>(r);
}

// acc[r][w] += sum_t a[t * at + r * ar] * b[t * ldb + 8 * w] for t < n: per step, R broadcast
// scalars against W vectors of eight queries. The shared core of the score and value tiles.
template <int R, int W>
__attribute__((always_inline)) inline void accumulate_outer(const float* a, int64_t at, int64_t ar,
                                                            const float* b, int64_t ldb, int64_t n,
                                                            __m256 (&acc)[R][W]) {
    for (int64_t t = 0; t < n; ++t) {
        __m256 bv[W];
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) bv[w] = _mm256_loadu_ps(b + t * ldb + 8 * w);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + t * at + r * ar);
#pragma GCC unroll 8
            for (int w = 0; w < W; ++w) acc[r][w] = _mm256_fmadd_ps(av, bv[w], acc[r][w]);
        }
    }
}

// Stores R x W accumulators as rows r0.. of dst (row stride ld), eight queries from i0 each.
template <int R, int W>
__attribute__((always_inline)) inline void store_rows(const __m256 (&acc)[R][W], float* dst,
                                                      int64_t ld, int64_t r0, int64_t i0) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) _mm256_storeu_ps(dst + (r0 + r) * ld + i0 + 8 * w, acc[r][w]);
}

// s[j * ldq + i] = dot(key j, query i) for J keys from j0 and 8*W queries from i0: J x W
// accumulators, each query row of qt loaded once per J keys.
template <int J, int W>
inline void scores_tile(const float* qt, int64_t ldq, int64_t hd, const float* k, int64_t j0,
                        int64_t i0, float* s) {
    __m256 acc[J][W];
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j)
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) acc[j][w] = _mm256_setzero_ps();
    accumulate_outer<J, W>(k + j0 * hd, 1, hd, qt + i0, ldq, hd, acc);
    store_rows<J, W>(acc, s, ldq, j0, i0);
}

// The online-softmax update of eight queries from i0: masks the keys they do not see, turns
// their scores into exp(score - new max) in place, updates m and l, and leaves the factor that
// rescales their previous output in c.
inline void softmax_update(int64_t kb, const int32_t* valid, float* m, float* l, float* s,
                           int64_t ldq, int64_t i0, float* c) {
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    const __m256i vis = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(valid + i0));
    const __m256 m_old = _mm256_loadu_ps(m + i0);
    __m256 mx = m_old;
    for (int64_t j = 0; j < kb; ++j) {
        float* sj = s + j * ldq + i0;
        const __m256 seen =
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(vis, _mm256_set1_epi32(static_cast<int>(j))));
        const __m256 v = _mm256_blendv_ps(neg_inf, _mm256_loadu_ps(sj), seen);
        _mm256_storeu_ps(sj, v);
        mx = _mm256_max_ps(mx, v);
    }
    // A lane that has seen no key yet keeps max -inf; subtracting 0 there keeps every exp at 0
    // (no inf - inf).
    const __m256 sub =
        _mm256_blendv_ps(mx, _mm256_setzero_ps(), _mm256_cmp_ps(mx, neg_inf, _CMP_EQ_OQ));
    const __m256 scale = exp_ps(_mm256_sub_ps(m_old, sub));
    __m256 sum = _mm256_setzero_ps();
    for (int64_t j = 0; j < kb; ++j) {
        float* sj = s + j * ldq + i0;
        const __m256 p = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(sj), sub));
        _mm256_storeu_ps(sj, p);
        sum = _mm256_add_ps(sum, p);
    }
    _mm256_storeu_ps(l + i0, _mm256_fmadd_ps(_mm256_loadu_ps(l + i0), scale, sum));
    _mm256_storeu_ps(m + i0, mx);
    _mm256_storeu_ps(c + i0, scale);
}

// ot[d][i] = ot[d][i] * c[i] + sum_j p[j][i] * v[j][d] for D output dims from d0 and 8*W
// queries from i0, keys j < n: the values broadcast, the probabilities loaded as vectors of
// eight queries (the layout of the scores), D x W accumulators.
template <int D, int W>
inline void weighted_sum_tile(const float* s, int64_t ldq, const float* v, int64_t n, int64_t hd,
                              const float* c, int64_t d0, int64_t i0, float* ot) {
    __m256 acc[D][W];
#pragma GCC unroll 8
    for (int w = 0; w < W; ++w) {
        const __m256 cw = _mm256_loadu_ps(c + i0 + 8 * w);
#pragma GCC unroll 8
        for (int dd = 0; dd < D; ++dd)
            acc[dd][w] = _mm256_mul_ps(_mm256_loadu_ps(ot + (d0 + dd) * ldq + i0 + 8 * w), cw);
    }
    accumulate_outer<D, W>(v + d0, hd, 1, s + i0, ldq, n, acc);
    store_rows<D, W>(acc, ot, ldq, d0, i0);
}

void attn_block(const float* qt, int64_t ldq, int64_t nq, int64_t hd, const float* k,
                const float* v, int64_t kb, const int32_t* valid, float* m, float* l, float* ot,
                float* s) {
    float* c = s + kb * ldq;
    const int64_t nq8 = (nq + 7) / 8 * 8;
    int64_t i0 = 0;
    for (; i0 + 16 <= nq8; i0 += 16) {
        for_row_tiles(kb, [&]<int J>(int64_t j) { scores_tile<J, 2>(qt, ldq, hd, k, j, i0, s); });
    }
    if (i0 < nq8) {
        for_row_tiles(kb, [&]<int J>(int64_t j) { scores_tile<J, 1>(qt, ldq, hd, k, j, i0, s); });
    }
    for (i0 = 0; i0 < nq8; i0 += 8) softmax_update(kb, valid, m, l, s, ldq, i0, c);
    // Keys past every query's view hold p = 0: each column group stops at its longest view.
    auto seen_max = [&](int64_t i, int64_t count) {
        int64_t n = 0;
        for (int64_t q = i; q < std::min(i + count, nq); ++q) n = std::max<int64_t>(n, valid[q]);
        return n;
    };
    for (i0 = 0; i0 + 16 <= nq8; i0 += 16) {
        if (const int64_t n = seen_max(i0, 16)) {
            for_row_tiles(hd, [&]<int D>(int64_t d) {
                weighted_sum_tile<D, 2>(s, ldq, v, n, hd, c, d, i0, ot);
            });
        }
    }
    if (i0 < nq8) {
        if (const int64_t n = seen_max(i0, 8)) {
            for_row_tiles(hd, [&]<int D>(int64_t d) {
                weighted_sum_tile<D, 1>(s, ldq, v, n, hd, c, d, i0, ot);
            });
        }
    }
}

}  // namespace

void register_avx2_attention(KernelTable& t) {
    t.ops.attn_block = attn_block;
}

}  // namespace folio::kern
