// Fast CPU kernels (AVX2, AVX-512, AVX-512 VNNI) against the scalar reference code in
// tensor/quants.h. Levels this CPU lacks are skipped.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "kernels/cpu/kernels.h"
#include "tensor/quants.h"

using namespace folio;
using folio::kern::Isa;

Q_DECLARE_METATYPE(folio::DType)
Q_DECLARE_METATYPE(folio::kern::Isa)

namespace {

const DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,   DType::Q4_1,
                              DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL, DType::Q2_K,
                              DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
const DType kActTypes[] = {DType::F32,  DType::F16,  DType::BF16,
                           DType::Q8_0, DType::Q8_1, DType::Q8_K};
const Isa kFastIsas[] = {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni};

// Normal data with a per-32 scale spread over a few orders of magnitude and a few exact zeros.
std::vector<float> random_row(std::mt19937& rng, int64_t n) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::uniform_real_distribution<float> ud(-2.0f, 1.0f);
    std::vector<float> v(n);
    for (int64_t b = 0; b < n; b += 32) {
        const float scale = std::pow(10.0f, ud(rng));
        for (int64_t i = b; i < std::min(n, b + 32); ++i) v[i] = nd(rng) * scale;
    }
    if (n >= 64) {
        for (int i = 0; i < 32; ++i) v[32 + i] = 0.0f;  // an all-zero block
    }
    return v;
}

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> q(dtype_row_size(t, static_cast<int64_t>(x.size())));
    quantize_row_ref(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
    return q;
}

std::vector<float> dequantize(DType t, const void* q, int64_t n) {
    std::vector<float> v(n);
    dequantize_row(t, q, v.data(), n);
    return v;
}

// Sum of |w_i * a_i| over the dequantized rows: the scale of the rounding error of any
// summation order.
double abs_dot(DType wt, const void* w, DType at, const void* a, int64_t n) {
    const std::vector<float> wf = dequantize(wt, w, n), af = dequantize(at, a, n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(wf[i]) * af[i]);
    return s;
}

std::vector<int64_t> sizes_for(DType t) {
    if (dtype_traits(t).block_size == QK_K) return {256, 512, 1024, 2816, 4096};
    return {32, 64, 96, 256, 1024, 2816, 4128};
}

void add_isa_rows(const char* what, const DType* types, size_t num_types) {
    QTest::addColumn<Isa>("isa");
    QTest::addColumn<DType>("type");
    for (Isa isa : kFastIsas) {
        for (size_t i = 0; i < num_types; ++i) {
            QTest::addRow("%s/%s/%s", what, kern::isa_name(isa), dtype_name(types[i]).data())
                << isa << types[i];
        }
    }
}

// One row per fast level (after the generic one when with_generic), named what/level.
void add_level_rows(const char* what, bool with_generic = false) {
    QTest::addColumn<Isa>("isa");
    if (with_generic) QTest::addRow("%s/generic", what) << Isa::kGeneric;
    for (Isa isa : kFastIsas) QTest::addRow("%s/%s", what, kern::isa_name(isa)) << isa;
}

#define SKIP_UNLESS_SUPPORTED(isa)                                           \
    do {                                                                     \
        if (!kern::isa_supported(isa)) QSKIP("instruction set not present"); \
    } while (0)

}  // namespace

class TestKernelsX86 : public QObject {
    Q_OBJECT

  private slots:
    void vec_dot_data() { add_isa_rows("dot", kWeightTypes, std::size(kWeightTypes)); }
    void vec_dot() {
        QFETCH(Isa, isa);
        QFETCH(DType, type);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::KernelTable& kt = kern::kernel_table(isa);
        const DType at = vec_dot_type(type);
        std::mt19937 rng(1234 + static_cast<int>(type));
        for (int64_t n : sizes_for(type)) {
            for (int rep = 0; rep < 4; ++rep) {
                const auto w = quantize(type, random_row(rng, n));
                const auto a = quantize(at, random_row(rng, n));
                const float ref = vec_dot_ref(type, n, w.data(), a.data());
                const float got = kt.vec_dot[kern::type_index(type)](n, w.data(), a.data());
                const double rel = dtype_traits(type).quantized ? 2e-6 : 1e-5;
                const double tol = rel * abs_dot(type, w.data(), at, a.data(), n) + 1e-30;
                if (std::fabs(static_cast<double>(got) - ref) > tol) {
                    QFAIL(qPrintable(QString("n=%1 rep=%2 ref=%3 got=%4 tol=%5")
                                         .arg(n)
                                         .arg(rep)
                                         .arg(ref, 0, 'g', 9)
                                         .arg(got, 0, 'g', 9)
                                         .arg(tol)));
                }
            }
        }
    }

