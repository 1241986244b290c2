// Scalar reference quantization: fp16/bf16 conversions, per-type round-trip error bounds,
// reference dot products, and hand-built blocks that decode to known values.
#include <QtTest>

#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FOLIO_TEST_HAVE_X86 1
#endif

#include "tensor/dtype.h"
#include "tensor/quants.h"
#include "tensor/quants_ref.h"

using namespace folio;

namespace {

#ifdef FOLIO_TEST_HAVE_X86
__attribute__((target("f16c"))) uint16_t hw_f32_to_fp16(float f) {
    return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_fp16_to_f32(uint16_t h) {
    return _cvtsh_ss(h);
}
bool have_f16c() {
    return __builtin_cpu_supports("f16c");
}
#else
bool have_f16c() {
    return false;
}
uint16_t hw_f32_to_fp16(float) {
    return 0;
}
float hw_fp16_to_f32(uint16_t) {
    return 0;
}
#endif

uint32_t bits(float f) {
    return std::bit_cast<uint32_t>(f);
}
float from_bits(uint32_t u) {
    return std::bit_cast<float>(u);
}

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, sigma);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> q(dtype_row_size(t, static_cast<int64_t>(x.size())));
    quantize_row_ref(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    return q;
}

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, size_t n) {
    std::vector<float> y(n);
    dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
    return y;
}

double rel_rms(const std::vector<float>& ref, const std::vector<float>& got) {
    double e = 0, r = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double d = static_cast<double>(got[i]) - ref[i];
        e += d * d;
        r += static_cast<double>(ref[i]) * ref[i];
    }
    return std::sqrt(e / r);
}

struct TypeBound {
    DType type;
    double max_rel_rms;  // on unit Gaussian data
};

// About 1.15x the measured values, which roundTripError prints.
const TypeBound kBounds[] = {
    {DType::F16, 2.5e-4},  {DType::BF16, 2.0e-3},  {DType::Q8_0, 6.2e-3}, {DType::Q8_1, 6.2e-3},
    {DType::Q8_K, 8.0e-3}, {DType::Q6_K, 2.05e-2}, {DType::Q5_0, 4.9e-2}, {DType::Q5_1, 4.4e-2},
    {DType::Q5_K, 4.2e-2}, {DType::Q4_0, 9.9e-2},  {DType::Q4_1, 9.0e-2}, {DType::IQ4_NL, 8.8e-2},
    {DType::Q4_K, 8.2e-2}, {DType::Q3_K, 1.74e-1}, {DType::Q2_K, 3.4e-1},
};

}  // namespace

class TestQuantsRef : public QObject {
    Q_OBJECT

  private slots:
    void fp16AllHalvesRoundTrip() {
        int nan_count = 0;
        for (uint32_t h = 0; h < 65536; ++h) {
            const float f = fp16_to_f32(static_cast<fp16_t>(h));
            const bool is_nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            if (is_nan) {
                ++nan_count;
                QVERIFY(std::isnan(f));
                const fp16_t back = f32_to_fp16(f);
                QVERIFY((back & 0x7C00) == 0x7C00 && (back & 0x200) != 0);  // quiet NaN
                QCOMPARE(back & 0x8000, h & 0x8000);
                continue;
            }
            if (f32_to_fp16(f) != h)
                QFAIL(qPrintable(QString("half 0x%1 does not round-trip").arg(h, 4, 16)));
        }
        QCOMPARE(nan_count, 2 * 1023);
    }

