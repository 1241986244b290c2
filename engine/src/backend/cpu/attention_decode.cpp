#include "backend/cpu/attention_decode.h"

#include <immintrin.h>

#include <algorithm>

#include "backend/cpu/cpu_ops.h"
#include "common/check.h"
#include "kernels/cpu/cpu_features.h"

namespace folio {
namespace {

constexpr int64_t kMaxHeadDim = 256;
constexpr int64_t kMaxBlock = 64;  // block_size limit of this path
constexpr int kHeadGroup = 4;      // query heads computed together (registers: 2 x 4 accumulators)

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

// Fetches lines [first, last) of a block (64-byte lines) towards L1.
inline void prefetch_lines(const uint8_t* p, int64_t first, int64_t last) {
    for (int64_t l = first; l < last; ++l) {
        _mm_prefetch(reinterpret_cast<const char*>(p + l * 64), _MM_HINT_T0);
    }
}

// The sums of four query heads' accumulators for keys j (a0) and j+1 (a1), as
// [j: g0 g1 g2 g3 | j+1: g0 g1 g2 g3]: nine instructions for eight dot products.
FOLIO_AVX2 inline __m256 reduce_4x2(const __m256* a0, const __m256* a1) {
    const __m256 k0 = _mm256_hadd_ps(_mm256_hadd_ps(a0[0], a0[1]), _mm256_hadd_ps(a0[2], a0[3]));
    const __m256 k1 = _mm256_hadd_ps(_mm256_hadd_ps(a1[0], a1[1]), _mm256_hadd_ps(a1[2], a1[3]));
    return _mm256_add_ps(_mm256_permute2f128_ps(k0, k1, 0x20),
                         _mm256_permute2f128_ps(k0, k1, 0x31));
}

// Lines of memory the scores pass of one block fetches ahead: the next block's keys and this
// block's values (the blocks lie anywhere in the pool, so each would start on a cold miss).
// Spread over the key pairs so the fetches never queue up in one burst.
struct BlockPrefetch {
    const uint8_t* next_k = nullptr;
    const uint8_t* this_v = nullptr;
    int64_t lines = 0;  // per block

