// AVX2 prefill GEMM for quantized types kept in GGUF layout (see ConvGemmKernel): 8 weight
// rows are decoded to int8 with a float scale (and bias) per sub-block, interleaved in pairs
// of values like the Q8_0 panels, and multiplied with int16 activations by vpmaddwd.
//
// Converted panel (8 rows, K cols, S = K/SUB sub-blocks):
//   q:     K/32 blocks x 256 bytes; block b, chunk j (16 bytes) = 8 rows x values 2j, 2j+1
//   scale: S x 8 floats ([s*8 + r])
//   bias:  S x 8 floats (types with a min; multiplied by the activation sum of the sub-block)
//   tmp:   8 x K int8 + 2 x S floats per row (decode scratch)
// Activations: K int16 | K/32 floats d (fp16-rounded) | K/16 floats s = d * sum of 16 quants.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/avx2/conv_decode.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;
using namespace conv;

constexpr int kRows = 8;

inline size_t align64(size_t v) {
    return (v + 63) & ~size_t{63};
}

struct Layout {
    size_t q, scale, bias, tmp_q, tmp_f, total;
};

inline Layout layout(int64_t cols, int sub) {
    const size_t nsub = cols / sub;
    Layout l;
    l.q = 0;
    l.scale = cols * kRows;
    l.bias = l.scale + align64(nsub * kRows * 4);
    l.tmp_q = l.bias + align64(nsub * kRows * 4);
    l.tmp_f = l.tmp_q + align64(cols * kRows);
    l.total = l.tmp_f + align64(nsub * kRows * 4 * 2);
    return l;
}

template <int SUB>
size_t panel_bytes(int64_t cols) {
    return layout(cols, SUB).total;
}

// ---- activations ----------------------------------------------------------------------------
size_t act_bytes(int64_t cols) {
    return align64(cols * 2 + (cols / 32) * 4 + (cols / 16) * 4);
}

void quantize_act(const float* x, void* act, int64_t cols) {
    const int64_t nb = cols / 32;
    auto* q = static_cast<int16_t*>(act);
    auto* d = reinterpret_cast<float*>(q + cols);
    float* s = d + nb;
    alignas(32) int8_t tmp[32];
    for (int64_t b = 0; b < nb; ++b) {
        const float db = h2f(f2h(quantize_block_q8(x + b * 32, tmp, nullptr)));
        d[b] = db;
        const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(tmp));
        const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v));
        const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * 32), lo);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * 32 + 16), hi);
        const __m256i ones = _mm256_set1_epi16(1);
        s[2 * b] = db * static_cast<float>(hsum_i32(_mm256_madd_epi16(lo, ones)));
        s[2 * b + 1] = db * static_cast<float>(hsum_i32(_mm256_madd_epi16(hi, ones)));
    }
}

// 8 rows of 16 int16 (pairs of int8) -> 16 chunks of 8 int16: out[j][r] = in[r][j].
inline void transpose_pairs(const int8_t* rows, size_t stride, int8_t* out) {
    for (int half = 0; half < 2; ++half) {
        __m128i v[8];
        for (int r = 0; r < 8; ++r) {
            v[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows + r * stride + 16 * half));
        }
        const __m128i a0 = _mm_unpacklo_epi16(v[0], v[1]), a1 = _mm_unpackhi_epi16(v[0], v[1]);
        const __m128i a2 = _mm_unpacklo_epi16(v[2], v[3]), a3 = _mm_unpackhi_epi16(v[2], v[3]);
        const __m128i a4 = _mm_unpacklo_epi16(v[4], v[5]), a5 = _mm_unpackhi_epi16(v[4], v[5]);
        const __m128i a6 = _mm_unpacklo_epi16(v[6], v[7]), a7 = _mm_unpackhi_epi16(v[6], v[7]);
        const __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
        const __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
        const __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
        const __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
        const __m128i c[8] = {_mm_unpacklo_epi64(b0, b4), _mm_unpackhi_epi64(b0, b4),
                              _mm_unpacklo_epi64(b1, b5), _mm_unpackhi_epi64(b1, b5),
                              _mm_unpacklo_epi64(b2, b6), _mm_unpackhi_epi64(b2, b6),
                              _mm_unpacklo_epi64(b3, b7), _mm_unpackhi_epi64(b3, b7)};
        for (int j = 0; j < 8; ++j) {
            _mm_store_si128(reinterpret_cast<__m128i*>(out + (8 * half + j) * 16), c[j]);
        }
    }
}

