#pragma once
// Vectorized row ops for the CPU forward pass (kernels chosen once from cpu_features()).
// All functions are single-threaded and run on the calling thread; rows are contiguous floats.
// In-place use is allowed where an output may equal an input (same pointer, not overlapping
// at an offset).
#include <cstdint>

#include "tensor/dtype.h"

namespace folio {

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i] over n values; w may be null (no weight).
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// The same for `rows` rows (row strides ldx, ldy).
void rms_norm_rows(const float* x, int64_t ldx, const float* w, float* y, int64_t ldy, int64_t n,
                   int64_t rows, float eps);

// x = softmax(x * scale) over n values, in place (max-subtracted; an all -inf row gives zeros).
void softmax(float* x, int64_t n, float scale = 1.0f);

// out[i] = silu(gate[i]) * up[i] (SwiGLU), silu(v) = v / (1 + exp(-v)).
void silu_mul(const float* gate, const float* up, float* out, int64_t n);

// out[i] = a[i] + b[i].
void add(const float* a, const float* b, float* out, int64_t n);
// x[i] *= s.
void scale(float* x, float s, int64_t n);

// Rotary position embedding, as ggml_rope_ext without YaRN (ext_factor 0, attn_factor 1).
struct RopeParams {
    int64_t n_dims = 0;  // rotated dims per head (<= head size; the rest is kept)
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;              // linear position scaling (1 / factor)
    const float* freq_factors = nullptr;  // optional n_dims/2 divisors of each frequency
    bool neox = false;                    // pairs (x[i], x[i + n_dims/2]); else (x[2i], x[2i+1])
};
// cos_sin[2*i], cos_sin[2*i+1] = cos, sin of the angle of pair i at position pos (n_dims floats).
void rope_cos_sin(int64_t pos, const RopeParams& p, float* cos_sin);
// Rotates n_heads heads of one token (head h starts at x + h*head_stride) with a table from
// rope_cos_sin.
void rope_apply(float* x, int64_t n_heads, int64_t head_stride, const float* cos_sin,
                const RopeParams& p);
// Both in one call (computes the table on the stack; n_dims <= 1024).
void rope(float* x, int64_t n_heads, int64_t head_stride, int64_t pos, const RopeParams& p);

// Row conversions.
void fp16_to_f32_row(const fp16_t* src, float* dst, int64_t n);
void f32_to_fp16_row(const float* src, fp16_t* dst, int64_t n);
void bf16_to_f32_row(const bf16_t* src, float* dst, int64_t n);
// Any supported type's row (GGUF layout) to floats, e.g. an embedding lookup.
void dequantize_row_fast(DType type, const void* src, float* dst, int64_t n);

}  // namespace folio