    void vec_dot_tile_data() { add_isa_rows("tile", kWeightTypes, std::size(kWeightTypes)); }
    void vec_dot_tile() {
        QFETCH(Isa, isa);
        QFETCH(DType, type);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::KernelTable& kt = kern::kernel_table(isa);
        const kern::VecDotTileFn tile = kt.vec_dot_tile[kern::type_index(type)];
        if (tile == nullptr) QSKIP("no tile kernel for this type");
        const DType at = vec_dot_type(type);
        std::mt19937 rng(99);
        const int64_t n = dtype_traits(type).block_size == QK_K ? 512 : 320;
        const size_t wrow = dtype_row_size(type, n), arow = dtype_row_size(at, n);
        for (int nr : {1, 2, 3, 4}) {
            for (int na : {1, 2, 3, 4, 5}) {
                std::vector<uint8_t> w(wrow * nr), a(arow * na);
                for (int r = 0; r < nr; ++r) {
                    quantize_row_ref(type, random_row(rng, n).data(), w.data() + r * wrow, n);
                }
                for (int i = 0; i < na; ++i) {
                    quantize_row_ref(at, random_row(rng, n).data(), a.data() + i * arow, n);
                }
                std::vector<float> out(static_cast<size_t>(na) * 7, -1.0f);
                tile(n, w.data(), wrow, nr, a.data(), arow, na, out.data(), 7);
                for (int i = 0; i < na; ++i) {
                    for (int r = 0; r < nr; ++r) {
                        const float ref =
                            vec_dot_ref(type, n, w.data() + r * wrow, a.data() + i * arow);
                        const double tol =
                            2e-6 * abs_dot(type, w.data() + r * wrow, at, a.data() + i * arow, n);
                        QVERIFY2(
                            std::fabs(out[i * 7 + r] - ref) <= tol,
                            qPrintable(
                                QString("nr=%1 na=%2 r=%3 i=%4").arg(nr).arg(na).arg(r).arg(i)));
                    }
                    for (int r = nr; r < 7; ++r) QCOMPARE(out[i * 7 + r], -1.0f);
                }
            }
        }
    }

    void from_float_data() { add_isa_rows("quant", kActTypes, std::size(kActTypes)); }
    void from_float() {
        QFETCH(Isa, isa);
        QFETCH(DType, type);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::KernelTable& kt = kern::kernel_table(isa);
        std::mt19937 rng(7);
        for (int64_t n : {256, 512, 4096}) {
            std::vector<float> x = random_row(rng, n);
            // Ties: with amax 127 the Q8 scale is 1, so k + 0.5 must round away from zero.
            for (int i = 0; i < 32; ++i) x[i] = (i == 0 ? 127.0f : (i % 2 ? 1 : -1) * (i + 0.5f));
            // The same after an f16/bf16 round trip and with tiny numbers (subnormal halfs).
            for (int i = 64; i < 96; ++i) x[i] = 1e-6f * (i - 80);
            const auto ref = quantize(type, x);
            std::vector<uint8_t> got(ref.size(), 0xAA);
            kt.from_float[kern::type_index(type)](x.data(), got.data(), n);
            QVERIFY2(std::memcmp(ref.data(), got.data(), ref.size()) == 0,
                     qPrintable(QString("n=%1").arg(n)));
        }
    }

