// Legacy 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1) and IQ4_NL: reference
// dequantization, quantization and dot products, bit-exact with ggml.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "tensor/quants.h"
#include "tensor/quants_ref.h"

namespace folio::quants {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

inline float h2f(fp16_t h) {
    return fp16_to_f32(h);
}

// Signed max-magnitude element of x[0..n): the first one with the largest |x|.
inline float signed_absmax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; ++j) {
        const float v = x[j];
        if (amax < std::fabs(v)) {
            amax = std::fabs(v);
            max = v;
        }
    }
    return max;
}

// Index of the code book value nearest to x (ties go to the lower value), as ggml's
// best_index_int8.
int best_index_int8(int n, const int8_t* val, float x) {
    if (x <= val[0]) return 0;
    if (x >= val[n - 1]) return n - 1;
    int ml = 0, mu = n - 1;
    while (mu - ml > 1) {
        const int mav = (ml + mu) / 2;
        if (x < val[mav]) {
            mu = mav;
        } else {
            ml = mav;
        }
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Dequantization

void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t n) {
    constexpr int qk = QK4_0;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = (x[i].qs[j] & 0x0F) - 8;
            const int x1 = (x[i].qs[j] >> 4) - 8;
            y[i * qk + j] = static_cast<float>(x0) * d;
            y[i * qk + j + qk / 2] = static_cast<float>(x1) * d;
        }
    }
}

void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t n) {
    constexpr int qk = QK4_1;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        const float m = h2f(x[i].m);
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = x[i].qs[j] & 0x0F;
            const int x1 = x[i].qs[j] >> 4;
            y[i * qk + j] = static_cast<float>(x0) * d + m;
            y[i * qk + j + qk / 2] = static_cast<float>(x1) * d + m;
        }
    }
}

void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t n) {
    constexpr int qk = QK5_0;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof(qh));
        for (int j = 0; j < qk / 2; ++j) {
            const uint8_t xh0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
            const int x0 = ((x[i].qs[j] & 0x0F) | xh0) - 16;
            const int x1 = ((x[i].qs[j] >> 4) | xh1) - 16;
            y[i * qk + j] = static_cast<float>(x0) * d;
            y[i * qk + j + qk / 2] = static_cast<float>(x1) * d;
        }
    }
}

void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t n) {
    constexpr int qk = QK5_1;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        const float m = h2f(x[i].m);
        uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof(qh));
        for (int j = 0; j < qk / 2; ++j) {
            const uint8_t xh0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
            const int x0 = (x[i].qs[j] & 0x0F) | xh0;
            const int x1 = (x[i].qs[j] >> 4) | xh1;
            y[i * qk + j] = static_cast<float>(x0) * d + m;
            y[i * qk + j + qk / 2] = static_cast<float>(x1) * d + m;
        }
    }
}

void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t n) {
    constexpr int qk = QK8_0;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        for (int j = 0; j < qk; ++j) y[i * qk + j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_row_q8_1(const block_q8_1* x, float* y, int64_t n) {
    constexpr int qk = QK8_1;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        for (int j = 0; j < qk; ++j) y[i * qk + j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_row_iq4_nl(const block_iq4_nl* x, float* y, int64_t n) {
    constexpr int qk = QK4_NL;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float d = h2f(x[i].d);
        for (int j = 0; j < qk / 2; ++j) {
            y[i * qk + j] = d * static_cast<float>(kvalues_iq4nl[x[i].qs[j] & 0x0F]);
            y[i * qk + j + qk / 2] = d * static_cast<float>(kvalues_iq4nl[x[i].qs[j] >> 4]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Quantization

void quantize_row_q4_0_ref(const float* x, block_q4_0* y, int64_t n) {
    constexpr int qk = QK4_0;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float* xb = x + i * qk;
        const float max = signed_absmax(xb, qk);
        const float d = max / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = xb[j] * id;
            const float x1 = xb[qk / 2 + j] * id;
            const int xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f)));
            const int xi1 = std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f)));
            y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
        }
    }
}

void quantize_row_q4_1_ref(const float* x, block_q4_1* y, int64_t n) {
    constexpr int qk = QK4_1;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float* xb = x + i * qk;
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < qk; ++j) {
            if (xb[j] < min) min = xb[j];
            if (xb[j] > max) max = xb[j];
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        y[i].m = f32_to_fp16(min);
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = (xb[j] - min) * id;
            const float x1 = (xb[qk / 2 + j] - min) * id;
            const int xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 0.5f)));
            const int xi1 = std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 0.5f)));
            y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
        }
    }
}

