// AVX-VNNI (VEX vpdpbusd on 256 bits, Alder Lake and later client cores) Q8_0 GEMM: the
// scheme of ../avx512/q8_0_vnni.cpp on 8-row panels.
//
// Panel of 8 rows, nb = cols/32 blocks:
//   scales: nb x 8 fp16 ([b*8 + r]), padded to 64 bytes
//   quants: nb x 256 bytes, as uint8 (q + 128); block b holds 8 chunks j of 32 bytes =
//           8 rows x 4 values (row r, values 4j..4j+3 of the block at [b*256 + j*32 + r*4]).
// Activation rows: see quantize_vnni_act (kernels/cpu/x86/q8_0_panel.h).
#ifdef FOLIO_SIMDE_EMULATE
#include "kernels/cpu/x86/avx512/avx512_util.h"
#else
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/dot_peak.h"
#include "kernels/cpu/x86/q8_0_panel.h"
#include "kernels/cpu/x86/x86_register.h"

// The kernels below (and only they: everything included above keeps the file's AVX2 flags)
// may use VEX VNNI; they run only where cpu_features() reports avx_vnni.
#ifdef FOLIO_SIMDE_EMULATE
#define FOLIO_DPBUSD256 _mm256_dpbusd_epi32
#else
#pragma GCC target("avxvnni")
#define FOLIO_DPBUSD256 _mm256_dpbusd_avx_epi32
#endif

namespace folio::kern {
namespace {
using namespace avx2;

constexpr int kRows = 8;
using Panel = Q8Panel<kRows, 4, true>;  // kernels/cpu/x86/q8_0_panel.h
constexpr int kMaxNT = 4;
constexpr int kPrefetch = 1024;

template <int NT>
void gemm_tile(const uint8_t* panel, int64_t nb, const uint8_t* act, size_t act_stride,
               int64_t cols, float* y, int64_t ldy) {
    const uint16_t* scales = reinterpret_cast<const uint16_t*>(panel);
    const uint8_t* quants = panel + Panel::quants_offset(nb);
    __m256 accf[NT];
    const float* ad[NT];
    const int32_t* ac[NT];
    for (int t = 0; t < NT; ++t) {
        accf[t] = _mm256_setzero_ps();
        ad[t] = reinterpret_cast<const float*>(act + t * act_stride + cols);
        ac[t] = reinterpret_cast<const int32_t*>(ad[t] + nb);
    }
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* wq = quants + b * 256;
        if (NT == 1) {
            for (int l = 0; l < 256; l += 64) {
                _mm_prefetch(reinterpret_cast<const char*>(wq + kPrefetch + l), _MM_HINT_T0);
            }
        }
        __m256i acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = _mm256_set1_epi32(ac[t][b]);
        for (int j = 0; j < 8; ++j) {
            const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(wq + j * 32));
            for (int t = 0; t < NT; ++t) {
                const __m256i a =
                    _mm256_set1_epi32(load_i32(act + t * act_stride + b * QK8_0 + 4 * j));
                acc[t] = FOLIO_DPBUSD256(acc[t], w, a);
            }
        }
        const __m256 dw =
            _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(scales + b * kRows)));
        for (int t = 0; t < NT; ++t) {
            accf[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t]),
                                      _mm256_mul_ps(dw, _mm256_broadcast_ss(ad[t] + b)), accf[t]);
        }
    }
    for (int t = 0; t < NT; ++t) _mm256_storeu_ps(y + t * ldy, accf[t]);
}

using TileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, size_t, int64_t, float*, int64_t);
constexpr TileFn kTiles[kMaxNT + 1] = {nullptr, gemm_tile<1>, gemm_tile<2>, gemm_tile<3>,
                                       gemm_tile<4>};

void gemm(const void* panels, int np, int64_t cols, const void* act, size_t act_stride, int64_t nt,
          float* y, int64_t ldy) {
    const int64_t nb = cols / QK8_0;
    const size_t pstride = Panel::panel_bytes(cols);
    const auto* a = static_cast<const uint8_t*>(act);
    for (int p = 0; p < np; ++p) {
        const uint8_t* panel = static_cast<const uint8_t*>(panels) + p * pstride;
        for (int64_t t = 0; t < nt; t += kMaxNT) {
            const int64_t n = std::min<int64_t>(kMaxNT, nt - t);
            kTiles[n](panel, nb, a + t * act_stride, act_stride, cols, y + t * ldy + p * kRows,
                      ldy);
        }
    }
}

int64_t mac_peak(int64_t rounds) {
    const __m256i a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(-1);
    return dot_peak(rounds, _mm256_setzero_si256(), 32,
                    [&](__m256i acc) { return FOLIO_DPBUSD256(acc, a, b); });
}

const RepackKernel kQ8_0x8v = {kRows,          Panel::panel_bytes, Panel::pack, Panel::unpack_row,
                               vnni_act_bytes, quantize_vnni_act,  gemm};

}  // namespace

void register_avx_vnni(KernelTable& t) {
    t.repack[type_index(DType::Q8_0)] = &kQ8_0x8v;
    t.mac_peak = {"vpdpbusd ymm", mac_peak};
}

}  // namespace folio::kern