    void to_float_data() {
        QTest::addColumn<Isa>("isa");
        QTest::addColumn<DType>("type");
        const DType types[] = {DType::F16,  DType::BF16, DType::Q8_0,
                               DType::Q4_0, DType::Q4_K, DType::Q6_K};
        for (Isa isa : kFastIsas) {
            for (DType t : types) {
                QTest::addRow("deq/%s/%s", kern::isa_name(isa), dtype_name(t).data()) << isa << t;
            }
        }
    }
    void to_float() {
        QFETCH(Isa, isa);
        QFETCH(DType, type);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::KernelTable& kt = kern::kernel_table(isa);
        std::mt19937 rng(11);
        for (int64_t n : {256, 1024, 4352}) {
            const auto q = quantize(type, random_row(rng, n));
            const auto ref = dequantize(type, q.data(), n);
            std::vector<float> got(n, -7.0f);
            kt.to_float[kern::type_index(type)](q.data(), got.data(), n);
            QVERIFY(std::memcmp(ref.data(), got.data(), n * sizeof(float)) == 0);
        }
    }

    // Repacked layouts: pack/unpack round trip and the GEMM micro-kernel against vec_dot_ref.
    void repack_data() { add_isa_rows("repack", kWeightTypes, std::size(kWeightTypes)); }
    void repack() {
        QFETCH(Isa, isa);
        QFETCH(DType, type);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::KernelTable& kt = kern::kernel_table(isa);
        const kern::RepackKernel* rk = kt.repack[kern::type_index(type)];
        if (rk == nullptr) QSKIP("no repacked layout for this type");
        const DType at = vec_dot_type(type);
        std::mt19937 rng(5);
        const int R = rk->panel_rows;
        for (int64_t n : sizes_for(type)) {
            const size_t wrow = dtype_row_size(type, n), arow = dtype_row_size(at, n);
            const size_t pb = rk->panel_bytes(n);
            // Up to 3 panels; the last one partial.
            for (int nrows : {3 * R - 3, R, R - 3, 1}) {
                const int np = (nrows + R - 1) / R;
                std::vector<uint8_t> w(wrow * nrows);
                for (int r = 0; r < nrows; ++r) {
                    quantize_row_ref(type, random_row(rng, n).data(), w.data() + r * wrow, n);
                }
                std::vector<uint8_t> panels(pb * np + 64);
                uint8_t* p =
                    panels.data() + (64 - reinterpret_cast<uintptr_t>(panels.data()) % 64) % 64;
                for (int k = 0; k < np; ++k) {
                    rk->pack(w.data() + k * R * wrow, wrow, std::min(R, nrows - k * R), n,
                             p + k * pb);
                }
                for (int r = 0; r < nrows; ++r) {
                    std::vector<float> got(n);
                    rk->unpack_row(p + (r / R) * pb, r % R, n, got.data());
                    QVERIFY(got == dequantize(type, w.data() + r * wrow, n));
                }
                for (int nt : {1, 2, 3, 4, 5, 9}) {
                    const size_t ab = rk->act_bytes(n);
                    std::vector<uint8_t> act(ab * nt + 64), aref(arow * nt);
                    uint8_t* ap =
                        act.data() + (64 - reinterpret_cast<uintptr_t>(act.data()) % 64) % 64;
                    for (int t = 0; t < nt; ++t) {
                        const auto x = random_row(rng, n);
                        rk->quantize_act(x.data(), ap + t * ab, n);
                        quantize_row_ref(at, x.data(), aref.data() + t * arow, n);
                    }
                    const int ldy = np * R + 3;
                    std::vector<float> y(static_cast<size_t>(nt) * ldy, -1.0f);
                    rk->gemm(p, np, n, ap, ab, nt, y.data(), ldy);
                    for (int t = 0; t < nt; ++t) {
                        for (int r = 0; r < nrows; ++r) {
                            const void* wr = w.data() + r * wrow;
                            const void* ar = aref.data() + t * arow;
                            const float ref = vec_dot_ref(type, n, wr, ar);
                            const double tol = 4e-6 * abs_dot(type, wr, at, ar, n) + 1e-30;
                            QVERIFY2(
                                std::fabs(y[t * ldy + r] - ref) <= tol,
                                qPrintable(QString("n=%1 rows=%2 nt=%3 t=%4 r=%5 ref=%6 got=%7")
                                               .arg(n)
                                               .arg(nrows)
                                               .arg(nt)
                                               .arg(t)
                                               .arg(r)
                                               .arg(ref)
                                               .arg(y[t * ldy + r])));
                        }
                        for (int r = np * R; r < ldy; ++r) QCOMPARE(y[t * ldy + r], -1.0f);
                    }
                }
            }
        }
    }