void quantize_row_q5_0_ref(const float* x, block_q5_0* y, int64_t n) {
    constexpr int qk = QK5_0;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float* xb = x + i * qk;
        const float max = signed_absmax(xb, qk);
        const float d = max / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = xb[j] * id;
            const float x1 = xb[qk / 2 + j] * id;
            const int xi0 = std::min(31, static_cast<int>(static_cast<int8_t>(x0 + 16.5f)));
            const int xi1 = std::min(31, static_cast<int>(static_cast<int8_t>(x1 + 16.5f)));
            y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((static_cast<uint32_t>(xi0) & 0x10u) >> 4) << (j + 0);
            qh |= ((static_cast<uint32_t>(xi1) & 0x10u) >> 4) << (j + qk / 2);
        }
        std::memcpy(y[i].qh, &qh, sizeof(qh));
    }
}

void quantize_row_q5_1_ref(const float* x, block_q5_1* y, int64_t n) {
    constexpr int qk = QK5_1;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float* xb = x + i * qk;
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < qk; ++j) {
            if (xb[j] < min) min = xb[j];
            if (xb[j] > max) max = xb[j];
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        y[i].m = f32_to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float x0 = (xb[j] - min) * id;
            const float x1 = (xb[qk / 2 + j] - min) * id;
            const uint32_t xi0 = static_cast<uint8_t>(x0 + 0.5f);
            const uint32_t xi1 = static_cast<uint8_t>(x1 + 0.5f);
            y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
            qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
        }
        std::memcpy(y[i].qh, &qh, sizeof(qh));
    }
}

void quantize_row_q8_0_ref(const float* x, block_q8_0* y, int64_t n) {
    constexpr int qk = QK8_0;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float* xb = x + i * qk;
        float amax = 0.0f;
        for (int j = 0; j < qk; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        for (int j = 0; j < qk; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
    }
}

void quantize_row_q8_1_ref(const float* x, block_q8_1* y, int64_t n) {
    constexpr int qk = QK8_1;
    for (int64_t i = 0; i < n / qk; ++i) {
        const float* xb = x + i * qk;
        float amax = 0.0f;
        for (int j = 0; j < qk; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const float v0 = xb[j] * id;
            const float v1 = xb[qk / 2 + j] * id;
            y[i].qs[j] = static_cast<int8_t>(std::round(v0));
            y[i].qs[qk / 2 + j] = static_cast<int8_t>(std::round(v1));
            sum += y[i].qs[j];
            sum += y[i].qs[qk / 2 + j];
        }
        y[i].s = f32_to_fp16(static_cast<float>(sum) * d);
    }
}

namespace {

// ggml's quantize_row_iq4_nl_impl for 32-element blocks without importance weights (weights
// x^2): ntry > 0 searches 2*ntry+1 scales and re-quantizes with the best one.
void quantize_iq4_nl_impl(const float* x, block_iq4_nl* y, int64_t n, int ntry) {
    constexpr int qk = QK4_NL;
    const int8_t* values = kvalues_iq4nl;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        const float* xb = x + ib * qk;
        float weight[qk];
        uint8_t L[qk];
        std::memset(L, 0, sizeof(L));
        for (int j = 0; j < qk; ++j) weight[j] = xb[j] * xb[j];
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < qk; ++j) {
            const float ax = std::fabs(xb[j]);
            if (ax > amax) {
                amax = ax;
                max = xb[j];
            }
        }
        float scale = 0.0f;
        if (amax >= kGroupMaxEps) {
            float d = ntry > 0 ? -max / values[0] : max / values[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < qk; ++j) {
                const float al = id * xb[j];
                const int l = best_index_int8(16, values, al);
                L[j] = static_cast<uint8_t>(l);
                const float q = values[l];
                const float w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -ntry; itry <= ntry; ++itry) {
                id = static_cast<float>(itry + values[0]) / max;
                sumqx = sumq2 = 0;
                for (int j = 0; j < qk; ++j) {
                    const float al = id * xb[j];
                    const int l = best_index_int8(16, values, al);
                    const float q = values[l];
                    const float w = weight[j];
                    sumqx += w * q * xb[j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scale = d;
        }
        y[ib].d = f32_to_fp16(scale);
        if (ntry > 0) {
            const float id = scale != 0.0f ? 1 / scale : 0.0f;
            for (int j = 0; j < qk; ++j)
                L[j] = static_cast<uint8_t>(best_index_int8(16, values, id * xb[j]));
        }
        for (int j = 0; j < qk / 2; ++j)
            y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[qk / 2 + j] << 4));
    }
}

}  // namespace

void quantize_row_iq4_nl_ref(const float* x, block_iq4_nl* y, int64_t n) {
    quantize_iq4_nl_impl(x, y, n, 7);
}

void quantize_row_iq4_nl_ggml_ref(const float* x, block_iq4_nl* y, int64_t n) {
    quantize_iq4_nl_impl(x, y, n, -1);
}

