#pragma once
// Row decoders for the converted-panel GEMMs (AVX2 code; included by AVX2 and AVX-512 files):
// a GGUF row of `cols` values -> cols int8 values plus a float scale (and bias, for types with
// a min) per sub-block of 32 (legacy types, Q4_K, Q5_K) or 16 (Q2_K, Q3_K, Q6_K) values.
// value[i] = scale[i / SUB] * q[i] + bias[i / SUB]. Decoders of types without a bias leave it.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "tensor/dtype.h"

namespace folio::kern::conv {
namespace {  // internal linkage: included by files built for different instruction sets
using namespace avx2;

// ---- row decoders: K int8 values, per-sub-block scale and bias ------------------------------
inline __m256i nibbles(const uint8_t* p) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
}

inline __m256i bits_to_bytes(const uint8_t* p) {
    const __m256i v = _mm256_set1_epi32(load_i32(p));
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                            0x0202020202020202, 0x0303030303030303);
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(v, shuf), bit), bit);
}

inline void store32(int8_t* dst, __m256i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
}

inline void decode_q4_0(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q4_0*>(row);
    for (int64_t b = 0; b < cols / 32; ++b) {
        store32(q + 32 * b, _mm256_sub_epi8(nibbles(x[b].qs), _mm256_set1_epi8(8)));
        sc[b] = h2f(x[b].d);
    }
}

inline void decode_q5_0(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q5_0*>(row);
    for (int64_t b = 0; b < cols / 32; ++b) {
        const __m256i hb = _mm256_andnot_si256(bits_to_bytes(x[b].qh), _mm256_set1_epi8(16));
        store32(q + 32 * b, _mm256_sub_epi8(nibbles(x[b].qs), hb));
        sc[b] = h2f(x[b].d);
    }
}

inline void decode_iq4_nl(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_iq4_nl*>(row);
    const __m256i table = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kvalues_iq4nl)));
    for (int64_t b = 0; b < cols / 32; ++b) {
        store32(q + 32 * b, _mm256_shuffle_epi8(table, nibbles(x[b].qs)));
        sc[b] = h2f(x[b].d);
    }
}

inline void decode_q4_1(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q4_1*>(row);
    for (int64_t b = 0; b < cols / 32; ++b) {
        store32(q + 32 * b, nibbles(x[b].qs));
        sc[b] = h2f(x[b].d);
        bias[b] = h2f(x[b].m);
    }
}

inline void decode_q5_1(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q5_1*>(row);
    for (int64_t b = 0; b < cols / 32; ++b) {
        const __m256i hb = _mm256_and_si256(bits_to_bytes(x[b].qh), _mm256_set1_epi8(16));
        store32(q + 32 * b, _mm256_or_si256(nibbles(x[b].qs), hb));
        sc[b] = h2f(x[b].d);
        bias[b] = h2f(x[b].m);
    }
}

inline void scales_mins_k4(const uint8_t* p, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t u[3];
    std::memcpy(u, p, 12);
    constexpr uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    const uint32_t s0 = u[0] & k1, s1 = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    const uint32_t m0 = u[1] & k1, m1 = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    std::memcpy(sc, &s0, 4);
    std::memcpy(sc + 4, &s1, 4);
    std::memcpy(mn, &m0, 4);
    std::memcpy(mn + 4, &m1, 4);
}

template <bool kHigh>
void decode_q45_K(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    using Block = std::conditional_t<kHigh, block_q5_K, block_q4_K>;
    const auto* x = static_cast<const Block*>(row);
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < cols / QK_K; ++i) {
        uint8_t s[8], m[8];
        scales_mins_k4(x[i].scales, s, m);
        const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
        for (int j = 0; j < 8; ++j) {
            sc[8 * i + j] = d * s[j];
            bias[8 * i + j] = -dmin * m[j];
        }
        __m256i hbits;
        if constexpr (kHigh) {
            hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh));
        }
        for (int j = 0; j < 4; ++j) {
            const __m256i v =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * j));
            __m256i lo = _mm256_and_si256(v, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if constexpr (kHigh) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
                hi = _mm256_or_si256(
                    hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
                hbits = _mm256_srli_epi16(hbits, 2);
            }
            store32(q + QK_K * i + 64 * j, lo);
            store32(q + QK_K * i + 64 * j + 32, hi);
        }
    }
}

inline void decode_q6_K(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q6_K*>(row);
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3), o = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < cols / QK_K; ++i) {
        const float d = h2f(x[i].d);
        for (int j = 0; j < 16; ++j) sc[16 * i + j] = d * x[i].scales[j];
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = x[i].ql + 64 * h;
            const __m256i qh =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h));
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            int8_t* out = q + QK_K * i + 128 * h;
            auto hpart = [&](int shift) {
                return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m3), 4);
            };
            store32(out, _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l0, m4), hpart(0)), o));
            store32(out + 32,
                    _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l1, m4), hpart(2)), o));
            store32(
                out + 64,
                _mm256_sub_epi8(
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), hpart(4)), o));
            store32(
                out + 96,
                _mm256_sub_epi8(
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), hpart(6)), o));
        }
    }
}