    // Lines [first, last) of both blocks (each may be absent).
    void fetch(int64_t first, int64_t last) const {
        if (next_k != nullptr) prefetch_lines(next_k, first, last);
        if (this_v != nullptr) prefetch_lines(this_v, first, last);
    }
};

// Dot products of G query heads with KP consecutive keys: acc[k][g] += q_g · key k, eight or
// more independent FMA chains for G * KP >= 8 (FMA latency 4, two per cycle).
template <bool kF16, int G, int KP>
FOLIO_AVX2 inline void dot_keys(const uint8_t* k0, size_t row_bytes, int64_t hd, const float* qs,
                                __m256 (&acc)[KP][G]) {
    for (int k = 0; k < KP; ++k) {
        for (int g = 0; g < G; ++g) acc[k][g] = _mm256_setzero_ps();
    }
    for (int64_t d = 0; d < hd; d += 8) {
        __m256 x[KP];
        for (int k = 0; k < KP; ++k) x[k] = load8<kF16>(k0 + k * row_bytes, d);
        for (int g = 0; g < G; ++g) {
            const __m256 qv = _mm256_loadu_ps(qs + g * hd + d);
            for (int k = 0; k < KP; ++k) acc[k][g] = _mm256_fmadd_ps(qv, x[k], acc[k][g]);
        }
    }
}

// scores[g * stride + j] = dot(qs + g*hd, key j) for the n keys of one block (row_bytes apart).
// Keys go KP at a time (2 for four heads, 4 for one or two) so that every step keeps eight
// accumulators; four heads' sums reduce jointly into tile[j][g], transposed into the score
// rows four keys at a time.
template <bool kF16, int G>
FOLIO_AVX2 void block_scores(const uint8_t* kb, size_t row_bytes, int64_t n, int64_t hd,
                             const float* qs, float* scores, int64_t stride,
                             const BlockPrefetch& pf) {
    constexpr int KP = G <= 2 ? 4 : 2;
    alignas(32) float tile[kMaxBlock * 4];
    const int64_t steps = n / KP;
    const int64_t per_step = steps > 0 ? (pf.lines + steps - 1) / steps : pf.lines;
    int64_t j = 0;
    for (; j + KP <= n; j += KP) {
        const int64_t l0 = std::min(j / KP * per_step, pf.lines);
        pf.fetch(l0, std::min(l0 + per_step, pf.lines));
        __m256 acc[KP][G];
        dot_keys<kF16, G, KP>(kb + j * row_bytes, row_bytes, hd, qs, acc);
        if constexpr (G == 4) {
            _mm256_store_ps(tile + j * 4, reduce_4x2(acc[0], acc[1]));
        } else {
            for (int k = 0; k < KP; ++k) {
                for (int g = 0; g < G; ++g) scores[g * stride + j + k] = hsum8(acc[k][g]);
            }
        }
    }
    if (steps == 0) pf.fetch(0, pf.lines);
    for (; j < n; ++j) {
        __m256 acc[1][G];
        dot_keys<kF16, G, 1>(kb + j * row_bytes, row_bytes, hd, qs, acc);
        for (int g = 0; g < G; ++g) {
            if constexpr (G == 4) {
                tile[j * 4 + g] = hsum8(acc[0][g]);
            } else {
                scores[g * stride + j] = hsum8(acc[0][g]);
            }
        }
    }
    if constexpr (G == 4) {
        int64_t t = 0;
        for (; t + 4 <= n; t += 4) {
            __m128 r0 = _mm_load_ps(tile + t * 4), r1 = _mm_load_ps(tile + t * 4 + 4);
            __m128 r2 = _mm_load_ps(tile + t * 4 + 8), r3 = _mm_load_ps(tile + t * 4 + 12);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(scores + t, r0);
            _mm_storeu_ps(scores + stride + t, r1);
            _mm_storeu_ps(scores + 2 * stride + t, r2);
            _mm_storeu_ps(scores + 3 * stride + t, r3);
        }
        for (; t < n; ++t) {
            for (int g = 0; g < 4; ++g) scores[g * stride + t] = tile[t * 4 + g];
        }
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
    BlockPrefetch pf;
    pf.lines = static_cast<int64_t>((row_bytes * bs + 63) / 64);
    for (int64_t b = 0; b < n_blocks; ++b) {
        const int64_t base = b * bs, n = std::min(bs, a.ctx - base);
        pf.next_k =
            b + 1 < n_blocks ? cache.k_head(a.layer, a.block_table[b + 1], a.kv_head) : nullptr;
        pf.this_v = cache.v_head(a.layer, a.block_table[b], a.kv_head);
        block_scores<kF16, G>(cache.k_head(a.layer, a.block_table[b], a.kv_head), row_bytes, n, hd,
                              qs, scores + base, a.ctx, pf);
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

// Calls fn.template operator()<G>(g0) for the groups of at most kHeadGroup heads of n heads,
// so each group runs a kernel compiled for its size.
template <typename Fn>
void for_head_groups(int64_t n, const Fn& fn) {
    for (int64_t g0 = 0; g0 < n; g0 += kHeadGroup) {
        switch (std::min<int64_t>(kHeadGroup, n - g0)) {
            case 1:
                fn.template operator()<1>(g0);
                break;
            case 2:
                fn.template operator()<2>(g0);
                break;
            case 3:
                fn.template operator()<3>(g0);
                break;
            default:
                fn.template operator()<4>(g0);
                break;
        }
    }
}

template <bool kF16>
void attend_all(const DecodeAttentionArgs& a, float* scores) {
    for_head_groups(a.n_gqa, [&]<int G>(int64_t g0) { attend_heads<kF16, G>(a, g0, scores); });
}

}  // namespace

bool attend_one_query_supported(const KvCacheShape& shape) {
    return cpu_features().avx2 && (shape.dtype == DType::F16 || shape.dtype == DType::F32) &&
           shape.head_dim % 16 == 0 && shape.head_dim <= kMaxHeadDim &&
           shape.block_size <= kMaxBlock;
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
