#include "sampling/logit_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace folio::logit_ops {

namespace {

// GCC/Clang vector extensions: portable SIMD without intrinsics, 16 bytes (SSE2 / NEON; wider
// vectors would change the ABI of these helpers without AVX). The auto-vectorizer proved fragile
// for these select-heavy loops.
constexpr size_t kLanes = 4;
typedef float vf __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(kLanes * sizeof(int32_t))));

// Partial sums are folded into a double every kBlock elements: vectorized, yet ~1e-7 relative.
constexpr size_t kBlock = 1024;

inline vf load(const float* p) {
    vf v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

inline void store(float* p, vf v) {
    std::memcpy(p, &v, sizeof(v));
}

inline vf splat(float x) {
    return vf{} + x;
}

// mask lanes are all-ones or zero, as comparisons produce them.
inline vf select(vi mask, vf a, vf b) {
    return (vf)((mask & (vi)a) | (~mask & (vi)b));
}

inline double hsum(vf v) {
    double s = 0.0;
    for (size_t j = 0; j < kLanes; ++j) s += v[j];
    return s;
}

// exp(x) for x <= 0: 2^n * exp(r), n = round(x / ln2), |r| <= ln2 / 2, Cephes expf polynomial.
// Lanes with x < -87 (expf would be denormal), -inf or NaN give 0.
// Needs IEEE semantics (no -ffast-math): the rounding trick below relies on it.
inline vf exp_nonpositive_v(vf x) {
    const vi keep = x >= splat(-87.0f);
    const vf xc = select(keep, x, splat(-87.0f));
    const vf t = xc * 1.44269504088896341f;
    const vf n = (t + 12582912.0f) - 12582912.0f;  // round to nearest: 1.5 * 2^23
    vf r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    vf p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
    return (vf)((vi)(p * (vf)bits) & keep);
}

}  // namespace

float exp_nonpositive(float x) {
    return exp_nonpositive_v(splat(x))[0];
}

void value_range(std::span<const float> x, float* max, float* min_finite) {
    const float* p = x.data();
    const size_t n = x.size();
    constexpr size_t kStep = 4 * kLanes;  // four independent chains per pass
    const size_t body = n - n % kStep;
    vf mx[4], mn[4];
    for (int k = 0; k < 4; ++k) {
        mx[k] = splat(-INFINITY);
        mn[k] = splat(INFINITY);
    }
    const vf neg_inf = splat(-INFINITY);
    for (size_t i = 0; i < body; i += kStep) {
        for (int k = 0; k < 4; ++k) {
            const vf v = load(p + i + k * kLanes);
            mx[k] = select(v > mx[k], v, mx[k]);  // NaN compares false: never taken
            mn[k] = select((v < mn[k]) & (v > neg_inf), v, mn[k]);
        }
    }
    float m = -INFINITY, lo = INFINITY;
    for (int k = 0; k < 4; ++k) {
        for (size_t j = 0; j < kLanes; ++j) {
            m = mx[k][j] > m ? mx[k][j] : m;
            lo = mn[k][j] < lo ? mn[k][j] : lo;
        }
    }
    for (size_t i = body; i < n; ++i) {
        m = p[i] > m ? p[i] : m;
        if (p[i] < lo && p[i] > -INFINITY) lo = p[i];
    }
    *max = m;
    *min_finite = lo;
}

int32_t argmax(std::span<const float> x) {
    float m = -INFINITY, lo = INFINITY;
    value_range(x, &m, &lo);
    if (!(m > -INFINITY)) return 0;
    // First index holding the max: compare kLanes at a time, look closer only at the chunk that
    // hits.
    const float* p = x.data();
    const size_t n = x.size();
    const size_t body = n - n % kLanes;
    const vf target = splat(m);
    for (size_t i = 0; i < body; i += kLanes) {
        const vi hit = load(p + i) == target;
        bool any = false;
        for (size_t j = 0; j < kLanes; ++j) any |= hit[j] != 0;
        if (!any) continue;
        for (size_t j = 0; j < kLanes; ++j) {
            if (p[i + j] == m) return static_cast<int32_t>(i + j);
        }
    }
    for (size_t i = body; i < n; ++i) {
        if (p[i] == m) return static_cast<int32_t>(i);
    }
    return 0;
}

size_t count_at_least(std::span<const float> x, float threshold) {
    const float* p = x.data();
    const size_t n = x.size();
    const size_t body = n - n % kLanes;
    const vf t = splat(threshold);
    vi cnt = vi{};
    for (size_t i = 0; i < body; i += kLanes) cnt -= load(p + i) >= t;  // true lanes are -1
    size_t total = 0;
    for (size_t j = 0; j < kLanes; ++j) total += static_cast<uint32_t>(cnt[j]);
    for (size_t i = body; i < n; ++i) total += p[i] >= threshold ? 1u : 0u;
    return total;
}

size_t collect_at_least(std::span<const float> x, float threshold, Candidate* out) {
    const float* p = x.data();
    const size_t n = x.size();
    constexpr size_t kStep = 4 * kLanes;
    const size_t body = n - n % kStep;
    const vf t = splat(threshold);
    size_t count = 0;
    for (size_t i = 0; i < body; i += kStep) {
        const vi hit = (load(p + i) >= t) | (load(p + i + kLanes) >= t) |
                       (load(p + i + 2 * kLanes) >= t) | (load(p + i + 3 * kLanes) >= t);
        bool any = false;
        for (size_t j = 0; j < kLanes; ++j) any |= hit[j] != 0;
        if (!any) continue;
        for (size_t j = i; j < i + kStep; ++j) {
            if (p[j] >= threshold) out[count++] = {p[j], static_cast<int32_t>(j)};
        }
    }
    for (size_t i = body; i < n; ++i) {
        if (p[i] >= threshold) out[count++] = {p[i], static_cast<int32_t>(i)};
    }
    return count;
}

double sum_at_least(std::span<const float> w, float threshold) {
    const float* p = w.data();
    const size_t n = w.size();
    const size_t body = n - n % kLanes;
    const vf t = splat(threshold);
    double total = 0.0;
    for (size_t start = 0; start < body; start += kBlock) {
        const size_t end = std::min(body, start + kBlock);
        vf acc = vf{};
        for (size_t i = start; i < end; i += kLanes) {
            const vf v = load(p + i);
            acc += select(v >= t, v, vf{});
        }
        total += hsum(acc);
    }
    for (size_t i = body; i < n; ++i) total += p[i] >= threshold ? p[i] : 0.0f;
    return total;
}

double exp_weights(std::span<const float> x, float max, float inv_temp, std::span<float> w) {
    const float* src = x.data();
    float* dst = w.data();
    const size_t n = x.size();
    const size_t body = n - n % kLanes;
    const vf vmax = splat(max);
    double total = 0.0;
    for (size_t start = 0; start < body; start += kBlock) {
        const size_t end = std::min(body, start + kBlock);
        vf acc = vf{};
        for (size_t i = start; i < end; i += kLanes) {
            const vf e = exp_nonpositive_v((load(src + i) - vmax) * inv_temp);
            store(dst + i, e);
            acc += e;
        }
        total += hsum(acc);
    }
    for (size_t i = body; i < n; ++i) {
        dst[i] = exp_nonpositive((src[i] - max) * inv_temp);
        total += dst[i];
    }
    return total;
}

}  // namespace folio::logit_ops
