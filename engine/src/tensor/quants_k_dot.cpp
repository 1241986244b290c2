// K-quant x Q8_K reference dot products, bit-exact with ggml's generic ggml_vec_dot_*_q8_K:
// integer products are gathered in 8 lanes (element index mod 8) per super-block, scaled into 8
// float lanes, and the lanes are summed at the end; the mins terms use the Q8_K bsums.
#include <cstdint>
#include <cstring>

#include "tensor/quants.h"
#include "tensor/quants_ref.h"

namespace folio::quants {
namespace {

inline float h2f(fp16_t h) {
    return fp16_to_f32(h);
}

// aux32[l] += scale * q8[k] * a[k] for the `count` elements, lane l = k % 8.
inline void accumulate_lanes(int32_t* aux32, int32_t scale, const int8_t* q8, const int8_t* a,
                             int count) {
    for (int k = 0; k < count; ++k) aux32[k & 7] += scale * (q8[k] * a[k]);
}

}  // namespace

float vec_dot_q2_K_q8_K(int64_t n, const block_q2_K* x, const block_q8_K* y) {
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const uint8_t* q2 = x[i].qs;
        const int8_t* q8 = y[i].qs;
        const uint8_t* sc = x[i].scales;
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += y[i].bsums[j] * (sc[j] >> 4);
        const float dall = y[i].d * h2f(x[i].d);
        const float dmin = y[i].d * h2f(x[i].dmin);
        int isum = 0, is = 0;
        for (int k = 0; k < QK_K / 128; ++k) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                int d = sc[is++] & 0xF;
                int isuml = 0;
                for (int l = 0; l < 16; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
                isum += d * isuml;
                d = sc[is++] & 0xF;
                isuml = 0;
                for (int l = 16; l < 32; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
                isum += d * isuml;
                shift += 2;
                q8 += 32;
            }
            q2 += 32;
        }
        sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
    }
    return sumf;
}

float vec_dot_q3_K_q8_K(int64_t n, const block_q3_K* x, const block_q8_K* y) {
    int8_t aux8[QK_K];
    int32_t aux32[8];
    float sums[8] = {};
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const uint8_t* q3 = x[i].qs;
        const uint8_t* hm = x[i].hmask;
        std::memset(aux32, 0, sizeof(aux32));
        int8_t* a = aux8;
        uint8_t m = 1;
        for (int j = 0; j < QK_K; j += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int l = 0; l < 32; ++l)
                    a[l] = static_cast<int8_t>(((q3[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                a += 32;
                m = static_cast<uint8_t>(m << 1);
            }
            q3 += 32;
        }
        int8_t scales[16];
        unpack_q3_k_scales(x[i].scales, scales);
        for (int j = 0; j < QK_K / 16; ++j)
            accumulate_lanes(aux32, scales[j], y[i].qs + 16 * j, aux8 + 16 * j, 16);
        const float d = h2f(x[i].d) * y[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    float sumf = 0;
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

namespace {

// Shared by Q4_K and Q5_K: a[] holds the 256 unsigned quants of super-block i.
inline void q45_block(const uint8_t* packed_scales, const int8_t* aux8, const block_q8_K& yb,
                      float d, float dmin, float* sums, float* sumf) {
    uint8_t scales[8], mins[8];
    for (int j = 0; j < 8; ++j) get_scale_min_k4(j, packed_scales, &scales[j], &mins[j]);
    int sumi = 0;
    for (int j = 0; j < QK_K / 16; ++j) sumi += yb.bsums[j] * mins[j / 2];
    int32_t aux32[8] = {};
    for (int j = 0; j < QK_K / 32; ++j)
        accumulate_lanes(aux32, scales[j], yb.qs + 32 * j, aux8 + 32 * j, 32);
    for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    *sumf -= dmin * static_cast<float>(sumi);
}

}  // namespace

float vec_dot_q4_K_q8_K(int64_t n, const block_q4_K* x, const block_q8_K* y) {
    int8_t aux8[QK_K];
    float sums[8] = {};
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const uint8_t* q4 = x[i].qs;
        int8_t* a = aux8;
        for (int j = 0; j < QK_K / 64; ++j) {
            for (int l = 0; l < 32; ++l) a[l] = static_cast<int8_t>(q4[l] & 0xF);
            a += 32;
            for (int l = 0; l < 32; ++l) a[l] = static_cast<int8_t>(q4[l] >> 4);
            a += 32;
            q4 += 32;
        }
        q45_block(x[i].scales, aux8, y[i], h2f(x[i].d) * y[i].d, h2f(x[i].dmin) * y[i].d, sums,
                  &sumf);
    }
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

float vec_dot_q5_K_q8_K(int64_t n, const block_q5_K* x, const block_q8_K* y) {
    int8_t aux8[QK_K];
    float sums[8] = {};
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const uint8_t* q4 = x[i].qs;
        const uint8_t* hm = x[i].qh;
        int8_t* a = aux8;
        uint8_t m = 1;
        for (int j = 0; j < QK_K / 64; ++j) {
            for (int l = 0; l < 32; ++l)
                a[l] = static_cast<int8_t>((q4[l] & 0xF) + ((hm[l] & m) ? 16 : 0));
            a += 32;
            m = static_cast<uint8_t>(m << 1);
            for (int l = 0; l < 32; ++l)
                a[l] = static_cast<int8_t>((q4[l] >> 4) + ((hm[l] & m) ? 16 : 0));
            a += 32;
            m = static_cast<uint8_t>(m << 1);
            q4 += 32;
        }
        q45_block(x[i].scales, aux8, y[i], h2f(x[i].d) * y[i].d, h2f(x[i].dmin) * y[i].d, sums,
                  &sumf);
    }
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

float vec_dot_q6_K_q8_K(int64_t n, const block_q6_K* x, const block_q8_K* y) {
    int8_t aux8[QK_K];
    float sums[8] = {};
    for (int64_t i = 0; i < n / QK_K; ++i) {
        const uint8_t* q4 = x[i].ql;
        const uint8_t* qh = x[i].qh;
        int8_t* a = aux8;
        for (int j = 0; j < QK_K; j += 128) {
            for (int l = 0; l < 32; ++l) {
                a[l + 0] =
                    static_cast<int8_t>(((q4[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                a[l + 32] =
                    static_cast<int8_t>(((q4[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                a[l + 64] =
                    static_cast<int8_t>(((q4[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                a[l + 96] =
                    static_cast<int8_t>(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
            a += 128;
            q4 += 64;
            qh += 32;
        }
        int32_t aux32[8] = {};
        for (int j = 0; j < QK_K / 16; ++j)
            accumulate_lanes(aux32, x[i].scales[j], y[i].qs + 16 * j, aux8 + 16 * j, 16);
        const float d = h2f(x[i].d) * y[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
    }
    float sumf = 0;
    for (int l = 0; l < 8; ++l) sumf += sums[l];
    return sumf;
}

float vec_dot_q8_K_q8_K(int64_t n, const block_q8_K* x, const block_q8_K* y) {
    float sumf = 0;
    for (int64_t i = 0; i < n / QK_K; ++i) {
        int sumi = 0;
        for (int j = 0; j < QK_K; ++j) sumi += x[i].qs[j] * y[i].qs[j];
        sumf += (x[i].d * y[i].d) * static_cast<float>(sumi);
    }
    return sumf;
}

}  // namespace folio::quants
