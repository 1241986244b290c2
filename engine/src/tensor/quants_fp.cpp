// IEEE half and bfloat16 conversions, and the plain-float rows and dot products.
#include <bit>
#include <cstdint>

#include "tensor/quants.h"
#include "tensor/quants_ref.h"

namespace folio {

float fp16_to_f32(fp16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    const uint32_t mant = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) return std::bit_cast<float>(sign);
        // Subnormal: mant * 2^-24 is exact in float.
        bits = sign | std::bit_cast<uint32_t>(static_cast<float>(mant) * 0x1p-24f);
    } else if (exp == 31) {
        // inf, or NaN keeping its payload, quieted (as vcvtph2ps and ggml do)
        bits = sign | 0x7F800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    return std::bit_cast<float>(bits);
}

fp16_t f32_to_fp16(float f) {
    uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    x &= 0x7FFFFFFFu;
    if (x > 0x7F800000u) {
        // NaN: quiet it and keep the top payload bits, as vcvtps2ph does.
        return static_cast<fp16_t>(sign | 0x7E00u | ((x >> 13) & 0x3FFu));
    }
    if (x >= 0x477FF000u) return static_cast<fp16_t>(sign | 0x7C00u);  // rounds to inf
    if (x < 0x38800000u) {
        // Result is subnormal or zero: adding 0.5f puts the half's ulp (2^-24) at the float's
        // last mantissa bit, so the FPU rounds to nearest even for us.
        const float r = std::bit_cast<float>(x) + 0.5f;
        return static_cast<fp16_t>(sign | (std::bit_cast<uint32_t>(r) - 0x3F000000u));
    }
    const uint32_t odd = (x >> 13) & 1u;
    x += 0xC8000FFFu + odd;  // rebias exponent (-112 << 23) and round to nearest even
    return static_cast<fp16_t>(sign | (x >> 13));
}

float bf16_to_f32(bf16_t h) {
    return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

bf16_t f32_to_bf16(float f) {
    const uint32_t u = std::bit_cast<uint32_t>(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<bf16_t>((u >> 16) | 64u);
    return static_cast<bf16_t>((u + (0x7FFFu + ((u >> 16) & 1u))) >> 16);
}

namespace quants {

void dequantize_row_f16(const fp16_t* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(x[i]);
}

void dequantize_row_bf16(const bf16_t* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(x[i]);
}

void quantize_row_f16_ref(const float* x, fp16_t* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void quantize_row_bf16_ref(const float* x, bf16_t* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

// ggml accumulates the float products of plain-type dot products in double.
float vec_dot_f32(int64_t n, const float* x, const float* y) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
    return static_cast<float>(sum);
}

float vec_dot_f16(int64_t n, const fp16_t* x, const fp16_t* y) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
        sum += static_cast<double>(fp16_to_f32(x[i]) * fp16_to_f32(y[i]));
    return static_cast<float>(sum);
}

float vec_dot_bf16(int64_t n, const bf16_t* x, const bf16_t* y) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
        sum += static_cast<double>(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
    return static_cast<float>(sum);
}

}  // namespace quants
}  // namespace folio
