// CpuWeight + matmul against a naive reference, for every weight type, several token counts,
// odd row counts, 1 and 2 threads, and every instruction-set level this CPU has.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "backend/cpu/cpu_matmul.h"
#include "backend/cpu/cpu_matmul_bench.h"
#include "kernels/cpu/kernels.h"
#include "tensor/quants.h"

using namespace folio;

Q_DECLARE_METATYPE(folio::DType)
Q_DECLARE_METATYPE(folio::CpuIsa)

namespace {

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,   DType::Q4_1,
                        DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::IQ4_NL, DType::Q2_K,
                        DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K};
const CpuIsa kIsas[] = {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvxVnni, CpuIsa::kAvx512,
                        CpuIsa::kAvx512Vnni};

struct Case {
    std::vector<uint8_t> w;  // rows x row_bytes
    std::vector<float> x;    // n_tok x ldx
    int64_t rows, cols, ldx;
};

Case make_case(DType type, int64_t rows, int64_t cols, int64_t n_tok, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    Case c{{}, {}, rows, cols, cols + 5};
    const size_t rb = dtype_row_size(type, cols);
    c.w.resize(rb * rows);
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
        const float scale = 0.02f * (1 + r % 7);
        for (auto& v : row) v = nd(rng) * scale;
        quantize_row_ref(type, row.data(), c.w.data() + r * rb, cols);
    }
    c.x.resize(n_tok * c.ldx);
    for (auto& v : c.x) v = nd(rng);
    return c;
}

// Reference 1: the weight's own dot product with reference-quantized activations (what the
// fast path computes up to summation order). Reference 2: dequantized weights times the f32
// activations in double (checks the activation quantization error stays small).
void check(DType type, CpuIsa isa, int64_t rows, int64_t cols, int64_t n_tok, int threads,
           bool repack) {
    const Case c = make_case(type, rows, cols, n_tok, static_cast<uint32_t>(rows * 31 + n_tok));
    CpuWeightOptions opts;
    opts.isa = isa;
    opts.allow_repack = repack;
    auto w = CpuWeight::create(type, rows, cols, c.w.data(), opts);
    QCOMPARE(w->rows(), rows);
    QCOMPARE(w->cols(), cols);
    ThreadPool pool(threads);
    const int64_t ldy = rows + 3;
    std::vector<float> y(n_tok * ldy, -5.0f);
    folio::matmul(*w, c.x.data(), c.ldx, n_tok, y.data(), ldy, pool);

    const DType at = vec_dot_type(type);
    const size_t rb = dtype_row_size(type, cols), ab = dtype_row_size(at, cols);
    std::vector<uint8_t> aq(ab), q8(dtype_row_size(DType::Q8_0, cols));
    std::vector<float> x8(cols);
    std::vector<float> wf(rows * cols);
    for (int64_t r = 0; r < rows; ++r)
        dequantize_row(type, c.w.data() + r * rb, &wf[r * cols], cols);
    for (int64_t t = 0; t < n_tok; ++t) {
        const float* x = &c.x[t * c.ldx];
        quantize_row_ref(at, x, aq.data(), cols);
        quantize_row_ref(DType::Q8_0, x, q8.data(), cols);
        dequantize_row(DType::Q8_0, q8.data(), x8.data(), cols);
        for (int64_t r = 0; r < rows; ++r) {
            double exact = 0, mag = 0;
            for (int64_t k = 0; k < cols; ++k) {
                exact += static_cast<double>(wf[r * cols + k]) * x[k];
                mag += std::fabs(static_cast<double>(wf[r * cols + k]) * x[k]);
            }
            const float ref = vec_dot_ref(type, cols, c.w.data() + r * rb, aq.data());
            double ref32 = 0;  // with Q8_0-grid activations (the converted-panel GEMM's format)
            for (int64_t k = 0; k < cols; ++k)
                ref32 += static_cast<double>(wf[r * cols + k]) * x8[k];
            const float got = y[t * ldy + r];
            const auto where =
                QString("%1 %2 rows=%3 cols=%4 n_tok=%5 thr=%6 t=%7 r=%8 got=%9 ref=%10")
                    .arg(dtype_name(type).data())
                    .arg(cpu_isa_name(isa))
                    .arg(rows)
                    .arg(cols)
                    .arg(n_tok)
                    .arg(threads)
                    .arg(t)
                    .arg(r)
                    .arg(got)
                    .arg(ref);
            // One of: the reference activation format, Q8_0-grid activations (converted-panel
            // GEMM of quantized weights), f32 activations (GEMM of float weights).
            QVERIFY2(std::fabs(got - ref) <= 1e-5 * mag + 1e-6 ||
                         std::fabs(got - ref32) <= 1e-5 * mag + 1e-6 ||
                         (!dtype_traits(type).quantized && std::fabs(got - exact) <= 1e-5 * mag),
                     qPrintable(where));
            QVERIFY2(std::fabs(got - exact) <= 0.03 * mag + 1e-4, qPrintable(where));
        }
        for (int64_t r = rows; r < ldy; ++r) QCOMPARE(y[t * ldy + r], -5.0f);
    }
}

}  // namespace