template <int SUB, DecodeFn Decode>
void convert(const void* src, size_t src_stride, int nrows, int64_t cols, void* panel) {
    const Layout l = layout(cols, SUB);
    const int64_t nsub = cols / SUB;
    auto* base = static_cast<uint8_t*>(panel);
    auto* tq = reinterpret_cast<int8_t*>(base + l.tmp_q);
    auto* tf = reinterpret_cast<float*>(base + l.tmp_f);
    auto* scale = reinterpret_cast<float*>(base + l.scale);
    auto* bias = reinterpret_cast<float*>(base + l.bias);
    for (int r = 0; r < kRows; ++r) {
        float* sc = tf;
        float* bs = tf + nsub;
        if (r < nrows) {
            std::memset(bs, 0, nsub * sizeof(float));
            Decode(static_cast<const uint8_t*>(src) + r * src_stride, cols, tq + r * cols, sc, bs);
        } else {
            std::memset(tq + r * cols, 0, cols);
            std::memset(tf, 0, 2 * nsub * sizeof(float));
        }
        for (int64_t s = 0; s < nsub; ++s) {
            scale[s * kRows + r] = sc[s];
            bias[s * kRows + r] = bs[s];
        }
    }
    auto* q = reinterpret_cast<int8_t*>(base + l.q);
    for (int64_t b = 0; b < cols / 32; ++b) transpose_pairs(tq + 32 * b, cols, q + 256 * b);
}

// ---- GEMM micro-kernel ----------------------------------------------------------------------
template <int SUB, bool BIAS, int NP, int NT>
inline void tile(const uint8_t* panels, size_t pstride, int64_t cols, const uint8_t* act,
                 size_t act_stride, float* y, int64_t ldy) {
    const Layout l = layout(cols, SUB);
    const int64_t nb = cols / 32;
    __m256 accf[NP][NT];
    const int16_t* aq[NT];
    const float* ad[NT];
    const float* as[NT];
    for (int t = 0; t < NT; ++t) {
        aq[t] = reinterpret_cast<const int16_t*>(act + t * act_stride);
        ad[t] = reinterpret_cast<const float*>(aq[t] + cols);
        as[t] = ad[t] + nb;
        for (int p = 0; p < NP; ++p) accf[p][t] = _mm256_setzero_ps();
    }
    constexpr int kHalves = 32 / SUB;
    for (int64_t b = 0; b < nb; ++b) {
        const int8_t* wq = reinterpret_cast<const int8_t*>(panels + l.q) + b * 256;
        for (int h = 0; h < kHalves; ++h) {
            __m256i acci[NP][NT];
            for (int p = 0; p < NP; ++p) {
                for (int t = 0; t < NT; ++t) acci[p][t] = _mm256_setzero_si256();
            }
#pragma GCC unroll 4
            for (int j = h * SUB / 2; j < (h + 1) * SUB / 2; ++j) {
                __m256i w[NP];
                for (int p = 0; p < NP; ++p) {
                    w[p] = _mm256_cvtepi8_epi16(_mm_load_si128(
                        reinterpret_cast<const __m128i*>(wq + p * pstride + j * 16)));
                }
                for (int t = 0; t < NT; ++t) {
                    const __m256i a = _mm256_set1_epi32(load_i32(aq[t] + b * 32 + 2 * j));
                    for (int p = 0; p < NP; ++p) {
                        acci[p][t] = _mm256_add_epi32(acci[p][t], _mm256_madd_epi16(w[p], a));
                    }
                }
            }
            const int64_t s = b * kHalves + h;
            for (int p = 0; p < NP; ++p) {
                const __m256 sc = _mm256_load_ps(
                    reinterpret_cast<const float*>(panels + p * pstride + l.scale) + s * kRows);
                for (int t = 0; t < NT; ++t) {
                    accf[p][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acci[p][t]),
                                                 _mm256_mul_ps(sc, _mm256_broadcast_ss(ad[t] + b)),
                                                 accf[p][t]);
                }
                if constexpr (BIAS) {
                    const __m256 bs = _mm256_load_ps(
                        reinterpret_cast<const float*>(panels + p * pstride + l.bias) + s * kRows);
                    for (int t = 0; t < NT; ++t) {
                        const float sum = SUB == 16 ? as[t][s] : as[t][2 * s] + as[t][2 * s + 1];
                        accf[p][t] = _mm256_fmadd_ps(bs, _mm256_set1_ps(sum), accf[p][t]);
                    }
                }
            }
        }
    }
    for (int t = 0; t < NT; ++t) {
        for (int p = 0; p < NP; ++p) _mm256_storeu_ps(y + t * ldy + p * kRows, accf[p][t]);
    }
}

