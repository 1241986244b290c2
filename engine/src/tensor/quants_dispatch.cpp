// Type dispatch for the reference kernels declared in tensor/quants.h.
#include <cstdint>
#include <cstring>

#include "common/check.h"
#include "tensor/quants.h"
#include "tensor/quants_ref.h"

namespace folio {

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
    using namespace quants;
    FOLIO_CHECK(n >= 0);
    switch (type) {
        case DType::F32:
            if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
            return;
        case DType::F16:
            return dequantize_row_f16(static_cast<const fp16_t*>(src), dst, n);
        case DType::BF16:
            return dequantize_row_bf16(static_cast<const bf16_t*>(src), dst, n);
        case DType::Q4_0:
            FOLIO_CHECK(n % QK4_0 == 0);
            return dequantize_row_q4_0(static_cast<const block_q4_0*>(src), dst, n);
        case DType::Q4_1:
            FOLIO_CHECK(n % QK4_1 == 0);
            return dequantize_row_q4_1(static_cast<const block_q4_1*>(src), dst, n);
        case DType::Q5_0:
            FOLIO_CHECK(n % QK5_0 == 0);
            return dequantize_row_q5_0(static_cast<const block_q5_0*>(src), dst, n);
        case DType::Q5_1:
            FOLIO_CHECK(n % QK5_1 == 0);
            return dequantize_row_q5_1(static_cast<const block_q5_1*>(src), dst, n);
        case DType::Q8_0:
            FOLIO_CHECK(n % QK8_0 == 0);
            return dequantize_row_q8_0(static_cast<const block_q8_0*>(src), dst, n);
        case DType::Q8_1:
            FOLIO_CHECK(n % QK8_1 == 0);
            return dequantize_row_q8_1(static_cast<const block_q8_1*>(src), dst, n);
        case DType::IQ4_NL:
            FOLIO_CHECK(n % QK4_NL == 0);
            return dequantize_row_iq4_nl(static_cast<const block_iq4_nl*>(src), dst, n);
        case DType::Q2_K:
            FOLIO_CHECK(n % QK_K == 0);
            return dequantize_row_q2_K(static_cast<const block_q2_K*>(src), dst, n);
        case DType::Q3_K:
            FOLIO_CHECK(n % QK_K == 0);
            return dequantize_row_q3_K(static_cast<const block_q3_K*>(src), dst, n);
        case DType::Q4_K:
            FOLIO_CHECK(n % QK_K == 0);
            return dequantize_row_q4_K(static_cast<const block_q4_K*>(src), dst, n);
        case DType::Q5_K:
            FOLIO_CHECK(n % QK_K == 0);
            return dequantize_row_q5_K(static_cast<const block_q5_K*>(src), dst, n);
        case DType::Q6_K:
            FOLIO_CHECK(n % QK_K == 0);
            return dequantize_row_q6_K(static_cast<const block_q6_K*>(src), dst, n);
        case DType::Q8_K:
            FOLIO_CHECK(n % QK_K == 0);
            return dequantize_row_q8_K(static_cast<const block_q8_K*>(src), dst, n);
        default:
            break;
    }
    FOLIO_CHECK(!"dequantize_row: unsupported type");
}

void quantize_row_ref(DType type, const float* src, void* dst, int64_t n) {
    using namespace quants;
    FOLIO_CHECK(n >= 0);
    switch (type) {
        case DType::F32:
            if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
            return;
        case DType::F16:
            return quantize_row_f16_ref(src, static_cast<fp16_t*>(dst), n);
        case DType::BF16:
            return quantize_row_bf16_ref(src, static_cast<bf16_t*>(dst), n);
        case DType::Q4_0:
            FOLIO_CHECK(n % QK4_0 == 0);
            return quantize_row_q4_0_ref(src, static_cast<block_q4_0*>(dst), n);
        case DType::Q4_1:
            FOLIO_CHECK(n % QK4_1 == 0);
            return quantize_row_q4_1_ref(src, static_cast<block_q4_1*>(dst), n);
        case DType::Q5_0:
            FOLIO_CHECK(n % QK5_0 == 0);
            return quantize_row_q5_0_ref(src, static_cast<block_q5_0*>(dst), n);
        case DType::Q5_1:
            FOLIO_CHECK(n % QK5_1 == 0);
            return quantize_row_q5_1_ref(src, static_cast<block_q5_1*>(dst), n);
        case DType::Q8_0:
            FOLIO_CHECK(n % QK8_0 == 0);
            return quantize_row_q8_0_ref(src, static_cast<block_q8_0*>(dst), n);
        case DType::Q8_1:
            FOLIO_CHECK(n % QK8_1 == 0);
            return quantize_row_q8_1_ref(src, static_cast<block_q8_1*>(dst), n);
        case DType::IQ4_NL:
            FOLIO_CHECK(n % QK4_NL == 0);
            return quantize_row_iq4_nl_ref(src, static_cast<block_iq4_nl*>(dst), n);
        case DType::Q2_K:
            FOLIO_CHECK(n % QK_K == 0);
            return quantize_row_q2_K_ref(src, static_cast<block_q2_K*>(dst), n);
        case DType::Q3_K:
            FOLIO_CHECK(n % QK_K == 0);
            return quantize_row_q3_K_ref(src, static_cast<block_q3_K*>(dst), n);
        case DType::Q4_K:
            FOLIO_CHECK(n % QK_K == 0);
            return quantize_row_q4_K_ref(src, static_cast<block_q4_K*>(dst), n);
        case DType::Q5_K:
            FOLIO_CHECK(n % QK_K == 0);
            return quantize_row_q5_K_ref(src, static_cast<block_q5_K*>(dst), n);
        case DType::Q6_K:
            FOLIO_CHECK(n % QK_K == 0);
            return quantize_row_q6_K_ref(src, static_cast<block_q6_K*>(dst), n);
        case DType::Q8_K:
            FOLIO_CHECK(n % QK_K == 0);
            return quantize_row_q8_K_ref(src, static_cast<block_q8_K*>(dst), n);
        default:
            break;
    }
    FOLIO_CHECK(!"quantize_row_ref: unsupported type");
}

