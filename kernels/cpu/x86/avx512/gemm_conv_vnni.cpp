// AVX-512 VNNI prefill GEMM for quantized types kept in GGUF layout (see ConvGemmKernel):
// 16 weight rows are decoded (conv_decode.h) to int8 with a float scale (and bias) per
// sub-block, interleaved in groups of 4 values, offset to unsigned (w + 128) and multiplied
// with the int8 activations by vpdpbusd; each sub-block's accumulator starts at
// -128 * (sum of its activation quants), which removes the offset (see q8_0_vnni.cpp).
//
// Converted panel (16 rows, K cols, S = K/SUB sub-blocks):
//   q:     K/32 blocks x 512 bytes, uint8 (w + 128); block b, chunk j (64 bytes) = 16 rows x
//          values 4j..4j+3
//   scale: S x 16 floats ([s*16 + r]);  bias: S x 16 floats
//   tmp:   16 x K int8 + 2 x S floats (decode scratch)
// Activations: K int8 q | K/32 floats d | K/16 floats s = d * sum of 16 quants |
//              K/16 int32 c = -128 * sum of 16 quants.
#include "kernels/cpu/x86/avx512/avx512_util.h"

#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/avx2/conv_decode.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;
using namespace conv;

constexpr int kRows = 16;
constexpr int kMaxNT = 8;

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
    l.total = l.tmp_f + align64(nsub * 4 * 2);
    return l;
}

template <int SUB>
size_t panel_bytes(int64_t cols) {
    return layout(cols, SUB).total;
}

size_t act_bytes(int64_t cols) {
    return align64(cols + (cols / 32) * 4 + (cols / 16) * 8);
}

void quantize_act(const float* x, void* act, int64_t cols) {
    const int64_t nb = cols / 32;
    auto* q = static_cast<uint8_t*>(act);
    auto* d = reinterpret_cast<float*>(q + cols);
    float* s = d + nb;
    auto* c = reinterpret_cast<int32_t*>(s + 2 * nb);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; ++b) {
        auto* qb = reinterpret_cast<int8_t*>(q + b * 32);
        const float db = h2f(f2h(quantize_block_q8(x + b * 32, qb, nullptr)));
        d[b] = db;
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qb));
        const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v));
        const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1));
        const int sum_lo = hsum_i32(_mm256_madd_epi16(lo, ones));
        const int sum_hi = hsum_i32(_mm256_madd_epi16(hi, ones));
        s[2 * b] = db * static_cast<float>(sum_lo);
        s[2 * b + 1] = db * static_cast<float>(sum_hi);
        c[2 * b] = -128 * sum_lo;
        c[2 * b + 1] = -128 * sum_hi;
    }
}

// 8 rows x 8 int32 (rows at stride `stride` bytes) -> out[j*64 + r*4] for j, r < 8.
inline void transpose8x8_i32(const int8_t* rows, size_t stride, int8_t* out) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i)
        r[i] = _mm256_loadu_ps(reinterpret_cast<const float*>(rows + i * stride));
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    const __m256 c[8] = {
        _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
        _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
        _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
        _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
    for (int j = 0; j < 8; ++j) _mm256_storeu_ps(reinterpret_cast<float*>(out + j * 64), c[j]);
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
        std::memset(tf, 0, 2 * nsub * sizeof(float));
        if (r < nrows) {
            Decode(static_cast<const uint8_t*>(src) + r * src_stride, cols, tq + r * cols, sc, bs);
        } else {
            std::memset(tq + r * cols, 0, cols);
        }
        for (int64_t s = 0; s < nsub; ++s) {
            scale[s * kRows + r] = sc[s];
            bias[s * kRows + r] = bs[s];
        }
    }
    auto* q = reinterpret_cast<int8_t*>(base + l.q);
    const __m512i offset = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int64_t b = 0; b < cols / 32; ++b) {
        transpose8x8_i32(tq + 32 * b, cols, q + 512 * b);
        transpose8x8_i32(tq + 8 * cols + 32 * b, cols, q + 512 * b + 32);
        for (int j = 0; j < 8; ++j) {  // to unsigned: w + 128
            int8_t* chunk = q + 512 * b + 64 * j;
            _mm512_store_si512(chunk, _mm512_xor_si512(_mm512_load_si512(chunk), offset));
        }
    }
}

