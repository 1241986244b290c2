// AVX2 K-quant kernels: Q2_K..Q6_K dot products with Q8_K activations, and f32 -> Q8_K.
// Per super-block the integer products are summed exactly in int32 lanes, then scaled once.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;

inline __m256i loadu(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// int16 scale vector: low 128 bits = a, high 128 bits = b (for a 32-byte group whose first
// 16 elements use scale a and last 16 use scale b).
inline __m256i scale_pair(int a, int b) {
    return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(b)),
                            _mm_set1_epi16(static_cast<int16_t>(a)));
}

// sum_j sc[j] * bsums[j] for 16 int8 scales.
inline int scaled_bsums(const int8_t* sc, const int16_t* bsums) {
    const __m256i s = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    return hsum_i32(_mm256_madd_epi16(s, loadu(bsums)));
}

// ---- Q8_K quantizer -----------------------------------------------------------------------
void quantize_q8_K(const float* src, void* dst, int64_t n) {
    auto* y = static_cast<block_q8_K*>(dst);
    for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(src + j)));
        const float amax = hmax(m);
        if (amax == 0.0f) {
            std::memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        // The first element whose magnitude is amax gives the sign (as the reference does).
        float max = 0;
        const __m256 va = _mm256_set1_ps(amax);
        for (int j = 0; j < QK_K; j += 8) {
            const int mask =
                _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(src + j)), va, _CMP_EQ_OQ));
            if (mask) {
                max = src[j + __builtin_ctz(mask)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; ++k) {
                q[k] = _mm256_min_epi32(
                    _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(src + j + 8 * k))),
                    _mm256_set1_epi32(127));
            }
            const __m256i p = pack_i32_to_i8(q[0], q[1], q[2], q[3]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), p);
            // bsums of the two groups of 16
            const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), p);  // pairs
            const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));  // quads
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm_setzero_si128());
            __m128i g = _mm256_extracti128_si256(s32, 1);
            h = _mm_hadd_epi32(h, g);  // [q0+q1, q2+q3, q4+q5, q6+q7]
            h = _mm_hadd_epi32(h, h);  // [sum0..15, sum16..31, ...]
            y[i].bsums[j / 16] = static_cast<int16_t>(_mm_cvtsi128_si32(h));
            y[i].bsums[j / 16 + 1] = static_cast<int16_t>(_mm_extract_epi32(h, 1));
        }
        y[i].d = 1 / iscale;
    }
}

// ---- Q4_K / Q5_K ----------------------------------------------------------------------------
// Unpacks the 8 6-bit scales and 8 6-bit mins.
inline void unpack_scales_mins_k4(const uint8_t* q, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t u[3];
    std::memcpy(u, q, 12);
    constexpr uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    const uint32_t s0 = u[0] & k1, s1 = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    const uint32_t m0 = u[1] & k1, m1 = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    std::memcpy(sc, &s0, 4);
    std::memcpy(sc + 4, &s1, 4);
    std::memcpy(mn, &m0, 4);
    std::memcpy(mn + 4, &m1, 4);
}

inline int mins_dot(const uint8_t mn[8], const int16_t* bsums) {
    // sum_j mn[j] * (bsums[2j] + bsums[2j+1])
    const __m128i m = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn)));
    const __m256i b = loadu(bsums);
    const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    const __m128i p = _mm_madd_epi16(m, pairs);
    __m128i s = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

template <bool kHigh>
float dot_q45_K(int64_t n, const void* w, const void* a) {
    using Block = std::conditional_t<kHigh, block_q5_K, block_q4_K>;
    const auto* x = static_cast<const Block*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0;
    for (int64_t i = 0; i < n / QK_K; ++i) {
        uint8_t sc[8], mn[8];
        unpack_scales_mins_k4(x[i].scales, sc, mn);
        const float d = h2f(x[i].d) * y[i].d;
        const float dmin = h2f(x[i].dmin) * y[i].d;
        acc_m += dmin * static_cast<float>(mins_dot(mn, y[i].bsums));
        const uint8_t* q4 = x[i].qs;
        const int8_t* q8 = y[i].qs;
        __m256i hbits;
        if constexpr (kHigh) hbits = loadu(x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) {
            const __m256i q = loadu(q4 + 32 * j);
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if constexpr (kHigh) {
                const __m256i one = _mm256_set1_epi8(1);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
                hi = _mm256_or_si256(
                    hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
                hbits = _mm256_srli_epi16(hbits, 2);
            }
            const __m256i plo = _mm256_maddubs_epi16(lo, loadu(q8 + 64 * j));
            const __m256i phi = _mm256_maddubs_epi16(hi, loadu(q8 + 64 * j + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * j])));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * j + 1])));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - acc_m;
}