DType vec_dot_type(DType weight) {
    switch (weight) {
        case DType::F32:
            return DType::F32;
        case DType::F16:
            return DType::F16;
        case DType::BF16:
            return DType::BF16;
        case DType::Q4_0:
        case DType::Q5_0:
        case DType::Q8_0:
        case DType::IQ4_NL:
            return DType::Q8_0;
        case DType::Q4_1:
        case DType::Q5_1:
        case DType::Q8_1:
            return DType::Q8_1;
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
        case DType::Q8_K:
            return DType::Q8_K;
        default:
            break;
    }
    FOLIO_CHECK(!"vec_dot_type: unsupported type");
    return DType::F32;
}

float vec_dot_ref(DType weight, int64_t n, const void* w, const void* a) {
    using namespace quants;
    FOLIO_CHECK(n >= 0);
    switch (weight) {
        case DType::F32:
            return vec_dot_f32(n, static_cast<const float*>(w), static_cast<const float*>(a));
        case DType::F16:
            return vec_dot_f16(n, static_cast<const fp16_t*>(w), static_cast<const fp16_t*>(a));
        case DType::BF16:
            return vec_dot_bf16(n, static_cast<const bf16_t*>(w), static_cast<const bf16_t*>(a));
        case DType::Q4_0:
            FOLIO_CHECK(n % QK8_0 == 0);
            return vec_dot_q4_0_q8_0(n, static_cast<const block_q4_0*>(w),
                                     static_cast<const block_q8_0*>(a));
        case DType::Q4_1:
            FOLIO_CHECK(n % QK8_1 == 0);
            return vec_dot_q4_1_q8_1(n, static_cast<const block_q4_1*>(w),
                                     static_cast<const block_q8_1*>(a));
        case DType::Q5_0:
            FOLIO_CHECK(n % QK8_0 == 0);
            return vec_dot_q5_0_q8_0(n, static_cast<const block_q5_0*>(w),
                                     static_cast<const block_q8_0*>(a));
        case DType::Q5_1:
            FOLIO_CHECK(n % QK8_1 == 0);
            return vec_dot_q5_1_q8_1(n, static_cast<const block_q5_1*>(w),
                                     static_cast<const block_q8_1*>(a));
        case DType::Q8_0:
            FOLIO_CHECK(n % QK8_0 == 0);
            return vec_dot_q8_0_q8_0(n, static_cast<const block_q8_0*>(w),
                                     static_cast<const block_q8_0*>(a));
        case DType::Q8_1:
            FOLIO_CHECK(n % QK8_1 == 0);
            return vec_dot_q8_1_q8_1(n, static_cast<const block_q8_1*>(w),
                                     static_cast<const block_q8_1*>(a));
        case DType::IQ4_NL:
            FOLIO_CHECK(n % QK4_NL == 0);
            return vec_dot_iq4_nl_q8_0(n, static_cast<const block_iq4_nl*>(w),
                                       static_cast<const block_q8_0*>(a));
        case DType::Q2_K:
            FOLIO_CHECK(n % QK_K == 0);
            return vec_dot_q2_K_q8_K(n, static_cast<const block_q2_K*>(w),
                                     static_cast<const block_q8_K*>(a));
        case DType::Q3_K:
            FOLIO_CHECK(n % QK_K == 0);
            return vec_dot_q3_K_q8_K(n, static_cast<const block_q3_K*>(w),
                                     static_cast<const block_q8_K*>(a));
        case DType::Q4_K:
            FOLIO_CHECK(n % QK_K == 0);
            return vec_dot_q4_K_q8_K(n, static_cast<const block_q4_K*>(w),
                                     static_cast<const block_q8_K*>(a));
        case DType::Q5_K:
            FOLIO_CHECK(n % QK_K == 0);
            return vec_dot_q5_K_q8_K(n, static_cast<const block_q5_K*>(w),
                                     static_cast<const block_q8_K*>(a));
        case DType::Q6_K:
            FOLIO_CHECK(n % QK_K == 0);
            return vec_dot_q6_K_q8_K(n, static_cast<const block_q6_K*>(w),
                                     static_cast<const block_q8_K*>(a));
        case DType::Q8_K:
            FOLIO_CHECK(n % QK_K == 0);
            return vec_dot_q8_K_q8_K(n, static_cast<const block_q8_K*>(w),
                                     static_cast<const block_q8_K*>(a));
        default:
            break;
    }
    FOLIO_CHECK(!"vec_dot_ref: unsupported type");
    return 0.0f;
}

}  // namespace folio
