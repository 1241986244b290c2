// Scalar row ops (the compiler vectorizes what it can for baseline x86-64).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels.h"

namespace folio::kern {
namespace {

float sum_sq(const float* x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return static_cast<float>(s);
}

void scale_mul(const float* x, float s, const float* w, float* y, int64_t n) {
    if (w) {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s * w[i];
    } else {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
    }
}

float exp_sub_sum(float* x, float max, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    return static_cast<float>(sum);
}

float max_of(const float* x, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
    return m;
}

void scale(float* x, float s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void rope_llama(float* x, const float* c, const float* s, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
        const float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * c[i] - x1 * s[i];
        x[2 * i + 1] = x0 * s[i] + x1 * c[i];
    }
}

void rope_neox(float* x, const float* c, const float* s, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
        const float x0 = x[i], x1 = x[i + m];
        x[i] = x0 * c[i] - x1 * s[i];
        x[i + m] = x0 * s[i] + x1 * c[i];
    }
}

}  // namespace

void register_generic_ops(KernelTable& t) {
    t.ops.sum_sq = sum_sq;
    t.ops.scale_mul = scale_mul;
    t.ops.exp_sub_sum = exp_sub_sum;
    t.ops.max = max_of;
    t.ops.scale = scale;
    t.ops.silu_mul = silu_mul;
    t.ops.add = add;
    t.ops.rope_llama = rope_llama;
    t.ops.rope_neox = rope_neox;
}

}  // namespace folio::kern