    // Converted-panel GEMM (types kept in GGUF layout) against the exact products of the
    // dequantized weights with Q8_0-grid activations (f32 activations for float weights).
    void conv_gemm_data() { add_isa_rows("conv", kWeightTypes, std::size(kWeightTypes)); }
    void conv_gemm() {
        QFETCH(Isa, isa);
        QFETCH(DType, type);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::ConvGemmKernel* ck = kern::kernel_table(isa).conv[kern::type_index(type)];
        if (ck == nullptr) QSKIP("no converted-panel kernel for this type");
        std::mt19937 rng(77);
        const int R = ck->panel_rows;
        std::vector<int64_t> sizes;
        for (int64_t n : sizes_for(type)) {
            if (n > 2816) continue;
            sizes.push_back(n);
            if (!dtype_traits(type).quantized) sizes.push_back(n + 5);  // any row length
        }
        for (int64_t n : sizes) {
            const size_t wrow = dtype_row_size(type, n), pb = ck->panel_bytes(n);
            for (int nrows : {3 * R - 3, R, 1}) {
                const int np = (nrows + R - 1) / R;
                std::vector<uint8_t> w(wrow * nrows);
                std::vector<float> wf(static_cast<size_t>(nrows) * n);
                for (int r = 0; r < nrows; ++r) {
                    quantize_row_ref(type, random_row(rng, n).data(), w.data() + r * wrow, n);
                    dequantize_row(type, w.data() + r * wrow, &wf[r * n], n);
                }
                std::vector<uint8_t> panels(pb * np + 64);
                uint8_t* p =
                    panels.data() + (64 - reinterpret_cast<uintptr_t>(panels.data()) % 64) % 64;
                for (int k = 0; k < np; ++k) {
                    ck->convert(w.data() + k * R * wrow, wrow, std::min(R, nrows - k * R), n,
                                p + k * pb);
                }
                for (int nt : {1, 3, 4, 7}) {
                    const size_t ab = ck->act_bytes(n);
                    std::vector<uint8_t> act(ab * nt + 64);
                    uint8_t* ap =
                        act.data() + (64 - reinterpret_cast<uintptr_t>(act.data()) % 64) % 64;
                    std::vector<float> xd(static_cast<size_t>(nt) * n);
                    for (int t = 0; t < nt; ++t) {
                        const auto x = random_row(rng, n);
                        ck->quantize_act(x.data(), ap + t * ab, n);
                        if (dtype_traits(type).quantized) {
                            const auto q8 = quantize(DType::Q8_0, x);
                            dequantize_row(DType::Q8_0, q8.data(), &xd[t * n], n);
                        } else {
                            std::copy(x.begin(), x.end(), xd.begin() + t * n);  // f32 activations
                        }
                    }
                    const int ldy = np * R + 2;
                    std::vector<float> y(static_cast<size_t>(nt) * ldy, -1.0f);
                    ck->gemm(p, np, n, ap, ab, nt, y.data(), ldy);
                    for (int t = 0; t < nt; ++t) {
                        for (int r = 0; r < nrows; ++r) {
                            double ref = 0, mag = 0;
                            for (int64_t k = 0; k < n; ++k) {
                                const double v = static_cast<double>(wf[r * n + k]) * xd[t * n + k];
                                ref += v;
                                mag += std::fabs(v);
                            }
                            QVERIFY2(
                                std::fabs(y[t * ldy + r] - ref) <= 4e-6 * mag + 1e-30,
                                qPrintable(QString("n=%1 rows=%2 nt=%3 t=%4 r=%5 ref=%6 got=%7")
                                               .arg(n)
                                               .arg(nrows)
                                               .arg(nt)
                                               .arg(t)
                                               .arg(r)
                                               .arg(ref)
                                               .arg(y[t * ldy + r])));
                        }
                        for (int r = np * R; r < ldy; ++r) QCOMPARE(y[t * ldy + r], -1.0f);
                    }
                }
            }
        }
    }

