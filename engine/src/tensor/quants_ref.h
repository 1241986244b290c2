#pragma once
// Per-type scalar reference kernels behind tensor/quants.h. Each function matches the ggml
// function of the same name bit for bit (dequantize_row_*, quantize_row_*_ref, the generic
// ggml_vec_dot_*). n is the number of elements (a multiple of the block size). Fast paths in
// kernels/cpu call or test against these directly.
#include <cstdint>
#include <cstring>

#include "tensor/dtype.h"

namespace folio::quants {

// ggml's nearest_int: round half to even through the float magic number 1.5 * 2^23.
// Valid for |f| <= 4194303.
inline int nearest_int(float f) {
    float v = f + 12582912.f;
    int32_t i;
    std::memcpy(&i, &v, sizeof(i));
    return (i & 0x007fffff) - 0x00400000;
}

// The 6-bit scale and min j (0..7) of a Q4_K / Q5_K block's packed scales[12].
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// Q3_K's 16 signed 6-bit scales (already minus 32) unpacked from scales[12].
void unpack_q3_k_scales(const uint8_t* packed, int8_t out[16]);

// Plain types.
void dequantize_row_f16(const fp16_t* x, float* y, int64_t n);
void dequantize_row_bf16(const bf16_t* x, float* y, int64_t n);
void quantize_row_f16_ref(const float* x, fp16_t* y, int64_t n);
void quantize_row_bf16_ref(const float* x, bf16_t* y, int64_t n);
float vec_dot_f32(int64_t n, const float* x, const float* y);
float vec_dot_f16(int64_t n, const fp16_t* x, const fp16_t* y);
float vec_dot_bf16(int64_t n, const bf16_t* x, const bf16_t* y);

// Legacy 32-element blocks.
void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t n);
void dequantize_row_q8_1(const block_q8_1* x, float* y, int64_t n);
void dequantize_row_iq4_nl(const block_iq4_nl* x, float* y, int64_t n);

void quantize_row_q4_0_ref(const float* x, block_q4_0* y, int64_t n);
void quantize_row_q4_1_ref(const float* x, block_q4_1* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, block_q5_0* y, int64_t n);
void quantize_row_q5_1_ref(const float* x, block_q5_1* y, int64_t n);
void quantize_row_q8_0_ref(const float* x, block_q8_0* y, int64_t n);
void quantize_row_q8_1_ref(const float* x, block_q8_1* y, int64_t n);
// What llama.cpp's quantizer writes for IQ4_NL (ggml's quantize_iq4_nl without an importance
// matrix: 15-scale search, then re-quantization).
void quantize_row_iq4_nl_ref(const float* x, block_iq4_nl* y, int64_t n);
// ggml's quantize_row_iq4_nl_ref proper: the quick variant without the scale search (ntry -1).
void quantize_row_iq4_nl_ggml_ref(const float* x, block_iq4_nl* y, int64_t n);

float vec_dot_q4_0_q8_0(int64_t n, const block_q4_0* x, const block_q8_0* y);
float vec_dot_q4_1_q8_1(int64_t n, const block_q4_1* x, const block_q8_1* y);
float vec_dot_q5_0_q8_0(int64_t n, const block_q5_0* x, const block_q8_0* y);
float vec_dot_q5_1_q8_1(int64_t n, const block_q5_1* x, const block_q8_1* y);
float vec_dot_q8_0_q8_0(int64_t n, const block_q8_0* x, const block_q8_0* y);
float vec_dot_q8_1_q8_1(int64_t n, const block_q8_1* x, const block_q8_1* y);
float vec_dot_iq4_nl_q8_0(int64_t n, const block_iq4_nl* x, const block_q8_0* y);

// K-quants (256-element super-blocks).
void dequantize_row_q2_K(const block_q2_K* x, float* y, int64_t n);
void dequantize_row_q3_K(const block_q3_K* x, float* y, int64_t n);
void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t n);
void dequantize_row_q5_K(const block_q5_K* x, float* y, int64_t n);
void dequantize_row_q6_K(const block_q6_K* x, float* y, int64_t n);
void dequantize_row_q8_K(const block_q8_K* x, float* y, int64_t n);

void quantize_row_q2_K_ref(const float* x, block_q2_K* y, int64_t n);
void quantize_row_q3_K_ref(const float* x, block_q3_K* y, int64_t n);
void quantize_row_q4_K_ref(const float* x, block_q4_K* y, int64_t n);
void quantize_row_q5_K_ref(const float* x, block_q5_K* y, int64_t n);
void quantize_row_q6_K_ref(const float* x, block_q6_K* y, int64_t n);
void quantize_row_q8_K_ref(const float* x, block_q8_K* y, int64_t n);

float vec_dot_q2_K_q8_K(int64_t n, const block_q2_K* x, const block_q8_K* y);
float vec_dot_q3_K_q8_K(int64_t n, const block_q3_K* x, const block_q8_K* y);
float vec_dot_q4_K_q8_K(int64_t n, const block_q4_K* x, const block_q8_K* y);
float vec_dot_q5_K_q8_K(int64_t n, const block_q5_K* x, const block_q8_K* y);
float vec_dot_q6_K_q8_K(int64_t n, const block_q6_K* x, const block_q8_K* y);
float vec_dot_q8_K_q8_K(int64_t n, const block_q8_K* x, const block_q8_K* y);

}  // namespace folio::quants