template <int SUB, bool BIAS, int NP>
void gemm_np(const uint8_t* panels, size_t pstride, int64_t cols, const uint8_t* a,
             size_t act_stride, int64_t nt, float* y, int64_t ldy) {
    constexpr int T = NP == 2 ? 3 : 4;
    int64_t t = 0;
    for (; t + T <= nt; t += T) {
        tile<SUB, BIAS, NP, T>(panels, pstride, cols, a + t * act_stride, act_stride, y + t * ldy,
                               ldy);
    }
    const uint8_t* ar = a + t * act_stride;
    float* yr = y + t * ldy;
    switch (nt - t) {
        case 3:
            tile<SUB, BIAS, NP, 3>(panels, pstride, cols, ar, act_stride, yr, ldy);
            break;
        case 2:
            tile<SUB, BIAS, NP, 2>(panels, pstride, cols, ar, act_stride, yr, ldy);
            break;
        case 1:
            tile<SUB, BIAS, NP, 1>(panels, pstride, cols, ar, act_stride, yr, ldy);
            break;
        default:
            break;
    }
}

template <int SUB, bool BIAS>
void gemm(const void* panels, int np, int64_t cols, const void* act, size_t act_stride, int64_t nt,
          float* y, int64_t ldy) {
    const size_t pstride = panel_bytes<SUB>(cols);
    const auto* w = static_cast<const uint8_t*>(panels);
    const auto* a = static_cast<const uint8_t*>(act);
    int p = 0;
    for (; p + 2 <= np; p += 2) {
        gemm_np<SUB, BIAS, 2>(w + p * pstride, pstride, cols, a, act_stride, nt, y + p * kRows,
                              ldy);
    }
    if (p < np) {
        gemm_np<SUB, BIAS, 1>(w + p * pstride, pstride, cols, a, act_stride, nt, y + p * kRows,
                              ldy);
    }
}

// Builds this ISA's kernel for a type (conv::register_conv_kernels lists the types).
struct Maker {
    template <int SUB, bool BIAS, DecodeFn Decode>
    static constexpr ConvGemmKernel make() {
        return {kRows,     panel_bytes<SUB>, convert<SUB, Decode>,
                act_bytes, quantize_act,     gemm<SUB, BIAS>};
    }
};

}  // namespace

void register_avx2_conv(KernelTable& t) {
    register_conv_kernels<Maker>(t);
}

}  // namespace folio::kern