    // Row ops of every level against the generic table (and double-precision math).
    void ops_data() { add_level_rows("ops"); }
    void ops() {
        QFETCH(Isa, isa);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::OpsTable& o = kern::kernel_table(isa).ops;
        std::mt19937 rng(21);
        std::normal_distribution<float> nd(0.0f, 3.0f);
        for (int64_t n : {1, 7, 8, 31, 64, 1000, 4099}) {
            std::vector<float> x(n), w(n), y(n), z(n);
            for (auto& v : x) v = nd(rng);
            for (auto& v : w) v = nd(rng);
            double ss = 0;
            for (float v : x) ss += static_cast<double>(v) * v;
            QVERIFY(std::fabs(o.sum_sq(x.data(), n) - ss) <= 1e-5 * ss);
            o.scale_mul(x.data(), 0.5f, w.data(), y.data(), n);
            for (int64_t i = 0; i < n; ++i) QCOMPARE(y[i], x[i] * 0.5f * w[i]);
            float mx = -INFINITY;
            for (float v : x) mx = std::max(mx, v);
            QCOMPARE(o.max(x.data(), n), mx);
            y = x;
            const float sum = o.exp_sub_sum(y.data(), mx, n);
            double ref_sum = 0;
            for (int64_t i = 0; i < n; ++i) {
                const double e = std::exp(static_cast<double>(x[i] - mx));
                ref_sum += e;
                QVERIFY2(std::fabs(y[i] - e) <= 4e-7 * e + 1e-38,
                         qPrintable(QString("%1 %2").arg(x[i]).arg((y[i] - e) / e)));
            }
            QVERIFY(std::fabs(sum - ref_sum) <= 1e-5 * ref_sum);
            o.silu_mul(x.data(), w.data(), y.data(), n);
            for (int64_t i = 0; i < n; ++i) {
                const double g = x[i], ref = g / (1.0 + std::exp(-g)) * w[i];
                QVERIFY(std::fabs(y[i] - ref) <= 1e-6 * std::fabs(ref) + 1e-30);
            }
            o.add(x.data(), w.data(), y.data(), n);
            for (int64_t i = 0; i < n; ++i) QCOMPARE(y[i], x[i] + w[i]);
        }
        // exp at the edges of the float range
        std::vector<float> e = {-200.0f, -87.0f, -20.0f, 0.0f, 20.0f, 80.0f};
        std::vector<float> e2 = e;
        o.exp_sub_sum(e2.data(), 0.0f, static_cast<int64_t>(e2.size()));
        for (size_t i = 0; i < e.size(); ++i) {
            const double ref = std::exp(static_cast<double>(e[i]));
            QVERIFY2(std::fabs(e2[i] - ref) <= 1e-6 * ref + 1e-37,
                     qPrintable(QString::number(e[i])));
        }
        for (int64_t m : {1, 3, 4, 16, 32, 64}) {
            std::vector<float> c(m), sn(m), a(2 * m), b;
            for (int64_t i = 0; i < m; ++i) {
                c[i] = std::cos(0.1f * i + 0.3f);
                sn[i] = std::sin(0.1f * i + 0.3f);
            }
            for (auto& v : a) v = nd(rng);
            b = a;
            o.rope_llama(b.data(), c.data(), sn.data(), m);
            for (int64_t i = 0; i < m; ++i) {
                QVERIFY(std::fabs(b[2 * i] - (a[2 * i] * c[i] - a[2 * i + 1] * sn[i])) <= 1e-5f);
                QVERIFY(std::fabs(b[2 * i + 1] - (a[2 * i] * sn[i] + a[2 * i + 1] * c[i])) <=
                        1e-5f);
            }
            b = a;
            o.rope_neox(b.data(), c.data(), sn.data(), m);
            for (int64_t i = 0; i < m; ++i) {
                QVERIFY(std::fabs(b[i] - (a[i] * c[i] - a[i + m] * sn[i])) <= 1e-5f);
                QVERIFY(std::fabs(b[i + m] - (a[i] * sn[i] + a[i + m] * c[i])) <= 1e-5f);
            }
        }
    }

