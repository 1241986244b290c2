#include "backend/cpu/attention_decode.h"

#include <immintrin.h>

#include <algorithm>

#include "backend/cpu/cpu_ops.h"
#include "common/check.h"
#include "kernels/cpu/cpu_features.h"

namespace folio {
namespace {

constexpr int64_t kMaxHeadDim = 256;
constexpr int kHeadGroup = 4;  // query heads computed together (registers: 2 x 4 accumulators)

#define FOLIO_AVX2 __attribute__((target("avx2,fma,f16c")))

// Eight K or V elements starting at element d of a row, as floats.
template <bool kF16>
FOLIO_AVX2 inline __m256 load8(const uint8_t* row, int64_t d) {
    if constexpr (kF16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * d)));
    } else {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + d);
    }
}

FOLIO_AVX2 inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// scores[g * stride + j] = dot(qs + g*hd, key j) for the n keys of one block (row_bytes apart).
template <bool kF16, int G>
FOLIO_AVX2 void block_scores(const uint8_t* kb, size_t row_bytes, int64_t n, int64_t hd,
                             const float* qs, float* scores, int64_t stride) {
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {  // two keys share every query load
        const uint8_t* k0 = kb + j * row_bytes;
        const uint8_t* k1 = k0 + row_bytes;
        __m256 a0[G], a1[G];
        for (int g = 0; g < G; ++g) a0[g] = a1[g] = _mm256_setzero_ps();
        for (int64_t d = 0; d < hd; d += 8) {
            const __m256 x0 = load8<kF16>(k0, d), x1 = load8<kF16>(k1, d);
            for (int g = 0; g < G; ++g) {
                const __m256 qv = _mm256_loadu_ps(qs + g * hd + d);
                a0[g] = _mm256_fmadd_ps(qv, x0, a0[g]);
                a1[g] = _mm256_fmadd_ps(qv, x1, a1[g]);
            }
        }
        for (int g = 0; g < G; ++g) {
            scores[g * stride + j] = hsum8(a0[g]);
            scores[g * stride + j + 1] = hsum8(a1[g]);
        }
    }
    for (; j < n; ++j) {
        const uint8_t* k0 = kb + j * row_bytes;
        __m256 a0[G];
        for (int g = 0; g < G; ++g) a0[g] = _mm256_setzero_ps();
        for (int64_t d = 0; d < hd; d += 8) {
            const __m256 x0 = load8<kF16>(k0, d);
            for (int g = 0; g < G; ++g)
                a0[g] = _mm256_fmadd_ps(_mm256_loadu_ps(qs + g * hd + d), x0, a0[g]);
        }
        for (int g = 0; g < G; ++g) scores[g * stride + j] = hsum8(a0[g]);
    }
}

// out[g*hd + d] += sum_j p[g * stride + j] * value j [d] for the n values of one block.
template <bool kF16, int G>
FOLIO_AVX2 void block_weighted_sum(const uint8_t* vb, size_t row_bytes, int64_t n, int64_t hd,
                                   const float* p, int64_t stride, float* out) {
    for (int64_t d = 0; d < hd; d += 16) {
        __m256 a0[G], a1[G];
        for (int g = 0; g < G; ++g) {
            a0[g] = _mm256_loadu_ps(out + g * hd + d);
            a1[g] = _mm256_loadu_ps(out + g * hd + d + 8);
        }
        for (int64_t j = 0; j < n; ++j) {
            const uint8_t* vr = vb + j * row_bytes;
            const __m256 v0 = load8<kF16>(vr, d), v1 = load8<kF16>(vr, d + 8);
            for (int g = 0; g < G; ++g) {
                const __m256 pj = _mm256_broadcast_ss(p + g * stride + j);
                a0[g] = _mm256_fmadd_ps(pj, v0, a0[g]);
                a1[g] = _mm256_fmadd_ps(pj, v1, a1[g]);
            }
        }
        for (int g = 0; g < G; ++g) {
            _mm256_storeu_ps(out + g * hd + d, a0[g]);
            _mm256_storeu_ps(out + g * hd + d + 8, a1[g]);
        }
    }
}

// G query heads (starting at head g0 of the group) over the whole context.
template <bool kF16, int G>
FOLIO_AVX2 void attend_heads(const DecodeAttentionArgs& a, int64_t g0, float* scores) {
    const CpuKvCache& cache = *a.cache;
    const int64_t hd = cache.shape().head_dim, bs = cache.shape().block_size;
    const size_t row_bytes = cache.head_bytes();
    alignas(32) float qs[kHeadGroup * kMaxHeadDim];
    for (int g = 0; g < G; ++g) {
        for (int64_t d = 0; d < hd; ++d) qs[g * hd + d] = a.q[(g0 + g) * hd + d] * a.scale;
    }
    const int64_t n_blocks = (a.ctx + bs - 1) / bs;
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t base = b * bs, n = std::min(bs, a.ctx - base);
        block_scores<kF16, G>(cache.k_head(a.layer, a.block_table[b], a.kv_head), row_bytes, n, hd,
                              qs, scores + base, a.ctx);
    }
    float* out = a.out + g0 * hd;
    for (int g = 0; g < G; ++g) softmax(scores + g * a.ctx, a.ctx);
    std::fill_n(out, G * hd, 0.0f);
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t base = b * bs, n = std::min(bs, a.ctx - base);
        block_weighted_sum<kF16, G>(cache.v_head(a.layer, a.block_table[b], a.kv_head), row_bytes,
                                    n, hd, scores + base, a.ctx, out);
    }
}

template <bool kF16>
void attend_all(const DecodeAttentionArgs& a, float* scores) {
    for (int64_t g0 = 0; g0 < a.n_gqa; g0 += kHeadGroup) {
        switch (std::min<int64_t>(kHeadGroup, a.n_gqa - g0)) {
            case 1:
                attend_heads<kF16, 1>(a, g0, scores);
                break;
            case 2:
                attend_heads<kF16, 2>(a, g0, scores);
                break;
            case 3:
                attend_heads<kF16, 3>(a, g0, scores);
                break;
            default:
                attend_heads<kF16, 4>(a, g0, scores);
                break;
        }
    }
}

}  // namespace

bool attend_one_query_supported(const KvCacheShape& shape) {
    return cpu_features().avx2 && (shape.dtype == DType::F16 || shape.dtype == DType::F32) &&
           shape.head_dim % 16 == 0 && shape.head_dim <= kMaxHeadDim;
}

void attend_one_query(const DecodeAttentionArgs& a, std::vector<float>& scores) {
    FOLIO_CHECK(a.ctx > 0 &&
                a.block_table.size() * a.cache->shape().block_size >= static_cast<size_t>(a.ctx));
    scores.resize(static_cast<size_t>(std::min<int64_t>(kHeadGroup, a.n_gqa) * a.ctx));
    if (a.cache->shape().dtype == DType::F16) {
        attend_all<true>(a, scores.data());
    } else {
        attend_all<false>(a, scores.data());
    }
}

}  // namespace folio
