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

void attn_block(const float* qt, int64_t ldq, int64_t nq, int64_t hd, const float* k,
                const float* v, int64_t kb, const int32_t* valid, float* m, float* l, float* ot,
                float* s) {
    (void)kb;
    for (int64_t i = 0; i < nq; ++i) {
        const int64_t n = valid[i];
        if (n == 0) continue;  // nothing visible here: the state stays as it is
        float mx = m[i];
        for (int64_t j = 0; j < n; ++j) {
            float dot = 0;
            for (int64_t d = 0; d < hd; ++d) dot += qt[d * ldq + i] * k[j * hd + d];
            s[j] = dot;
            mx = std::max(mx, dot);
        }
        const float c = std::exp(m[i] - mx);  // 0 on the first block (m = -inf)
        float sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += (s[j] = std::exp(s[j] - mx));
        l[i] = l[i] * c + sum;
        m[i] = mx;
        for (int64_t d = 0; d < hd; ++d) {
            float acc = ot[d * ldq + i] * c;
            for (int64_t j = 0; j < n; ++j) acc += s[j] * v[j * hd + d];
            ot[d * ldq + i] = acc;
        }
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
    t.ops.attn_block = attn_block;
}

}  // namespace folio::kern