    // Every fast level names the int8 multiply-add instructions of its Q8_0 GEMM and runs them
    // (`folio bench --matmul` times this as the GEMM's ceiling); the count it reports grows
    // with the rounds asked for, in whole vectors of products.
    void mac_peak_data() { add_level_rows("peak"); }
    void mac_peak() {
        QFETCH(Isa, isa);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::MacPeakProbe& probe = kern::kernel_table(isa).mac_peak;
        QVERIFY(probe.run != nullptr);
        QVERIFY(probe.sequence != nullptr && std::strlen(probe.sequence) > 0);
        const int64_t one = probe.run(1);
        QVERIFY(one > 0);
        QCOMPARE(one % 16, int64_t{0});  // a 256-bit int8/int16 multiply-add is 16 products or more
        QCOMPARE(probe.run(1000), 1000 * one);
        QCOMPARE(probe.run(0), int64_t{0});
    }

    // The flash-attention block step of every level (generic included) against double-precision
    // softmax attention: queries with different causal views, several calls of different key
    // counts, head sizes off the kernels' register tiles; and a query's result is bit for bit the
    // same wherever it sits among the call's queries.
    void attn_block_data() { add_level_rows("attn", /*with_generic=*/true); }
    void attn_block() {
        QFETCH(Isa, isa);
        SKIP_UNLESS_SUPPORTED(isa);
        const kern::OpsTable& o = kern::kernel_table(isa).ops;
        std::mt19937 rng(5);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        const std::vector<int64_t> calls = {16, 64, 7, 1, 63, 16};  // keys per call
        int64_t total = 0;
        for (int64_t c : calls) total += c;
        for (int64_t hd : {8, 40, 64, 128}) {
            for (int64_t nq : {1, 5, 16, 21, 64}) {
                const int64_t ldq = (nq + 7) / 8 * 8;
                std::vector<float> q(nq * hd), k(total * hd), v(total * hd);
                for (auto& x : q) x = nd(rng) * 0.5f / std::sqrt(static_cast<float>(hd)) * 4;
                for (auto& x : k) x = nd(rng);
                for (auto& x : v) x = nd(rng);
                std::vector<int64_t> ctx(nq);
                for (int64_t i = 0; i < nq; ++i) ctx[i] = 1 + (i * 37 + hd) % total;
                ctx[0] = total;
                // Runs every call with the queries in column order `col` (query i in column
                // col[i]); returns each query's output.
                auto run = [&](const std::vector<int64_t>& col) {
                    std::vector<float> qt(hd * ldq, 0.0f), ot(hd * ldq, 0.0f), m(ldq, -INFINITY),
                        l(ldq, 0.0f), sc((64 + 1) * ldq);
                    std::vector<int32_t> seen(ldq, 0);
                    for (int64_t i = 0; i < nq; ++i)
                        for (int64_t d = 0; d < hd; ++d) qt[d * ldq + col[i]] = q[i * hd + d];
                    int64_t base = 0;
                    for (int64_t kb : calls) {
                        for (int64_t i = 0; i < nq; ++i)
                            seen[col[i]] =
                                static_cast<int32_t>(std::clamp<int64_t>(ctx[i] - base, 0, kb));
                        o.attn_block(qt.data(), ldq, nq, hd, k.data() + base * hd,
                                     v.data() + base * hd, kb, seen.data(), m.data(), l.data(),
                                     ot.data(), sc.data());
                        base += kb;
                    }
                    std::vector<float> out(nq * hd);
                    for (int64_t i = 0; i < nq; ++i)
                        for (int64_t d = 0; d < hd; ++d)
                            out[i * hd + d] = ot[d * ldq + col[i]] / l[col[i]];
                    return out;
                };
                std::vector<int64_t> ident(nq), reversed(nq);
                for (int64_t i = 0; i < nq; ++i) ident[i] = i, reversed[i] = nq - 1 - i;
                const std::vector<float> got = run(ident), got_rev = run(reversed);
                for (int64_t i = 0; i < nq; ++i) {
                    std::vector<double> p(ctx[i]);
                    double mx = -1e300, sum = 0;
                    for (int64_t j = 0; j < ctx[i]; ++j) {
                        double dot = 0;
                        for (int64_t d = 0; d < hd; ++d)
                            dot += static_cast<double>(q[i * hd + d]) * k[j * hd + d];
                        mx = std::max(mx, p[j] = dot);
                    }
                    for (auto& x : p) sum += (x = std::exp(x - mx));
                    for (int64_t d = 0; d < hd; ++d) {
                        double want = 0;
                        for (int64_t j = 0; j < ctx[i]; ++j) want += p[j] / sum * v[j * hd + d];
                        const float g = got[i * hd + d];
                        QVERIFY2(std::fabs(g - want) <= 1e-4 + 1e-4 * std::fabs(want),
                                 qPrintable(QString("hd %1 nq %2 query %3 dim %4: got %5 want %6")
                                                .arg(hd)
                                                .arg(nq)
                                                .arg(i)
                                                .arg(d)
                                                .arg(g)
                                                .arg(want)));
                        QCOMPARE(got_rev[i * hd + d], g);
                    }
                }
            }
        }
    }

