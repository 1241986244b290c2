// AVX2 Q8_0 kernels: Q8_0·Q8_0 dot products, f32 -> Q8_0/Q8_1 activation quantizers, Q8_0 rows
// to f32, and the 8-row interleaved Q8_0 GEMM used for both decode and prefill.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/q8_0_panel.h"

namespace folio::kern {
namespace {
using namespace avx2;

float vec_dot_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    const int64_t nb = n / QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m256i s0 = dot_i8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs)));
        const __m256i s1 =
            dot_i8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i + 1].qs)),
                   _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i + 1].qs)));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)),
                               acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1),
                               _mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), acc1);
    }
    for (; i < nb; ++i) {
        const __m256i s0 = dot_i8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs)));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)),
                               acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
    auto* y = static_cast<block_q8_0*>(dst);
    for (int64_t i = 0; i < n / QK8_0; ++i) {
        y[i].d = f2h(quantize_block_q8(src + i * QK8_0, y[i].qs, nullptr));
    }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
    auto* y = static_cast<block_q8_1*>(dst);
    for (int64_t i = 0; i < n / QK8_1; ++i) {
        int sum = 0;
        const float d = quantize_block_q8(src + i * QK8_1, y[i].qs, &sum);
        y[i].d = f2h(d);
        y[i].s = f2h(static_cast<float>(sum) * d);
    }
}

void q8_0_to_float(const void* src, float* dst, int64_t n) {
    const auto* x = static_cast<const block_q8_0*>(src);
    for (int64_t i = 0; i < n / QK8_0; ++i) {
        const __m256 d = _mm256_set1_ps(h2f(x[i].d));
        for (int j = 0; j < 4; ++j) {
            const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x[i].qs + 8 * j));
            _mm256_storeu_ps(dst + i * QK8_0 + 8 * j,
                             _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
        }
    }
}

// ---- Q8_0 x 8 interleaved panels --------------------------------------------------------
// Panel of 8 rows, nb = cols/32 blocks:
//   scales: nb x 8 fp16 (block b, row r at [b*8 + r]), padded to 64 bytes
//   quants: nb x 256 bytes; block b holds 16 chunks j of 16 bytes = 8 rows x 2 values
//           (row r, values 2j, 2j+1 of the block at [b*256 + j*16 + r*2]).
// Activation rows: cols int16 (the Q8_0 quants widened) then nb floats (fp16-rounded scales).
// The micro-kernel sign-extends a chunk to 16 int16 and multiplies it with a broadcast pair of
// activations (vpmaddwd: 2 multiply-pipe ops per 32 MACs, against 3 for the sign trick); two
// panels x 4 tokens per tile keep the broadcast loads below the multiply rate.
constexpr int kRows = 8;
using Panel = Q8Panel<kRows, 2>;  // kernels/cpu/x86/q8_0_panel.h
// Software prefetch distance for the decode stream (bytes ahead in a panel's quants).
constexpr int kPrefetch = 1024;

size_t act_bytes(int64_t cols) {
    return align64(cols * 2 + (cols / QK8_0) * 4);
}

void quantize_act(const float* x, void* act, int64_t cols) {
    const int64_t nb = cols / QK8_0;
    auto* q = static_cast<int16_t*>(act);
    auto* d = reinterpret_cast<float*>(q + cols);
    alignas(32) int8_t tmp[QK8_0];
    for (int64_t b = 0; b < nb; ++b) {
        d[b] = h2f(f2h(quantize_block_q8(x + b * QK8_0, tmp, nullptr)));
        const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(tmp));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * QK8_0),
                            _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * QK8_0 + 16),
                            _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1)));
    }
}