class TestCpuMatmul : public QObject {
    Q_OBJECT

  private slots:
    void matmul_data() {
        QTest::addColumn<CpuIsa>("isa");
        QTest::addColumn<DType>("type");
        for (CpuIsa isa : kIsas) {
            for (DType t : kTypes) {
                QTest::addRow("%s/%s", cpu_isa_name(isa), dtype_name(t).data()) << isa << t;
            }
        }
    }
    void matmul() {
        QFETCH(CpuIsa, isa);
        QFETCH(DType, type);
        if (!cpu_isa_supported(isa)) QSKIP("instruction set not present");
        const int64_t bs = dtype_traits(type).block_size;
        const int64_t cols = bs == QK_K ? 512 : 160;
        for (int64_t n_tok : {1, 2, 3, 4, 5, 7, 8, 17, 64}) {  // every tile remainder
            for (int threads : {1, 2}) {
                const int64_t rows = n_tok == 64 ? 19 : (threads == 1 ? 37 : 45);
                check(type, isa, rows, cols, n_tok, threads, true);
                if (QTest::currentTestFailed()) return;
            }
        }
        check(type, isa, 8, cols, 4, 2, false);  // the unrepacked path
        check(type, isa, 130, bs == QK_K ? 256 : 1024, 1, 2, true);
        check(type, isa, 36, 2048, 1, 2, true);  // decode over long panels (read in pairs)
    }

