#include "backend/cpu/cpu_ops.h"

#include <cmath>

#include "common/check.h"
#include "kernels/cpu/kernels.h"

namespace folio {
namespace {

const kern::OpsTable& ops() {
    static const kern::OpsTable& o = kern::kernel_table().ops;
    return o;
}

const kern::KernelTable& table() {
    return kern::kernel_table();
}

}  // namespace

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
    const float mean = ops().sum_sq(x, n) / static_cast<float>(n);
    ops().scale_mul(x, 1.0f / std::sqrt(mean + eps), w, y, n);
}

void rms_norm_rows(const float* x, int64_t ldx, const float* w, float* y, int64_t ldy, int64_t n,
                   int64_t rows, float eps) {
    for (int64_t r = 0; r < rows; ++r) rms_norm(x + r * ldx, w, y + r * ldy, n, eps);
}

void softmax(float* x, int64_t n, float scale) {
    if (n <= 0) return;
    if (scale != 1.0f) ops().scale(x, scale, n);
    const float max = ops().max(x, n);
    if (max == -INFINITY) {
        for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
        return;
    }
    const float sum = ops().exp_sub_sum(x, max, n);
    ops().scale(x, 1.0f / sum, n);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
    ops().silu_mul(gate, up, out, n);
}

void add(const float* a, const float* b, float* out, int64_t n) {
    ops().add(a, b, out, n);
}

void scale(float* x, float s, int64_t n) {
    ops().scale(x, s, n);
}

void rope_cos_sin(int64_t pos, const RopeParams& p, float* cos_sin) {
    const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_dims));
    float theta = static_cast<float>(pos);
    for (int64_t i = 0; i < p.n_dims / 2; ++i) {
        const float ff = p.freq_factors ? p.freq_factors[i] : 1.0f;
        const float t = p.freq_scale * (theta / ff);
        cos_sin[2 * i] = std::cos(t);
        cos_sin[2 * i + 1] = std::sin(t);
        theta *= theta_scale;
    }
}

void rope_apply(float* x, int64_t n_heads, int64_t head_stride, const float* cos_sin,
                const RopeParams& p) {
    const int64_t m = p.n_dims / 2;
    float c[512], s[512];
    FOLIO_CHECK(m <= 512);
    for (int64_t i = 0; i < m; ++i) {
        c[i] = cos_sin[2 * i];
        s[i] = cos_sin[2 * i + 1];
    }
    const auto fn = p.neox ? ops().rope_neox : ops().rope_llama;
    for (int64_t h = 0; h < n_heads; ++h) fn(x + h * head_stride, c, s, m);
}

void rope(float* x, int64_t n_heads, int64_t head_stride, int64_t pos, const RopeParams& p) {
    float cs[1024];
    FOLIO_CHECK(p.n_dims <= 1024 && p.n_dims % 2 == 0);
    rope_cos_sin(pos, p, cs);
    rope_apply(x, n_heads, head_stride, cs, p);
}

void fp16_to_f32_row(const fp16_t* src, float* dst, int64_t n) {
    table().to_float[kern::type_index(DType::F16)](src, dst, n);
}

void f32_to_fp16_row(const float* src, fp16_t* dst, int64_t n) {
    table().from_float[kern::type_index(DType::F16)](src, dst, n);
}

void bf16_to_f32_row(const bf16_t* src, float* dst, int64_t n) {
    table().to_float[kern::type_index(DType::BF16)](src, dst, n);
}

void dequantize_row_fast(DType type, const void* src, float* dst, int64_t n) {
    const int ti = kern::type_index(type);
    FOLIO_CHECK(ti < kern::kNumTypes && table().to_float[ti] != nullptr);
    table().to_float[ti](src, dst, n);
}

}  // namespace folio
