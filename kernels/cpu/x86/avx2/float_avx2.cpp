// AVX2 plain-float kernels: F32/F16/BF16 dot products and row conversions.
#include <immintrin.h>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;

inline __m256 load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256 load_bf16(const uint16_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

inline __m256 load_f32(const float* p) {
    return _mm256_loadu_ps(p);
}

template <typename T, __m256 (*Load)(const T*), float (*Scalar)(T)>
float dot(int64_t n, const void* w, const void* a) {
    const T* x = static_cast<const T*>(w);
    const T* y = static_cast<const T*>(a);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; ++k) {
            acc[k] = _mm256_fmadd_ps(Load(x + i + 8 * k), Load(y + i + 8 * k), acc[k]);
        }
    }
    for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(Load(x + i), Load(y + i), acc[0]);
    double sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; i < n; ++i) sum += static_cast<double>(Scalar(x[i]) * Scalar(y[i]));
    return static_cast<float>(sum);
}

float f32_id(float v) {
    return v;
}
float f16_s(uint16_t v) {
    return h2f(v);
}
float bf16_s(uint16_t v) {
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(int(v) << 16)));
}

float vec_dot_f32(int64_t n, const void* w, const void* a) {
    return dot<float, load_f32, f32_id>(n, w, a);
}
float vec_dot_f16(int64_t n, const void* w, const void* a) {
    return dot<uint16_t, load_f16, f16_s>(n, w, a);
}
float vec_dot_bf16(int64_t n, const void* w, const void* a) {
    return dot<uint16_t, load_bf16, bf16_s>(n, w, a);
}

void f16_to_float(const void* src, float* dst, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_f16(x + i));
    for (; i < n; ++i) dst[i] = h2f(x[i]);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_bf16(x + i));
    for (; i < n; ++i) dst[i] = bf16_s(x[i]);
}

void float_to_f16(const float* src, void* dst, int64_t n) {
    auto* y = static_cast<uint16_t*>(dst);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; ++i) y[i] = f2h(src[i]);
}

// Round to nearest even; NaN -> quiet NaN keeping the sign and top payload bits.
inline __m256i bf16_round(__m256 v) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    const __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
    const __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)),
                                              _mm256_set1_epi32(0x7F800000));
    return _mm256_blendv_epi8(r, q, is_nan);
}

void float_to_bf16(const float* src, void* dst, int64_t n) {
    auto* y = static_cast<uint16_t*>(dst);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i a = bf16_round(_mm256_loadu_ps(src + i));
        const __m256i b = bf16_round(_mm256_loadu_ps(src + i + 8));
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), p);
    }
    for (; i < n; ++i) {
        const __m256i r = bf16_round(_mm256_set1_ps(src[i]));
        y[i] = static_cast<uint16_t>(_mm256_cvtsi256_si32(r));
    }
}

void float_copy(const float* src, void* dst, int64_t n) {
    std::memcpy(dst, src, n * sizeof(float));
}

}  // namespace

void register_avx2_float(KernelTable& t) {
    t.vec_dot[type_index(DType::F32)] = vec_dot_f32;
    t.vec_dot[type_index(DType::F16)] = vec_dot_f16;
    t.vec_dot[type_index(DType::BF16)] = vec_dot_bf16;
    t.to_float[type_index(DType::F16)] = f16_to_float;
    t.to_float[type_index(DType::BF16)] = bf16_to_float;
    t.from_float[type_index(DType::F16)] = float_to_f16;
    t.from_float[type_index(DType::BF16)] = float_to_bf16;
    t.from_float[type_index(DType::F32)] = float_copy;
}

}  // namespace folio::kern