// ---- plain-float weights (F32, F16, BF16) ----------------------------------------------------
// Converted panel: K x 8 floats ([k*8 + r]); activations: the f32 row as is (K floats).
// Micro-kernel: 2 panels x 6 tokens of FMAs (12 accumulators) per broadcast activation value.
namespace folio::kern {
namespace {
using namespace avx2;

size_t fpanel_bytes(int64_t cols) {
    return align64(cols * kRows * 4);
}
size_t fact_bytes(int64_t cols) {
    return align64(cols * 4);
}
void fquantize_act(const float* x, void* act, int64_t cols) {
    std::memcpy(act, x, cols * 4);
}

// 8 rows x 8 floats -> 8 columns of 8 rows (in-register transpose).
inline void transpose8_store(__m256 r[8], float* out) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(out + 0, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_store_ps(out + 8, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_store_ps(out + 16, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_store_ps(out + 24, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_store_ps(out + 32, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_store_ps(out + 40, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_store_ps(out + 48, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_store_ps(out + 56, _mm256_permute2f128_ps(u3, u7, 0x31));
}

template <DType T>
inline __m256 load8(const void* row, int64_t k) {
    if constexpr (T == DType::F32) {
        return _mm256_loadu_ps(static_cast<const float*>(row) + k);
    } else if constexpr (T == DType::F16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + k)));
    } else {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + k)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
}

template <DType T>
void fconvert(const void* src, size_t src_stride, int nrows, int64_t cols, void* panel) {
    auto* out = static_cast<float*>(panel);
    const auto* base = static_cast<const uint8_t*>(src);
    int64_t k = 0;
    for (; k + 8 <= cols; k += 8) {
        __m256 r[8];
        for (int i = 0; i < kRows; ++i) {
            r[i] = i < nrows ? load8<T>(base + i * src_stride, k) : _mm256_setzero_ps();
        }
        transpose8_store(r, out + k * kRows);
    }
    for (; k < cols; ++k) {  // cols % 8 != 0 (F32/F16/BF16 rows may have any length)
        for (int i = 0; i < kRows; ++i) {
            float v = 0.0f;
            if (i < nrows) {
                const uint8_t* row = base + i * src_stride;
                if constexpr (T == DType::F32) {
                    v = reinterpret_cast<const float*>(row)[k];
                } else if constexpr (T == DType::F16) {
                    v = h2f(reinterpret_cast<const uint16_t*>(row)[k]);
                } else {
                    uint32_t u = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[k])
                                 << 16;
                    std::memcpy(&v, &u, 4);
                }
            }
            out[k * kRows + i] = v;
        }
    }
}

template <int NP, int NT>
inline void ftile(const float* panels, size_t pstride_f, int64_t cols, const uint8_t* act,
                  size_t act_stride, float* y, int64_t ldy) {
    __m256 acc[NP][NT];
    const float* a[NT];
    for (int t = 0; t < NT; ++t) {
        a[t] = reinterpret_cast<const float*>(act + t * act_stride);
        for (int p = 0; p < NP; ++p) acc[p][t] = _mm256_setzero_ps();
    }
#pragma GCC unroll 8
    for (int64_t k = 0; k < cols; ++k) {
        __m256 w[NP];
        for (int p = 0; p < NP; ++p) w[p] = _mm256_load_ps(panels + p * pstride_f + k * kRows);
        for (int t = 0; t < NT; ++t) {
            const __m256 x = _mm256_broadcast_ss(a[t] + k);
            for (int p = 0; p < NP; ++p) acc[p][t] = _mm256_fmadd_ps(w[p], x, acc[p][t]);
        }
    }
    for (int t = 0; t < NT; ++t) {
        for (int p = 0; p < NP; ++p) _mm256_storeu_ps(y + t * ldy + p * kRows, acc[p][t]);
    }
}

// The 2 x 6 tile with named accumulators (GCC keeps a 12-element __m256 array in memory).
inline void ftile_2x6(const float* panels, size_t pstride_f, int64_t cols, const uint8_t* act,
                      size_t act_stride, float* y, int64_t ldy) {
    const float* a0 = reinterpret_cast<const float*>(act);
    const float* a1 = reinterpret_cast<const float*>(act + act_stride);
    const float* a2 = reinterpret_cast<const float*>(act + 2 * act_stride);
    const float* a3 = reinterpret_cast<const float*>(act + 3 * act_stride);
    const float* a4 = reinterpret_cast<const float*>(act + 4 * act_stride);
    const float* a5 = reinterpret_cast<const float*>(act + 5 * act_stride);
    const float* w0 = panels;
    const float* w1 = panels + pstride_f;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c04 = c00, c05 = c00;
    __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00, c14 = c00, c15 = c00;
#pragma GCC unroll 2
    for (int64_t k = 0; k < cols; ++k) {
        const __m256 u = _mm256_load_ps(w0 + k * kRows), v = _mm256_load_ps(w1 + k * kRows);
        __m256 x = _mm256_broadcast_ss(a0 + k);
        c00 = _mm256_fmadd_ps(u, x, c00);
        c10 = _mm256_fmadd_ps(v, x, c10);
        x = _mm256_broadcast_ss(a1 + k);
        c01 = _mm256_fmadd_ps(u, x, c01);
        c11 = _mm256_fmadd_ps(v, x, c11);
        x = _mm256_broadcast_ss(a2 + k);
        c02 = _mm256_fmadd_ps(u, x, c02);
        c12 = _mm256_fmadd_ps(v, x, c12);
        x = _mm256_broadcast_ss(a3 + k);
        c03 = _mm256_fmadd_ps(u, x, c03);
        c13 = _mm256_fmadd_ps(v, x, c13);
        x = _mm256_broadcast_ss(a4 + k);
        c04 = _mm256_fmadd_ps(u, x, c04);
        c14 = _mm256_fmadd_ps(v, x, c14);
        x = _mm256_broadcast_ss(a5 + k);
        c05 = _mm256_fmadd_ps(u, x, c05);
        c15 = _mm256_fmadd_ps(v, x, c15);
    }
    const __m256 r0[6] = {c00, c01, c02, c03, c04, c05};
    const __m256 r1[6] = {c10, c11, c12, c13, c14, c15};
    for (int t = 0; t < 6; ++t) {
        _mm256_storeu_ps(y + t * ldy, r0[t]);
        _mm256_storeu_ps(y + t * ldy + kRows, r1[t]);
    }
}

template <int NP>
void fgemm_np(const float* panels, size_t pstride_f, int64_t cols, const uint8_t* act,
              size_t act_stride, int64_t nt, float* y, int64_t ldy) {
    constexpr int T = NP == 2 ? 6 : 4;
    int64_t t = 0;
    for (; t + T <= nt; t += T) {
        if constexpr (NP == 2) {
            ftile_2x6(panels, pstride_f, cols, act + t * act_stride, act_stride, y + t * ldy, ldy);
        } else {
            ftile<NP, T>(panels, pstride_f, cols, act + t * act_stride, act_stride, y + t * ldy,
                         ldy);
        }
    }
    for (; t + 2 <= nt; t += 2) {
        ftile<NP, 2>(panels, pstride_f, cols, act + t * act_stride, act_stride, y + t * ldy, ldy);
    }
    if (t < nt)
        ftile<NP, 1>(panels, pstride_f, cols, act + t * act_stride, act_stride, y + t * ldy, ldy);
}

void fgemm(const void* panels, int np, int64_t cols, const void* act, size_t act_stride, int64_t nt,
           float* y, int64_t ldy) {
    const size_t pstride_f = fpanel_bytes(cols) / 4;
    const auto* w = static_cast<const float*>(panels);
    const auto* a = static_cast<const uint8_t*>(act);
    int p = 0;
    for (; p + 2 <= np; p += 2) {
        fgemm_np<2>(w + p * pstride_f, pstride_f, cols, a, act_stride, nt, y + p * kRows, ldy);
    }
    if (p < np)
        fgemm_np<1>(w + p * pstride_f, pstride_f, cols, a, act_stride, nt, y + p * kRows, ldy);
}

template <DType T>
constexpr ConvGemmKernel make_float() {
    return {kRows, fpanel_bytes, fconvert<T>, fact_bytes, fquantize_act, fgemm};
}

const ConvGemmKernel kF32 = make_float<DType::F32>();
const ConvGemmKernel kF16 = make_float<DType::F16>();
const ConvGemmKernel kBF16 = make_float<DType::BF16>();

}  // namespace

void register_avx2_conv_float(KernelTable& t) {
    t.conv[type_index(DType::F32)] = &kF32;
    t.conv[type_index(DType::F16)] = &kF16;
    t.conv[type_index(DType::BF16)] = &kBF16;
}

}  // namespace folio::kern
