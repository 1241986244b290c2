#pragma once
// Scalar reference code for every supported GGUF type: dequantize, quantize, dot products.
// Bit-exact with ggml's reference implementations; the x86 fast paths in kernels/cpu/x86 are
// tested against these. n is always a multiple of the type's block size.
#include <cstdint>

#include "tensor/dtype.h"

namespace folio {

float fp16_to_f32(fp16_t h);
fp16_t f32_to_fp16(float f);  // round to nearest even
float bf16_to_f32(bf16_t h);
bf16_t f32_to_bf16(float f);  // round to nearest even, NaN kept quiet

// dst[0..n) = values of the n elements at src.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

// Reference quantization (ggml's quantize_row_*_ref): F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL.
void quantize_row_ref(DType type, const float* src, void* dst, int64_t n);

// The format activations are converted to before a dot product with a row of `weight`
// (as ggml's vec_dot_type): Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the
// K-quants, and F32/F16/BF16 for themselves.
DType vec_dot_type(DType weight);

// Reference dot product of n elements: a row of `weight` type with a row of vec_dot_type(weight).
float vec_dot_ref(DType weight, int64_t n, const void* w, const void* a);

}  // namespace folio