    void fp16KnownValues() {
        QCOMPARE(fp16_to_f32(0x3C00), 1.0f);
        QCOMPARE(fp16_to_f32(0xC000), -2.0f);
        QCOMPARE(fp16_to_f32(0x7BFF), 65504.0f);
        QCOMPARE(fp16_to_f32(0x0001), 0x1p-24f);
        QCOMPARE(fp16_to_f32(0x03FF), 1023 * 0x1p-24f);
        QCOMPARE(fp16_to_f32(0x0400), 0x1p-14f);
        QCOMPARE(bits(fp16_to_f32(0x8000)), 0x80000000u);
        QVERIFY(std::isinf(fp16_to_f32(0x7C00)) && fp16_to_f32(0x7C00) > 0);
        QVERIFY(std::isinf(fp16_to_f32(0xFC00)) && fp16_to_f32(0xFC00) < 0);

        QCOMPARE(f32_to_fp16(65504.0f), fp16_t{0x7BFF});
        QCOMPARE(f32_to_fp16(65519.996f), fp16_t{0x7BFF});
        QCOMPARE(f32_to_fp16(65520.0f), fp16_t{0x7C00});  // tie rounds to even: inf
        QCOMPARE(f32_to_fp16(1e10f), fp16_t{0x7C00});
        QCOMPARE(f32_to_fp16(-INFINITY), fp16_t{0xFC00});
        QCOMPARE(f32_to_fp16(-0.0f), fp16_t{0x8000});
        QCOMPARE(f32_to_fp16(0x1p-25f), fp16_t{0x0000});             // tie to even (0)
        QCOMPARE(f32_to_fp16(0x1.000002p-25f), fp16_t{0x0001});      // just above the tie
        QCOMPARE(f32_to_fp16(3 * 0x1p-25f), fp16_t{0x0002});         // tie to even (2)
        QCOMPARE(f32_to_fp16(1023.5f * 0x1p-24f), fp16_t{0x0400});   // subnormal -> normal
        QCOMPARE(f32_to_fp16(1.0f + 0x1p-11f), fp16_t{0x3C00});      // tie to even
        QCOMPARE(f32_to_fp16(1.0f + 3 * 0x1p-11f), fp16_t{0x3C02});  // tie to even
        QCOMPARE(f32_to_fp16(1e-10f), fp16_t{0x0000});
        QCOMPARE(f32_to_fp16(from_bits(0x7FC00000)), fp16_t{0x7E00});
        QCOMPARE(f32_to_fp16(from_bits(0xFF800001)), fp16_t{0xFE00});  // signalling -> quiet
    }

    void fp16MatchesF16C() {
        if (!have_f16c()) QSKIP("CPU has no F16C");
        for (uint32_t h = 0; h < 65536; ++h) {
            const float a = fp16_to_f32(static_cast<fp16_t>(h));
            const float b = hw_fp16_to_f32(static_cast<uint16_t>(h));
            QCOMPARE(bits(a), bits(b));
        }
        // Every float whose low 13 bits are near the rounding boundary, at every exponent, plus
        // random bit patterns.
        std::mt19937 rng(1234);
        auto check = [](uint32_t u) {
            const float f = from_bits(u);
            const uint16_t want = hw_f32_to_fp16(f);
            const uint16_t got = f32_to_fp16(f);
            if (want != got)
                QFAIL(qPrintable(QString("f32 0x%1: got 0x%2 want 0x%3")
                                     .arg(u, 8, 16)
                                     .arg(got, 4, 16)
                                     .arg(want, 4, 16)));
        };
        const uint32_t lows[] = {0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x0800, 0x17FF};
        for (uint32_t e = 0; e < 256; ++e)
            for (uint32_t m : {0x000000u, 0x002000u, 0x7FE000u, 0x3FE000u, 0x400000u})
                for (uint32_t lo : lows)
                    for (uint32_t s : {0u, 0x80000000u})
                        check(s | (e << 23) | ((m | lo) & 0x7FFFFF));
        for (int i = 0; i < 2000000; ++i) check(static_cast<uint32_t>(rng()));
    }