template <int SUB, bool BIAS, int NT>
void tile(const uint8_t* panel, int64_t cols, const uint8_t* act, size_t act_stride, float* y,
          int64_t ldy) {
    const Layout l = layout(cols, SUB);
    const int64_t nb = cols / 32;
    const float* scale = reinterpret_cast<const float*>(panel + l.scale);
    const float* bias = reinterpret_cast<const float*>(panel + l.bias);
    __m512 accf[NT];
    const float* ad[NT];
    const float* as[NT];
    const int32_t* ac[NT];
    for (int t = 0; t < NT; ++t) {
        accf[t] = _mm512_setzero_ps();
        ad[t] = reinterpret_cast<const float*>(act + t * act_stride + cols);
        as[t] = ad[t] + nb;
        ac[t] = reinterpret_cast<const int32_t*>(as[t] + 2 * nb);
    }
    constexpr int kHalves = 32 / SUB;
    constexpr int kChunks = SUB / 4;
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wq = panel + l.q + b * 512;
        for (int h = 0; h < kHalves; ++h) {
            const int64_t s = b * kHalves + h;
            __m512i acc[NT];
            for (int t = 0; t < NT; ++t) {
                acc[t] = _mm512_set1_epi32(SUB == 16 ? ac[t][s] : ac[t][2 * s] + ac[t][2 * s + 1]);
            }
            for (int j = h * kChunks; j < (h + 1) * kChunks; ++j) {
                const __m512i w = _mm512_load_si512(wq + j * 64);
                for (int t = 0; t < NT; ++t) {
                    const __m512i a =
                        _mm512_set1_epi32(load_i32(act + t * act_stride + b * 32 + 4 * j));
                    acc[t] = _mm512_dpbusd_epi32(acc[t], w, a);
                }
            }
            const __m512 sc = _mm512_load_ps(scale + s * kRows);
            for (int t = 0; t < NT; ++t) {
                accf[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]),
                                          _mm512_mul_ps(sc, _mm512_set1_ps(ad[t][b])), accf[t]);
            }
            if constexpr (BIAS) {
                const __m512 bs = _mm512_load_ps(bias + s * kRows);
                for (int t = 0; t < NT; ++t) {
                    const float sum = SUB == 16 ? as[t][s] : as[t][2 * s] + as[t][2 * s + 1];
                    accf[t] = _mm512_fmadd_ps(bs, _mm512_set1_ps(sum), accf[t]);
                }
            }
        }
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, accf[t]);
}

template <int SUB, bool BIAS>
void gemm(const void* panels, int np, int64_t cols, const void* act, size_t act_stride, int64_t nt,
          float* y, int64_t ldy) {
    using TileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, size_t, float*, int64_t);
    static constexpr TileFn kTiles[kMaxNT + 1] = {nullptr,
                                                  tile<SUB, BIAS, 1>,
                                                  tile<SUB, BIAS, 2>,
                                                  tile<SUB, BIAS, 3>,
                                                  tile<SUB, BIAS, 4>,
                                                  tile<SUB, BIAS, 5>,
                                                  tile<SUB, BIAS, 6>,
                                                  tile<SUB, BIAS, 7>,
                                                  tile<SUB, BIAS, 8>};
    const size_t pstride = panel_bytes<SUB>(cols);
    const auto* a = static_cast<const uint8_t*>(act);
    for (int p = 0; p < np; ++p) {
        const uint8_t* panel = static_cast<const uint8_t*>(panels) + p * pstride;
        for (int64_t t = 0; t < nt; t += kMaxNT) {
            const int64_t n = std::min<int64_t>(kMaxNT, nt - t);
            kTiles[n](panel, cols, a + t * act_stride, act_stride, y + t * ldy + p * kRows, ldy);
        }
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

void register_avx512_vnni_conv(KernelTable& t) {
    register_conv_kernels<Maker>(t);
}

}  // namespace folio::kern