    // The engine-facing wrappers in cpu_ops.h.
    void cpu_ops() {
        std::vector<float> x = {1, 2, 3, 4}, w = {1, 1, 2, 2}, y(4);
        rms_norm(x.data(), w.data(), y.data(), 4, 0.0f);
        const float inv = 1.0f / std::sqrt(30.0f / 4);
        for (int i = 0; i < 4; ++i) QVERIFY(std::fabs(y[i] - x[i] * inv * w[i]) < 1e-6f);
        std::vector<float> s = {1, 2, 3, -INFINITY};
        softmax(s.data(), 4, 2.0f);
        const double z = std::exp(-4.0) + std::exp(-2.0) + 1.0;
        QVERIFY(std::fabs(s[2] - 1.0 / z) < 1e-6 && s[3] == 0.0f);
        std::vector<float> all_inf = {-INFINITY, -INFINITY};
        softmax(all_inf.data(), 2);
        QCOMPARE(all_inf[0], 0.0f);

        // rope: a head of 8 dims, 6 rotated, base 100, position 3.
        RopeParams p;
        p.n_dims = 6;
        p.freq_base = 100.0f;
        const float ff[3] = {1.0f, 2.0f, 4.0f};
        for (bool neox : {false, true}) {
            for (bool use_ff : {false, true}) {
                p.neox = neox;
                p.freq_factors = use_ff ? ff : nullptr;
                std::vector<float> h(16), r;
                for (int i = 0; i < 16; ++i) h[i] = static_cast<float>(i + 1);
                r = h;
                rope(r.data(), 2, 8, 3, p);
                for (int head = 0; head < 2; ++head) {
                    const float* in = &h[head * 8];
                    const float* out = &r[head * 8];
                    for (int i = 0; i < 3; ++i) {
                        const double theta =
                            3.0 * std::pow(100.0, -2.0 * i / 6) / (use_ff ? ff[i] : 1);
                        const int i0 = neox ? i : 2 * i, i1 = neox ? i + 3 : 2 * i + 1;
                        QVERIFY(std::fabs(out[i0] - (in[i0] * std::cos(theta) -
                                                     in[i1] * std::sin(theta))) < 1e-4);
                        QVERIFY(std::fabs(out[i1] - (in[i0] * std::sin(theta) +
                                                     in[i1] * std::cos(theta))) < 1e-4);
                    }
                    QCOMPARE(out[6], in[6]);
                    QCOMPARE(out[7], in[7]);
                }
            }
        }
        std::vector<fp16_t> hf(5);
        std::vector<float> back(5), src = {0.1f, -2.0f, 65504.0f, 1e-7f, 3.0f};
        f32_to_fp16_row(src.data(), hf.data(), 5);
        fp16_to_f32_row(hf.data(), back.data(), 5);
        for (int i = 0; i < 5; ++i) QCOMPARE(back[i], fp16_to_f32(f32_to_fp16(src[i])));
    }
};

QTEST_GUILESS_MAIN(TestKernelsX86)
#include "test_kernels_x86.moc"