// NP panels (8 rows each, consecutive, pstride bytes apart) x NT tokens. `next`, when not null,
// is the NP panels the caller multiplies next: they are prefetched into L2 along the way, so
// that their first token tile does not wait on memory.
template <int NP, int NT>
inline void gemm_tile(const uint8_t* panels, size_t pstride, int64_t nb, const uint8_t* act,
                      size_t act_stride, int64_t cols, float* y, int64_t ldy,
                      const uint8_t* next = nullptr) {
    const size_t qoff = Panel::quants_offset(nb);
    __m256 accf[NP][NT];
    const int16_t* aq[NT];
    const float* ad[NT];
    for (int t = 0; t < NT; ++t) {
        aq[t] = reinterpret_cast<const int16_t*>(act + t * act_stride);
        ad[t] = reinterpret_cast<const float*>(aq[t] + cols);
        for (int p = 0; p < NP; ++p) accf[p][t] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < nb; ++b) {
        __m256i acci[NP][NT];
        const int8_t* wq = reinterpret_cast<const int8_t*>(panels + qoff) + b * 256;
        if (NT == 1) {
            for (int p = 0; p < NP; ++p) {
                _mm_prefetch(reinterpret_cast<const char*>(wq + p * pstride + kPrefetch + 0),
                             _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(wq + p * pstride + kPrefetch + 64),
                             _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(wq + p * pstride + kPrefetch + 128),
                             _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(wq + p * pstride + kPrefetch + 192),
                             _MM_HINT_T0);
            }
        } else if (next != nullptr) {
            for (int p = 0; p < NP; ++p) {
                const char* nq = reinterpret_cast<const char*>(next + p * pstride + qoff + b * 256);
                for (int l = 0; l < 256; l += 64) _mm_prefetch(nq + l, _MM_HINT_T1);
                if (b % 4 == 0) {
                    _mm_prefetch(reinterpret_cast<const char*>(next + p * pstride + b * 16),
                                 _MM_HINT_T1);
                }
            }
        }
        // Chunk 0 starts the block's accumulators (no zeroing, no add).
        auto chunk = [&](int j, bool first) __attribute__((always_inline)) {
            __m256i w[NP];
            for (int p = 0; p < NP; ++p) {
                w[p] = _mm256_cvtepi8_epi16(
                    _mm_load_si128(reinterpret_cast<const __m128i*>(wq + p * pstride + j * 16)));
            }
            for (int t = 0; t < NT; ++t) {
                const __m256i a = _mm256_set1_epi32(load_i32(aq[t] + b * QK8_0 + 2 * j));
                for (int p = 0; p < NP; ++p) {
                    const __m256i prod = _mm256_madd_epi16(w[p], a);
                    acci[p][t] = first ? prod : _mm256_add_epi32(acci[p][t], prod);
                }
            }
        };
        chunk(0, true);
#pragma GCC unroll 4
        for (int j = 1; j < 16; ++j) chunk(j, false);
        for (int p = 0; p < NP; ++p) {
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(
                reinterpret_cast<const __m128i*>(panels + p * pstride + b * kRows * 2)));
            for (int t = 0; t < NT; ++t) {
                accf[p][t] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(acci[p][t]),
                                    _mm256_mul_ps(dw, _mm256_broadcast_ss(ad[t] + b)), accf[p][t]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) {
        for (int p = 0; p < NP; ++p) _mm256_storeu_ps(y + t * ldy + p * kRows, accf[p][t]);
    }
}

template <int NP>
void gemm_np(const uint8_t* panels, size_t pstride, int64_t nb, const uint8_t* a, size_t act_stride,
             int64_t cols, int64_t nt, float* y, int64_t ldy, const uint8_t* next) {
    constexpr int T = NP == 2 ? 3 : 4;  // 2x3: 12 live accumulators, no spills
    // 3k+1 tokens on two panels end with two 2-token tiles: a 1-token tile reads the weights
    // for a third of the work of the others. Not for 4 tokens: there the first tile also
    // streams the weights from memory, and a 3-token one hides that better (by 16%).
    const int64_t tiled = NP == 2 && nt >= 7 && nt % 3 == 1 ? nt - 4 : nt;
    int64_t t = 0;
    for (; t + T <= tiled; t += T) {
        gemm_tile<NP, T>(panels, pstride, nb, a + t * act_stride, act_stride, cols, y + t * ldy,
                         ldy, t == 0 ? next : nullptr);
    }
    // The first tile of the call fetches the next panels, whichever size it is.
    const uint8_t* ar = a + t * act_stride;
    float* yr = y + t * ldy;
    const uint8_t* nx = t == 0 ? next : nullptr;
    switch (nt - t) {
        case 4:
            if constexpr (NP == 2) {
                gemm_tile<NP, 2>(panels, pstride, nb, ar, act_stride, cols, yr, ldy, nx);
                gemm_tile<NP, 2>(panels, pstride, nb, ar + 2 * act_stride, act_stride, cols,
                                 yr + 2 * ldy, ldy);
            } else {
                gemm_tile<NP, 4>(panels, pstride, nb, ar, act_stride, cols, yr, ldy, nx);
            }
            break;
        case 3:
            gemm_tile<NP, 3>(panels, pstride, nb, ar, act_stride, cols, yr, ldy, nx);
            break;
        case 2:
            gemm_tile<NP, 2>(panels, pstride, nb, ar, act_stride, cols, yr, ldy, nx);
            break;
        case 1:
            gemm_tile<NP, 1>(panels, pstride, nb, ar, act_stride, cols, yr, ldy, nx);
            break;
        default:
            break;
    }
}

void gemm(const void* panels, int np, int64_t cols, const void* act, size_t act_stride, int64_t nt,
          float* y, int64_t ldy) {
    const int64_t nb = cols / QK8_0;
    const size_t pstride = Panel::panel_bytes(cols);
    const auto* w = static_cast<const uint8_t*>(panels);
    const auto* a = static_cast<const uint8_t*>(act);
    int p = 0;
    // Two panels at a time share each activation broadcast, but for a single token they also
    // make two interleaved memory streams that restart every panel pair. With short panels
    // (under 16 KiB: cols < 2048) decode reads faster one panel at a time, as one sequential
    // stream (bench-300m: +5-10%); longer panels keep the pair (bench-1b's 8192-wide down
    // projection: 39 against 29 GB/s).
    const bool pairs = nt > 1 || pstride >= 16 * 1024;
    for (; pairs && p + 2 <= np; p += 2) {
        const uint8_t* next = p + 4 <= np ? w + (p + 2) * pstride : nullptr;
        gemm_np<2>(w + p * pstride, pstride, nb, a, act_stride, cols, nt, y + p * kRows, ldy, next);
    }
    for (; p < np; ++p) {
        gemm_np<1>(w + p * pstride, pstride, nb, a, act_stride, cols, nt, y + p * kRows, ldy,
                   nullptr);
    }
}

// The inner loop's instructions with nothing else: 12 vpmaddwd + vpaddd pairs a round on six
// accumulators (16 multiply-adds each). Written in asm so that the compiler can neither merge
// the identical products nor hoist them out of the loop.
#define FOLIO_MADD_ADD(acc, tmp)                                                                \
    "vpmaddwd %%ymm0, %%ymm1, %%ymm" #tmp "\n\tvpaddd %%ymm" #tmp ", %%ymm" #acc ", %%ymm" #acc \
    "\n\t"
#define FOLIO_MADD_ADD_X6                                                                  \
    FOLIO_MADD_ADD(2, 8)                                                                   \
    FOLIO_MADD_ADD(3, 9) FOLIO_MADD_ADD(4, 10) FOLIO_MADD_ADD(5, 11) FOLIO_MADD_ADD(6, 12) \
        FOLIO_MADD_ADD(7, 13)
int64_t mac_peak(int64_t rounds) {
    for (int64_t i = 0; i < rounds; ++i) {
        asm volatile(FOLIO_MADD_ADD_X6 FOLIO_MADD_ADD_X6
                     :
                     :
                     : "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm12", "xmm13");
    }
    return rounds * 12 * 16;
}
#undef FOLIO_MADD_ADD_X6
#undef FOLIO_MADD_ADD

const RepackKernel kQ8_0x8 = {kRows,     Panel::panel_bytes, Panel::pack, Panel::unpack_row,
                              act_bytes, quantize_act,       gemm};

}  // namespace

void register_avx2_q8_0(KernelTable& t) {
    t.vec_dot[type_index(DType::Q8_0)] = vec_dot_q8_0;
    t.from_float[type_index(DType::Q8_0)] = quantize_q8_0;
    t.from_float[type_index(DType::Q8_1)] = quantize_q8_1;
    t.to_float[type_index(DType::Q8_0)] = q8_0_to_float;
    t.repack[type_index(DType::Q8_0)] = &kQ8_0x8;
    t.mac_peak = {"vpmaddwd+vpaddd", mac_peak};
}

}  // namespace folio::kern