    // Repacked weights carved from one arena: aligned, zeroed, disjoint, and computing exactly
    // what a weight with its own allocation computes.
    void weight_arena() {
        WeightArena arena;
        std::vector<std::pair<uint8_t*, size_t>> blocks;
        size_t asked = 0;
        for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{3} << 20, size_t{77}}) {
            auto* p = static_cast<uint8_t*>(arena.allocate(bytes));
            QCOMPARE(reinterpret_cast<uintptr_t>(p) % 64, uintptr_t{0});
            for (size_t i = 0; i < bytes; ++i) QCOMPARE(p[i], uint8_t{0});
            std::memset(p, static_cast<int>(blocks.size() + 1), bytes);
            blocks.emplace_back(p, bytes);
            asked += bytes;
        }
        // Larger than one mapping: gets a mapping of its own.
        auto* big = static_cast<uint8_t*>(arena.allocate(size_t{600} << 20));
        big[0] = 1;
        big[(size_t{600} << 20) - 1] = 2;
        for (size_t b = 0; b < blocks.size(); ++b) {
            for (size_t i = 0; i < blocks[b].second; ++i) QCOMPARE(blocks[b].first[i], b + 1);
        }
        QVERIFY(arena.bytes_used() >= asked + (size_t{600} << 20));

        const Case c = make_case(DType::Q8_0, 45, 2048, 3, 9);
        auto own = CpuWeight::create(DType::Q8_0, 45, 2048, c.w.data());
        auto shared = CpuWeight::create(DType::Q8_0, 45, 2048, c.w.data(),
                                        CpuWeightOptions{CpuIsa::kAuto, true, &arena});
        QVERIFY(shared->repacked());
        ThreadPool pool(2);
        for (int64_t n_tok : {1, 3}) {
            std::vector<float> y1(n_tok * 45), y2(n_tok * 45);
            folio::matmul(*own, c.x.data(), c.ldx, n_tok, y1.data(), 45, pool);
            folio::matmul(*shared, c.x.data(), c.ldx, n_tok, y2.data(), 45, pool);
            QVERIFY(y1 == y2);
        }
    }

    // The pool's job protocol: run() reaches every thread exactly once, parallel_for and
    // parallel_for_shares cover every index exactly once in chunks of at most the grain, also
    // with workers that oversleep (more threads than cores).
    void thread_pool_stress() {
        for (int threads : {2, 3, 5}) {
            ThreadPool pool(threads);
            std::vector<std::atomic<int>> hits(1000);
            for (int iter = 0; iter < 3000; ++iter) {
                if (iter % 3 == 0) {
                    std::vector<std::atomic<int>> calls(threads);
                    pool.run([&](int t, int n) {
                        QCOMPARE(n, threads);
                        calls[t].fetch_add(1);
                    });
                    for (auto& c : calls) QCOMPARE(c.load(), 1);
                } else {
                    const int64_t n = 1 + iter % 997;
                    for (int64_t i = 0; i < n; ++i) hits[i].store(0);
                    const auto body = [&](int64_t b, int64_t e, int t) {
                        QVERIFY(t >= 0 && t < threads);
                        QVERIFY(b < e && e - b <= 1 + iter % 7);
                        if (iter % 101 == 0 || (iter % 103 == 0 && t == 1))
                            std::this_thread::sleep_for(std::chrono::microseconds(200));
                        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
                    };
                    // Shared queue, or own shares with stealing (a sleepy thread 1 loses work).
                    if (iter % 2 == 0) {
                        pool.parallel_for(n, 1 + iter % 7, body);
                    } else {
                        pool.parallel_for_shares(n, 1 + iter % 7, body);
                    }
                    for (int64_t i = 0; i < n; ++i) QCOMPARE(hits[i].load(), 1);
                }
                if (iter % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));
            }
        }
    }

    void get_row() {
        std::mt19937 rng(3);
        for (CpuIsa isa : kIsas) {
            if (!cpu_isa_supported(isa)) continue;
            for (DType type : kTypes) {
                const int64_t cols = dtype_traits(type).block_size == QK_K ? 256 : 64;
                const Case c = make_case(type, 13, cols, 1, 17);
                CpuWeightOptions opts;
                opts.isa = isa;
                auto w = CpuWeight::create(type, 13, cols, c.w.data(), opts);
                std::vector<float> got(cols), ref(cols);
                for (int64_t r = 0; r < 13; ++r) {
                    w->get_row(r, got.data());
                    dequantize_row(type, c.w.data() + r * dtype_row_size(type, cols), ref.data(),
                                   cols);
                    QVERIFY2(got == ref, dtype_name(type).data());
                }
            }
        }
    }

    void rejects_bad_shapes() {
        std::vector<uint8_t> buf(4096);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 CpuWeight::create(DType::Q8_0, 4, 48, buf.data()));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 CpuWeight::create(DType::Q8_K, 4, 256, buf.data()));
    }

    void empty_and_single_thread_entry() {
        const Case c = make_case(DType::Q8_0, 16, 64, 3, 1);
        auto w = CpuWeight::create(DType::Q8_0, 16, 64, c.w.data());
        std::vector<float> y1(3 * 16), y2(3 * 16);
        ThreadPool pool(2);
        folio::matmul(*w, c.x.data(), c.ldx, 3, y1.data(), 16, pool);
        matmul_st(*w, c.x.data(), c.ldx, 3, y2.data(), 16);
        QVERIFY(y1 == y2);
        folio::matmul(*w, c.x.data(), c.ldx, 0, y1.data(), 16, pool);  // no tokens: no-op
    }

    // `folio bench --matmul`: one result per measurement, in order, with plausible figures.
    void matmul_bench_reports_every_measurement() {
        folio::MatmulBenchOptions opts;
        opts.threads = 2;
        opts.gemm_tokens = 8;
        opts.min_seconds = 0.01;
        opts.shapes = {{64, 256}};
        opts.models = {};
        opts.onednn = false;
        int progress = 0;
        auto results =
            folio::run_matmul_bench(opts, [&](const folio::MatmulBenchResult&) { ++progress; });
        // On x86 the int8 instruction peak comes first, then the matvec and the gemm.
        const kern::KernelTable& kt = kern::kernel_table();
        if (kt.mac_peak.run != nullptr) {
            QCOMPARE(results.size(), size_t{3});
            QCOMPARE(results[0].name, std::string("int8 peak ") + kern::isa_name(kt.isa) + " " +
                                          kt.mac_peak.sequence + ", registers only");
            QVERIFY(results[0].gops_per_s > 0);
            results.erase(results.begin());
            --progress;
        }
        QCOMPARE(results.size(), size_t{2});  // the matvec and the gemm of the one shape
        QCOMPARE(progress, 2);
        QVERIFY(results[0].name.find("matvec 64x256") != std::string::npos);
        QVERIFY(results[1].name.find("gemm 64x256 n=8") != std::string::npos);
        for (const auto& r : results) {
            QVERIFY(r.seconds > 0);
            QVERIFY(r.gops_per_s > 0);
            QVERIFY(!folio::format_matmul_bench_result(r).empty());
        }
        QVERIFY(results[0].gbytes_per_s > 0);
    }
};

QTEST_GUILESS_MAIN(TestCpuMatmul)
#include "test_cpu_matmul.moc"