inline void decode_q3_K(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q3_K*>(row);
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
    constexpr uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f;
    for (int64_t i = 0; i < cols / QK_K; ++i) {
        uint32_t u[4];
        std::memcpy(u, x[i].scales, 12);
        const uint32_t t = u[2];
        u[2] = ((u[0] >> 4) & k2) | (((t >> 4) & k1) << 4);
        u[3] = ((u[1] >> 4) & k2) | (((t >> 6) & k1) << 4);
        u[0] = (u[0] & k2) | (((t >> 0) & k1) << 4);
        u[1] = (u[1] & k2) | (((t >> 2) & k1) << 4);
        int8_t s[16];
        std::memcpy(s, u, 16);
        const float d = h2f(x[i].d);
        for (int j = 0; j < 16; ++j) sc[16 * i + j] = d * static_cast<float>(s[j] - 32);
        const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].hmask));
        for (int h = 0; h < 2; ++h) {
            const __m256i q3 =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * h));
            for (int k = 0; k < 4; ++k) {
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q3, 2 * k), m3);
                const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + k), one);
                // value = lo - (hbit ? 0 : 4)
                const __m256i v =
                    _mm256_sub_epi8(lo, _mm256_andnot_si256(_mm256_slli_epi16(hb, 2), four));
                store32(q + QK_K * i + 128 * h + 32 * k, v);
            }
        }
    }
}

inline void decode_q2_K(const void* row, int64_t cols, int8_t* q, float* sc, float* bias) {
    const auto* x = static_cast<const block_q2_K*>(row);
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < cols / QK_K; ++i) {
        const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
        for (int j = 0; j < 16; ++j) {
            sc[16 * i + j] = d * (x[i].scales[j] & 0xF);
            bias[16 * i + j] = -dmin * (x[i].scales[j] >> 4);
        }
        for (int h = 0; h < 2; ++h) {
            const __m256i q2 =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * h));
            for (int k = 0; k < 4; ++k) {
                store32(q + QK_K * i + 128 * h + 32 * k,
                        _mm256_and_si256(_mm256_srli_epi16(q2, 2 * k), m3));
            }
        }
    }
}

using DecodeFn = void (*)(const void* row, int64_t cols, int8_t* q, float* sc, float* bias);

// Registers every converted-panel type (its decoder, sub-block size and whether it has a bias)
// in one ISA's table. Maker::make<SUB, BIAS, Decode>() builds that ISA's kernel from its own
// internal templates, so each translation unit keeps its own instruction set.
template <class Maker>
void register_conv_kernels(KernelTable& t) {
    static const ConvGemmKernel kQ4_0 = Maker::template make<32, false, decode_q4_0>();
    static const ConvGemmKernel kQ5_0 = Maker::template make<32, false, decode_q5_0>();
    static const ConvGemmKernel kIQ4_NL = Maker::template make<32, false, decode_iq4_nl>();
    static const ConvGemmKernel kQ4_1 = Maker::template make<32, true, decode_q4_1>();
    static const ConvGemmKernel kQ5_1 = Maker::template make<32, true, decode_q5_1>();
    static const ConvGemmKernel kQ4_K = Maker::template make<32, true, decode_q45_K<false>>();
    static const ConvGemmKernel kQ5_K = Maker::template make<32, true, decode_q45_K<true>>();
    static const ConvGemmKernel kQ6_K = Maker::template make<16, false, decode_q6_K>();
    static const ConvGemmKernel kQ3_K = Maker::template make<16, false, decode_q3_K>();
    static const ConvGemmKernel kQ2_K = Maker::template make<16, true, decode_q2_K>();
    t.conv[type_index(DType::Q4_0)] = &kQ4_0;
    t.conv[type_index(DType::Q5_0)] = &kQ5_0;
    t.conv[type_index(DType::IQ4_NL)] = &kIQ4_NL;
    t.conv[type_index(DType::Q4_1)] = &kQ4_1;
    t.conv[type_index(DType::Q5_1)] = &kQ5_1;
    t.conv[type_index(DType::Q4_K)] = &kQ4_K;
    t.conv[type_index(DType::Q5_K)] = &kQ5_K;
    t.conv[type_index(DType::Q6_K)] = &kQ6_K;
    t.conv[type_index(DType::Q3_K)] = &kQ3_K;
    t.conv[type_index(DType::Q2_K)] = &kQ2_K;
}

}  // namespace
}  // namespace folio::kern::conv
