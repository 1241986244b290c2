// AVX2 row ops: norms, softmax pieces, SwiGLU, add, rope rotations.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;

float sum_sq(const float* x, int64_t n) {
    // Float partial sums over 8 lanes x 4 accumulators, combined in double per 1024 elements.
    double total = 0;
    int64_t i = 0;
    while (i + 32 <= n) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const int64_t end = std::min<int64_t>(n - 31, i + 1024);
        for (; i < end; i += 32) {
            const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
            const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
            a0 = _mm256_fmadd_ps(v0, v0, a0);
            a1 = _mm256_fmadd_ps(v1, v1, a1);
            a2 = _mm256_fmadd_ps(v2, v2, a2);
            a3 = _mm256_fmadd_ps(v3, v3, a3);
        }
        total += hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    }
    for (; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
    return static_cast<float>(total);
}

void scale_mul(const float* x, float s, const float* w, float* y, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    if (w) {
        for (; i + 8 <= n; i += 8) {
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs),
                                                  _mm256_loadu_ps(w + i)));
        }
        for (; i < n; ++i) y[i] = x[i] * s * w[i];
    } else {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        for (; i < n; ++i) y[i] = x[i] * s;
    }
}

float exp_sub_sum(float* x, float max, int64_t n) {
    const __m256 vm = _mm256_set1_ps(max);
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum(acc);
    for (; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    return sum;
}

float max_of(const float* x, int64_t n) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float r = hmax(m);
    for (; i < n; ++i) r = std::max(r, x[i]);
    return r;
}

void scale(float* x, float s, int64_t n) {
    scale_mul(x, s, nullptr, x, n);
}

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(g + i);
        const __m256 e = exp_ps(_mm256_xor_ps(v, sign));
        const __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add(const float* a, const float* b, float* out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    }
    for (; i < n; ++i) out[i] = a[i] + b[i];
}

void rope_llama(float* x, const float* c, const float* s, int64_t m) {
    int64_t i = 0;
    const __m256 neg_even = _mm256_setr_ps(-0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f);
    for (; i + 4 <= m; i += 4) {
        const __m128 c4 = _mm_loadu_ps(c + i), s4 = _mm_loadu_ps(s + i);
        const __m256 cc = _mm256_set_m128(_mm_unpackhi_ps(c4, c4), _mm_unpacklo_ps(c4, c4));
        const __m256 ss = _mm256_xor_ps(
            _mm256_set_m128(_mm_unpackhi_ps(s4, s4), _mm_unpacklo_ps(s4, s4)), neg_even);
        const __m256 v = _mm256_loadu_ps(x + 2 * i);
        const __m256 sw = _mm256_permute_ps(v, 0xB1);  // (x1, x0) pairs
        _mm256_storeu_ps(x + 2 * i, _mm256_fmadd_ps(v, cc, _mm256_mul_ps(sw, ss)));
    }
    for (; i < m; ++i) {
        const float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * c[i] - x1 * s[i];
        x[2 * i + 1] = x0 * s[i] + x1 * c[i];
    }
}

void rope_neox(float* x, const float* c, const float* s, int64_t m) {
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
        const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + m);
        const __m256 vc = _mm256_loadu_ps(c + i), vs = _mm256_loadu_ps(s + i);
        _mm256_storeu_ps(x + i, _mm256_fmsub_ps(x0, vc, _mm256_mul_ps(x1, vs)));
        _mm256_storeu_ps(x + i + m, _mm256_fmadd_ps(x0, vs, _mm256_mul_ps(x1, vc)));
    }
    for (; i < m; ++i) {
        const float x0 = x[i], x1 = x[i + m];
        x[i] = x0 * c[i] - x1 * s[i];
        x[i + m] = x0 * s[i] + x1 * c[i];
    }
}

}  // namespace

void register_avx2_ops(KernelTable& t) {
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
