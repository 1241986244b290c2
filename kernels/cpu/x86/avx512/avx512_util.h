#pragma once
// Helpers shared by the AVX-512 kernels (only included from files built with the AVX-512
// flags). FOLIO_SIMDE_EMULATE (never set in the product build) compiles them against SIMDe's
// portable AVX-512 so their logic can be tested on a CPU without AVX-512.
// GCC 12 warns inside its own AVX-512 headers (_mm512_undefined_ps self-initialization).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#ifdef FOLIO_SIMDE_EMULATE
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <immintrin.h>
#include <simde/x86/avx512.h>
// Intrinsics this SIMDe version lacks, built from 256-bit halves.
static inline __m512 folio_emu_cvtepi32_ps(__m512i v) {
    const __m256 lo = _mm256_cvtepi32_ps(_mm512_castsi512_si256(v));
    const __m256 hi = _mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(v, 1));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
static inline __m512 folio_emu_cvtph_ps(__m256i v) {
    const __m256 lo = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
    const __m256 hi = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#undef _mm512_cvtepi32_ps
#undef _mm512_cvtph_ps
#define _mm512_cvtepi32_ps folio_emu_cvtepi32_ps
#define _mm512_cvtph_ps folio_emu_cvtph_ps
#else
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>

namespace folio::kern::avx512 {
namespace {  // internal linkage: included by files built for different instruction sets

inline float hsum(__m512 v) {
    const __m256 s =
        _mm256_add_ps(_mm512_castps512_ps256(v),
                      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

}  // namespace
}  // namespace folio::kern::avx512