    void bf16Conversions() {
        for (uint32_t h = 0; h < 65536; ++h) {
            const float f = bf16_to_f32(static_cast<bf16_t>(h));
            QCOMPARE(bits(f), h << 16);
            const bool is_nan = (h & 0x7F80) == 0x7F80 && (h & 0x7F) != 0;
            if (is_nan) {
                QCOMPARE(f32_to_bf16(f), static_cast<bf16_t>(h | 0x40));
            } else {
                QCOMPARE(f32_to_bf16(f), static_cast<bf16_t>(h));
            }
        }
        QCOMPARE(f32_to_bf16(1.0f), bf16_t{0x3F80});
        QCOMPARE(f32_to_bf16(from_bits(0x3F808000)), bf16_t{0x3F80});  // tie to even (down)
        QCOMPARE(f32_to_bf16(from_bits(0x3F818000)), bf16_t{0x3F82});  // tie to even (up)
        QCOMPARE(f32_to_bf16(from_bits(0x3F808001)), bf16_t{0x3F81});
        QCOMPARE(f32_to_bf16(from_bits(0x7F7FFFFF)), bf16_t{0x7F80});  // overflow to inf
        QCOMPARE(f32_to_bf16(INFINITY), bf16_t{0x7F80});
        QCOMPARE(f32_to_bf16(from_bits(0x7F800001)), bf16_t{0x7FC0});  // signalling -> quiet
        QCOMPARE(f32_to_bf16(from_bits(0xFFC00000)), bf16_t{0xFFC0});
        QCOMPARE(f32_to_bf16(from_bits(0x00018000)), bf16_t{0x0002});  // subnormals round too
    }

    void handBuiltLegacyBlocks() {
        const fp16_t half_0_5 = f32_to_fp16(0.5f), minus_one = f32_to_fp16(-1.0f);
        const fp16_t quarter = f32_to_fp16(0.25f);
        {
            block_q4_0 b{};
            b.d = half_0_5;
            for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
            float y[32];
            dequantize_row(DType::Q4_0, &b, y, 32);
            for (int j = 0; j < 16; ++j) {
                QCOMPARE(y[j], 0.5f * (j - 8));
                QCOMPARE(y[j + 16], 0.5f * (15 - j - 8));
            }
        }
        {
            block_q4_1 b{};
            b.d = half_0_5;
            b.m = minus_one;
            for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
            float y[32];
            dequantize_row(DType::Q4_1, &b, y, 32);
            for (int j = 0; j < 16; ++j) {
                QCOMPARE(y[j], 0.5f * j - 1.0f);
                QCOMPARE(y[j + 16], 0.5f * (15 - j) - 1.0f);
            }
        }
        // Q5: value v_j = j for the first half, 31 - j for the second half (high bits in qh).
        auto fill_q5 = [](uint8_t* qs, uint8_t* qh) {
            uint32_t h = 0;
            for (int j = 0; j < 16; ++j) {
                const int v0 = 2 * j, v1 = 31 - 2 * j;
                qs[j] = static_cast<uint8_t>((v0 & 15) | ((v1 & 15) << 4));
                h |= static_cast<uint32_t>(v0 >> 4) << j;
                h |= static_cast<uint32_t>(v1 >> 4) << (j + 16);
            }
            std::memcpy(qh, &h, 4);
        };
        {
            block_q5_0 b{};
            b.d = quarter;
            fill_q5(b.qs, b.qh);
            float y[32];
            dequantize_row(DType::Q5_0, &b, y, 32);
            for (int j = 0; j < 16; ++j) {
                QCOMPARE(y[j], 0.25f * (2 * j - 16));
                QCOMPARE(y[j + 16], 0.25f * (31 - 2 * j - 16));
            }
        }
        {
            block_q5_1 b{};
            b.d = quarter;
            b.m = minus_one;
            fill_q5(b.qs, b.qh);
            float y[32];
            dequantize_row(DType::Q5_1, &b, y, 32);
            for (int j = 0; j < 16; ++j) {
                QCOMPARE(y[j], 0.25f * (2 * j) - 1.0f);
                QCOMPARE(y[j + 16], 0.25f * (31 - 2 * j) - 1.0f);
            }
        }
        {
            block_q8_0 b{};
            b.d = quarter;
            for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
            float y[32];
            dequantize_row(DType::Q8_0, &b, y, 32);
            for (int j = 0; j < 32; ++j) QCOMPARE(y[j], 0.25f * (j * 8 - 128));
        }
        {
            block_q8_1 b{};
            b.d = quarter;
            b.s = f32_to_fp16(123.0f);
            for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(127 - j);
            float y[32];
            dequantize_row(DType::Q8_1, &b, y, 32);
            for (int j = 0; j < 32; ++j) QCOMPARE(y[j], 0.25f * (127 - j));
        }
        {
            block_iq4_nl b{};
            b.d = half_0_5;
            for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
            float y[32];
            dequantize_row(DType::IQ4_NL, &b, y, 32);
            for (int j = 0; j < 16; ++j) {
                QCOMPARE(y[j], 0.5f * kvalues_iq4nl[j]);
                QCOMPARE(y[j + 16], 0.5f * kvalues_iq4nl[15 - j]);
            }
        }
    }