// ---------------------------------------------------------------------------------------------
// Dot products (ggml's generic vec_dot: integer sums per block, float accumulation)

float vec_dot_q4_0_q8_0(int64_t n, const block_q4_0* x, const block_q8_0* y) {
    constexpr int qk = QK8_0;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const int v0 = (x[ib].qs[j] & 0x0F) - 8;
            const int v1 = (x[ib].qs[j] >> 4) - 8;
            sumi0 += v0 * y[ib].qs[j];
            sumi1 += v1 * y[ib].qs[j + qk / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += static_cast<float>(sumi) * h2f(x[ib].d) * h2f(y[ib].d);
    }
    return sumf;
}

float vec_dot_q4_1_q8_1(int64_t n, const block_q4_1* x, const block_q8_1* y) {
    constexpr int qk = QK8_1;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const int v0 = x[ib].qs[j] & 0x0F;
            const int v1 = x[ib].qs[j] >> 4;
            sumi0 += v0 * y[ib].qs[j];
            sumi1 += v1 * y[ib].qs[j + qk / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf +=
            (h2f(x[ib].d) * h2f(y[ib].d)) * static_cast<float>(sumi) + h2f(x[ib].m) * h2f(y[ib].s);
    }
    return sumf;
}

float vec_dot_q5_0_q8_0(int64_t n, const block_q5_0* x, const block_q8_0* y) {
    constexpr int qk = QK8_0;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        uint32_t qh;
        std::memcpy(&qh, x[ib].qh, sizeof(qh));
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const uint32_t xh0 = ((qh & (1u << (j + 0))) >> (j + 0)) << 4;
            const uint32_t xh1 = (qh & (1u << (j + 16))) >> (j + 12);
            const int x0 = static_cast<int>((x[ib].qs[j] & 0x0Fu) | xh0) - 16;
            const int x1 = static_cast<int>((x[ib].qs[j] >> 4) | xh1) - 16;
            sumi0 += x0 * y[ib].qs[j];
            sumi1 += x1 * y[ib].qs[j + qk / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * static_cast<float>(sumi);
    }
    return sumf;
}

float vec_dot_q5_1_q8_1(int64_t n, const block_q5_1* x, const block_q8_1* y) {
    constexpr int qk = QK8_1;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        uint32_t qh;
        std::memcpy(&qh, x[ib].qh, sizeof(qh));
        int sumi0 = 0, sumi1 = 0;
        for (int j = 0; j < qk / 2; ++j) {
            const uint32_t xh0 = ((qh >> (j + 0)) << 4) & 0x10u;
            const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
            const int x0 = static_cast<int>((x[ib].qs[j] & 0x0Fu) | xh0);
            const int x1 = static_cast<int>((x[ib].qs[j] >> 4) | xh1);
            sumi0 += x0 * y[ib].qs[j];
            sumi1 += x1 * y[ib].qs[j + qk / 2];
        }
        const int sumi = sumi0 + sumi1;
        sumf +=
            (h2f(x[ib].d) * h2f(y[ib].d)) * static_cast<float>(sumi) + h2f(x[ib].m) * h2f(y[ib].s);
    }
    return sumf;
}

float vec_dot_q8_0_q8_0(int64_t n, const block_q8_0* x, const block_q8_0* y) {
    constexpr int qk = QK8_0;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        int sumi = 0;
        for (int j = 0; j < qk; ++j) sumi += x[ib].qs[j] * y[ib].qs[j];
        sumf += static_cast<float>(sumi) * (h2f(x[ib].d) * h2f(y[ib].d));
    }
    return sumf;
}

float vec_dot_q8_1_q8_1(int64_t n, const block_q8_1* x, const block_q8_1* y) {
    constexpr int qk = QK8_1;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        int sumi = 0;
        for (int j = 0; j < qk; ++j) sumi += x[ib].qs[j] * y[ib].qs[j];
        sumf += static_cast<float>(sumi) * (h2f(x[ib].d) * h2f(y[ib].d));
    }
    return sumf;
}

float vec_dot_iq4_nl_q8_0(int64_t n, const block_iq4_nl* x, const block_q8_0* y) {
    constexpr int qk = QK4_NL;
    float sumf = 0;
    for (int64_t ib = 0; ib < n / qk; ++ib) {
        const float d = h2f(y[ib].d) * h2f(x[ib].d);
        int sumi1 = 0, sumi2 = 0;
        for (int j = 0; j < qk / 2; ++j) {
            sumi1 += y[ib].qs[j] * kvalues_iq4nl[x[ib].qs[j] & 0x0F];
            sumi2 += y[ib].qs[j + qk / 2] * kvalues_iq4nl[x[ib].qs[j] >> 4];
        }
        sumf += d * static_cast<float>(sumi1 + sumi2);
    }
    return sumf;
}

}  // namespace folio::quants
