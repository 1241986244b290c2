// AVX-512 VNNI Q8_0 kernels: the Q8_0·Q8_0 dot product and the 16-row interleaved Q8_0 GEMM.
//
// vpdpbusd multiplies unsigned by signed bytes and adds groups of 4 into int32 lanes without
// intermediate saturation. The panels hold the weights offset to unsigned (w + 128), so the
// sum over a block is sum((w + 128) * a) - 128 * sum(a): the correction depends on the
// activations only and comes with them (quantize_vnni_act), one int32 per block and token.
// Exact integer arithmetic.
//
// Panel of 16 rows, nb = cols/32 blocks:
//   scales: nb x 16 fp16 ([b*16 + r]), padded to 64 bytes
//   quants: nb x 512 bytes, as uint8 (q + 128); block b holds 8 chunks j of 64 bytes =
//           16 rows x 4 values (row r, values 4j..4j+3 of the block at [b*512 + j*64 + r*4]).
// Activation rows: see quantize_vnni_act (kernels/cpu/x86/q8_0_panel.h).
#include "kernels/cpu/x86/avx512/avx512_util.h"

#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/dot_peak.h"
#include "kernels/cpu/x86/q8_0_panel.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;

constexpr int kRows = 16;
using Panel = Q8Panel<kRows, 4, true>;  // kernels/cpu/x86/q8_0_panel.h
constexpr int kMaxNT = 8;
constexpr int kPrefetch = 2048;

float vec_dot_q8_0(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const block_q8_0*>(w);
    const auto* y = static_cast<const block_q8_0*>(a);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t nb = n / QK8_0;
    auto block = [&](int64_t i) {
        const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        const __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(qx, qx),
                                              _mm256_sign_epi8(qy, qx));
        return _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)));
    };
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        acc0 = _mm256_add_ps(acc0, block(i));
        acc1 = _mm256_add_ps(acc1, block(i + 1));
    }
    if (i < nb) acc0 = _mm256_add_ps(acc0, block(i));
    return avx2::hsum(_mm256_add_ps(acc0, acc1));
}

// One panel x NT tokens. `next`, when not null, is the panel the caller multiplies next: it is
// prefetched into L2 along the way, so that its first token tile does not wait on memory.
template <int NT>
void gemm_tile(const uint8_t* panel, int64_t nb, const uint8_t* act, size_t act_stride,
               int64_t cols, float* y, int64_t ldy, const uint8_t* next) {
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(panel);
    const uint8_t* quants = panel + Panel::quants_offset(nb);
    __m512 accf[NT];
    const float* ad[NT];
    const int32_t* ac[NT];
    for (int t = 0; t < NT; ++t) {
        accf[t] = _mm512_setzero_ps();
        ad[t] = reinterpret_cast<const float*>(act + t * act_stride + cols);
        ac[t] = reinterpret_cast<const int32_t*>(ad[t] + nb);
    }
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wq = quants + b * 512;
        if (NT == 1) {
            for (int l = 0; l < 512; l += 64) {
                _mm_prefetch(reinterpret_cast<const char*>(wq + kPrefetch + l), _MM_HINT_T0);
            }
        } else if (next != nullptr) {
            const char* nq = reinterpret_cast<const char*>(next + (quants - panel) + b * 512);
            for (int l = 0; l < 512; l += 64) _mm_prefetch(nq + l, _MM_HINT_T1);
            if (b % 2 == 0) {
                _mm_prefetch(reinterpret_cast<const char*>(next) + b * kRows * 2, _MM_HINT_T1);
            }
        }
        __m512i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm512_set1_epi32(ac[t][b]);
        for (int j = 0; j < 8; ++j) {
            const __m512i w = _mm512_load_si512(wq + j * 64);
            for (int t = 0; t < NT; ++t) {
                const __m512i a =
                    _mm512_set1_epi32(load_i32(act + t * act_stride + b * QK8_0 + 4 * j));
                acc[t] = _mm512_dpbusd_epi32(acc[t], w, a);
            }
        }
        const __m512 dw = _mm512_cvtph_ps(
            _mm256_load_si256(reinterpret_cast<const __m256i*>(scales + b * kRows)));
        for (int t = 0; t < NT; ++t) {
            accf[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]),
                                      _mm512_mul_ps(dw, _mm512_set1_ps(ad[t][b])), accf[t]);
        }
    }
    for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, accf[t]);
}

using TileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, size_t, int64_t, float*, int64_t,
                        const uint8_t*);
constexpr TileFn kTiles[kMaxNT + 1] = {nullptr,      gemm_tile<1>, gemm_tile<2>,
                                       gemm_tile<3>, gemm_tile<4>, gemm_tile<5>,
                                       gemm_tile<6>, gemm_tile<7>, gemm_tile<8>};

void gemm(const void* panels, int np, int64_t cols, const void* act, size_t act_stride, int64_t nt,
          float* y, int64_t ldy) {
    const int64_t nb = cols / QK8_0;
    const size_t pstride = Panel::panel_bytes(cols);
    const auto* a = static_cast<const uint8_t*>(act);
    // The tokens split into the fewest tiles of at most kMaxNT, as equal as can be (9 tokens:
    // 4 + 5, not 8 + 1): every tile then reuses each weight load about as often.
    const int64_t ntiles = (nt + kMaxNT - 1) / kMaxNT;
    for (int p = 0; p < np; ++p) {
        const uint8_t* panel = static_cast<const uint8_t*>(panels) + p * pstride;
        const uint8_t* next = p + 1 < np ? panel + pstride : nullptr;
        int64_t t = 0;
        for (int64_t i = 0; i < ntiles; ++i) {
            const int64_t n = (nt - t) / (ntiles - i);
            kTiles[n](panel, nb, a + t * act_stride, act_stride, cols, y + t * ldy + p * kRows, ldy,
                      i == 0 ? next : nullptr);
            t += n;
        }
    }
}

int64_t mac_peak(int64_t rounds) {
    const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(-1);
    return dot_peak(rounds, _mm512_setzero_si512(), 64,
                    [&](__m512i acc) { return _mm512_dpbusd_epi32(acc, a, b); });
}

const RepackKernel kQ8_0x16 = {kRows,          Panel::panel_bytes, Panel::pack, Panel::unpack_row,
                               vnni_act_bytes, quantize_vnni_act,  gemm};

}  // namespace

void register_avx512_vnni_q8_0(KernelTable& t) {
    t.vec_dot[type_index(DType::Q8_0)] = vec_dot_q8_0;
    t.repack[type_index(DType::Q8_0)] = &kQ8_0x16;
    t.mac_peak = {"vpdpbusd zmm", mac_peak};
}

}  // namespace folio::kern