float vec_dot_q4_K(int64_t n, const void* w, const void* a) {
    return dot_q45_K<false>(n, w, a);
}
float vec_dot_q5_K(int64_t n, const void* w, const void* a) {
    return dot_q45_K<true>(n, w, a);
}

// ---- Q6_K -----------------------------------------------------------------------------------
float vec_dot_q6_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q6_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const float d = h2f(x[i].d) * y[i].d;
        const int8_t* sc = x[i].scales;
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = x[i].ql + 64 * h;
            const __m256i qh = loadu(x[i].qh + 32 * h);
            const __m256i l0 = loadu(ql), l1 = loadu(ql + 32);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4),
                                _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(l1, m4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)),
            };
            const int8_t* q8 = y[i].qs + 128 * h;
            const int8_t* s = sc + 8 * h;
            for (int k = 0; k < 4; ++k) {
                const __m256i p = _mm256_maddubs_epi16(q[k], loadu(q8 + 32 * k));
                sumi = _mm256_add_epi32(sumi,
                                        _mm256_madd_epi16(p, scale_pair(s[2 * k], s[2 * k + 1])));
            }
        }
        // values are q - 32
        const int corr = 32 * scaled_bsums(sc, y[i].bsums);
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(corr, 0, 0, 0, 0, 0, 0, 0));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

// ---- Q3_K -----------------------------------------------------------------------------------
inline void unpack_q3_scales(const uint8_t* packed, int8_t out[16]) {
    constexpr uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f;
    uint32_t u[4];
    std::memcpy(u, packed, 12);
    const uint32_t t = u[2];
    u[2] = ((u[0] >> 4) & k2) | (((t >> 4) & k1) << 4);
    u[3] = ((u[1] >> 4) & k2) | (((t >> 6) & k1) << 4);
    u[0] = (u[0] & k2) | (((t >> 0) & k1) << 4);
    u[1] = (u[1] & k2) | (((t >> 2) & k1) << 4);
    const __m128i v =
        _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u)), _mm_set1_epi8(32));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
}

float vec_dot_q3_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q3_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const float d = h2f(x[i].d) * y[i].d;
        int8_t sc[16];
        unpack_q3_scales(x[i].scales, sc);
        const __m256i hm = loadu(x[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i q3 = loadu(x[i].qs + 32 * h);
            for (int k = 0; k < 4; ++k) {
                const int bit = 4 * h + k;
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q3, 2 * k), m3);
                const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, bit), one);
                const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));  // value + 4
                const __m256i p = _mm256_maddubs_epi16(q, loadu(y[i].qs + 128 * h + 32 * k));
                sumi = _mm256_add_epi32(
                    sumi,
                    _mm256_madd_epi16(p, scale_pair(sc[8 * h + 2 * k], sc[8 * h + 2 * k + 1])));
            }
        }
        const int corr = 4 * scaled_bsums(sc, y[i].bsums);
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(corr, 0, 0, 0, 0, 0, 0, 0));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

// ---- Q2_K -----------------------------------------------------------------------------------
float vec_dot_q2_K(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q2_K*>(w);
    const auto* y = static_cast<const block_q8_K*>(a);
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0;
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const float d = h2f(x[i].d) * y[i].d;
        const float dmin = h2f(x[i].dmin) * y[i].d;
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
        int8_t mins[16];
        _mm_storeu_si128(reinterpret_cast<__m128i*>(mins),
                         _mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
        acc_m += dmin * static_cast<float>(scaled_bsums(mins, y[i].bsums));
        const uint8_t* sc = x[i].scales;
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i q2 = loadu(x[i].qs + 32 * h);
            for (int k = 0; k < 4; ++k) {
                const __m256i q = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * k), m3);
                const __m256i p = _mm256_maddubs_epi16(q, loadu(y[i].qs + 128 * h + 32 * k));
                const int s = 8 * h + 2 * k;
                sumi = _mm256_add_epi32(
                    sumi, _mm256_madd_epi16(p, scale_pair(sc[s] & 0xF, sc[s + 1] & 0xF)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - acc_m;
}

}  // namespace

void register_avx2_kquants(KernelTable& t) {
    t.from_float[type_index(DType::Q8_K)] = quantize_q8_K;
    t.vec_dot[type_index(DType::Q2_K)] = vec_dot_q2_K;
    t.vec_dot[type_index(DType::Q3_K)] = vec_dot_q3_K;
    t.vec_dot[type_index(DType::Q4_K)] = vec_dot_q4_K;
    t.vec_dot[type_index(DType::Q5_K)] = vec_dot_q5_K;
    t.vec_dot[type_index(DType::Q6_K)] = vec_dot_q6_K;
}

}  // namespace folio::kern