    void handBuiltKBlocks() {
        {
            // Q6_K: stored 6-bit quants L[j] (value L - 32), scale of sub-block s is s - 8.
            block_q6_K b{};
            b.d = f32_to_fp16(0.125f);
            for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s - 8);
            uint8_t L[QK_K];
            for (int j = 0; j < QK_K; ++j) L[j] = static_cast<uint8_t>((j * 7) % 64);
            for (int h = 0; h < 2; ++h) {
                for (int l = 0; l < 32; ++l) {
                    const uint8_t* Lh = L + 128 * h;
                    b.ql[64 * h + l] =
                        static_cast<uint8_t>((Lh[l] & 15) | ((Lh[l + 64] & 15) << 4));
                    b.ql[64 * h + l + 32] =
                        static_cast<uint8_t>((Lh[l + 32] & 15) | ((Lh[l + 96] & 15) << 4));
                    b.qh[32 * h + l] =
                        static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                             ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
                }
            }
            float y[QK_K];
            dequantize_row(DType::Q6_K, &b, y, QK_K);
            for (int j = 0; j < QK_K; ++j) QCOMPARE(y[j], 0.125f * (j / 16 - 8) * (L[j] - 32));
        }
        {
            // Q4_K: distinct 6-bit scales and mins per 32-element sub-block, mixed nibbles.
            block_q4_K b{};
            b.d = f32_to_fp16(0.5f);
            b.dmin = f32_to_fp16(0.25f);
            uint8_t sc[8], mn[8];
            for (int j = 0; j < 8; ++j) {
                sc[j] = static_cast<uint8_t>((j * 9 + 1) & 63);
                mn[j] = static_cast<uint8_t>((j * 5 + 3) & 63);
            }
            for (int j = 0; j < 4; ++j) {
                b.scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
                b.scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
                b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
            }
            for (int j = 0; j < 8; ++j) {
                uint8_t s, m;
                quants::get_scale_min_k4(j, b.scales, &s, &m);
                QCOMPARE(s, sc[j]);
                QCOMPARE(m, mn[j]);
            }
            for (int c = 0; c < 4; ++c)
                for (int l = 0; l < 32; ++l)
                    b.qs[32 * c + l] = static_cast<uint8_t>((l % 16) | (((l + 3) % 16) << 4));
            float y[QK_K];
            dequantize_row(DType::Q4_K, &b, y, QK_K);
            for (int j = 0; j < QK_K; ++j) {
                const int sub = j / 32, l = j % 32;
                const int q = (sub % 2 == 0) ? l % 16 : (l + 3) % 16;
                QCOMPARE(y[j], 0.5f * sc[sub] * q - 0.25f * mn[sub]);
            }
        }
    }

    void roundTripError() {
        const size_t n = 256 * 64;
        const auto x = gaussian(n, 42);
        std::map<DType, double> err;
        for (const auto& b : kBounds) {
            const auto y = dequantize(b.type, quantize(b.type, x), n);
            const double e = rel_rms(x, y);
            err[b.type] = e;
            qInfo("%-7s relative RMS %.5f (bound %.5f)", dtype_name(b.type).data(), e,
                  b.max_rel_rms);
        }
        for (const auto& b : kBounds)
            QVERIFY2(err[b.type] <= b.max_rel_rms, dtype_name(b.type).data());
        // The usual quality ordering.
        const DType order[] = {DType::Q8_0, DType::Q6_K, DType::Q5_K,
                               DType::Q4_K, DType::Q3_K, DType::Q2_K};
        for (size_t i = 1; i < std::size(order); ++i) QVERIFY(err[order[i - 1]] < err[order[i]]);
        QVERIFY(err[DType::F16] < err[DType::BF16]);
        QVERIFY(err[DType::BF16] < err[DType::Q8_0]);
        QVERIFY(err[DType::Q5_0] < err[DType::Q4_0]);
        QVERIFY(err[DType::Q5_1] < err[DType::Q4_1]);
        QVERIFY(err[DType::Q4_1] < err[DType::Q4_0]);
        QVERIFY(err[DType::IQ4_NL] < err[DType::Q4_0]);
        QVERIFY(err[DType::Q5_K] < err[DType::Q5_0]);
        QVERIFY(err[DType::Q4_K] < err[DType::Q4_0]);
    }

    void iq4nlVariants() {
        // ggml's quick quantize_row_iq4_nl_ref (no scale search) is a little worse than the
        // searched quantizer llama-quantize runs, which quantize_row_ref(IQ4_NL) implements.
        const size_t n = 4096;
        const auto x = gaussian(n, 11);
        std::vector<block_iq4_nl> quick(n / QK4_NL);
        quants::quantize_row_iq4_nl_ggml_ref(x.data(), quick.data(), static_cast<int64_t>(n));
        std::vector<float> yq(n);
        dequantize_row(DType::IQ4_NL, quick.data(), yq.data(), static_cast<int64_t>(n));
        const double e_quick = rel_rms(x, yq);
        const double e_search =
            rel_rms(x, dequantize(DType::IQ4_NL, quantize(DType::IQ4_NL, x), n));
        qInfo("iq4_nl quick %.5f searched %.5f", e_quick, e_search);
        QVERIFY(e_search < e_quick);
        QVERIFY(e_quick < 0.1);
    }

    void zeroAndConstantRows() {
        const size_t n = 512;
        for (const auto& b : kBounds) {
            const std::vector<float> zeros(n, 0.0f);
            for (float v : dequantize(b.type, quantize(b.type, zeros), n)) QCOMPARE(v, 0.0f);
            // A constant row must stay finite and close.
            const std::vector<float> c(n, 0.75f);
            for (float v : dequantize(b.type, quantize(b.type, c), n)) {
                QVERIFY(std::isfinite(v));
                QVERIFY2(std::fabs(v - 0.75f) < 0.2f, dtype_name(b.type).data());
            }
        }
    }

    void scaleInvariance() {
        // Tiny and large magnitudes quantize as well as unit ones (relative error).
        const size_t n = 1024;
        for (float scale : {1e-3f, 30.0f}) {
            const auto x = gaussian(n, 7, scale);
            for (const auto& b : kBounds) {
                if (b.type == DType::F16) continue;
                const double e = rel_rms(x, dequantize(b.type, quantize(b.type, x), n));
                QVERIFY2(e <= b.max_rel_rms * 1.3, dtype_name(b.type).data());
            }
        }
    }

    void vecDot() {
        const size_t n = 256 * 16;
        const auto xw = gaussian(n, 100);
        const auto xa = gaussian(n, 200);
        for (const auto& b : kBounds) {
            if (b.type == DType::Q8_1 || b.type == DType::Q8_K) continue;  // activation formats
            const DType at = vec_dot_type(b.type);
            const auto w = quantize(b.type, xw);
            const auto a = quantize(at, xa);
            const float got = vec_dot_ref(b.type, static_cast<int64_t>(n), w.data(), a.data());
            const auto wd = dequantize(b.type, w, n);
            const auto ad = dequantize(at, a, n);
            double exact = 0, vs_float = 0, mag = 0;
            for (size_t i = 0; i < n; ++i) {
                exact += static_cast<double>(wd[i]) * ad[i];
                vs_float += static_cast<double>(wd[i]) * xa[i];
                mag += std::fabs(static_cast<double>(wd[i]) * ad[i]);
            }
            // Against the dequantized activations only float rounding differs (and the fp16
            // rounding of Q8_1's d*sum for the Q4_1/Q5_1 mins term).
            const double tight = 2e-5 * mag + ((at == DType::Q8_1) ? 2e-3 * mag : 0.0);
            QVERIFY2(
                std::fabs(got - exact) <= tight,
                qPrintable(
                    QString("%1: %2 vs %3").arg(dtype_name(b.type).data()).arg(got).arg(exact)));
            // Against float activations the activation quantization error shows (<1%).
            QVERIFY2(
                std::fabs(got - vs_float) <= 1e-2 * mag,
                qPrintable(
                    QString("%1: %2 vs %3").arg(dtype_name(b.type).data()).arg(got).arg(vs_float)));
        }
    }

    void vecDotTypes() {
        QCOMPARE(vec_dot_type(DType::F32), DType::F32);
        QCOMPARE(vec_dot_type(DType::F16), DType::F16);
        QCOMPARE(vec_dot_type(DType::BF16), DType::BF16);
        for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::IQ4_NL})
            QCOMPARE(vec_dot_type(t), DType::Q8_0);
        for (DType t : {DType::Q4_1, DType::Q5_1}) QCOMPARE(vec_dot_type(t), DType::Q8_1);
        for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K})
            QCOMPARE(vec_dot_type(t), DType::Q8_K);
    }

    void q8QuantizersKnownValues() {
        // Q8_0: d = amax / 127, q = roundf(x / d) (half away from zero).
        std::vector<float> x(32);
        for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) * 0.5f;  // amax 8
        const auto q = quantize(DType::Q8_0, x);
        block_q8_0 b;
        std::memcpy(&b, q.data(), sizeof(b));
        const float d = 8.0f / 127;
        QCOMPARE(b.d, f32_to_fp16(d));
        for (int j = 0; j < 32; ++j) QCOMPARE(int(b.qs[j]), int(std::round(x[j] * (1.0f / d))));
        // Q8_K: d = max / -127 for the signed max-magnitude element; bsums are group sums.
        std::vector<float> xk = gaussian(QK_K, 3);
        const auto qk = quantize(DType::Q8_K, xk);
        block_q8_K bk;
        std::memcpy(&bk, qk.data(), sizeof(bk));
        float max = 0, amax = 0;
        for (float v : xk)
            if (std::fabs(v) > amax) amax = std::fabs(v), max = v;
        QCOMPARE(bk.d, 1 / (-127.f / max));
        for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int j = 0; j < 16; ++j) s += bk.qs[16 * g + j];
            QCOMPARE(int(bk.bsums[g]), s);
        }
    }

    void unsupportedTypeAborts() {
        const pid_t pid = fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            const int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0) dup2(devnull, STDERR_FILENO);
            (void)vec_dot_type(DType::IQ2_XXS);
            _exit(0);
        }
        int status = 0;
        QCOMPARE(waitpid(pid, &status, 0), pid);
        QVERIFY(WIFSIGNALED(status));
        QCOMPARE(WTERMSIG(status), SIGABRT);
    }
};

QTEST_GUILESS_MAIN(TestQuantsRef)
#include "test_quants_ref.moc"
