#include "backend/cpu/cpu_matmul_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

#include "backend/cpu/cpu_matmul.h"
#include "backend/cpu/thread_pool.h"
#include "kernels/cpu/kernels.h"
#include "tensor/quants.h"

#ifdef FOLIO_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace folio {
namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Best time per call of fn over about min_seconds (a warm-up call, then at least min_calls).
template <typename Fn>
double best_time(double min_seconds, const Fn& fn, int min_calls = 3) {
    fn();
    double best = 1e30, total = 0;
    for (int i = 0; i < min_calls || total < min_seconds; ++i) {
        const double t0 = now();
        fn();
        const double dt = now() - t0;
        best = std::min(best, dt);
        total += dt;
        if (i > 1000) break;
    }
    return best;
}

// rows x cols GGUF bytes of `type`: a few random rows repeated (contents do not affect speed).
std::vector<uint8_t> synthetic_weight(DType type, int64_t rows, int64_t cols, std::mt19937& rng) {
    const size_t rb = dtype_row_size(type, cols);
    std::vector<uint8_t> w(rb * rows);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::vector<float> row(cols);
    const int64_t distinct = std::min<int64_t>(rows, 16);
    for (int64_t r = 0; r < distinct; ++r) {
        for (auto& v : row) v = nd(rng);
        quantize_row_ref(type, row.data(), w.data() + r * rb, cols);
    }
    for (int64_t r = distinct; r < rows; ++r) {
        std::memcpy(w.data() + r * rb, w.data() + (r % distinct) * rb, rb);
    }
    return w;
}

struct Matrix {
    std::vector<uint8_t> bytes;  // kept alive for weights that are not repacked
    std::unique_ptr<CpuWeight> w;
};

// Repacked copies go into `arena`, as a loaded model's do.
Matrix make_matrix(WeightArena& arena, DType type, int64_t rows, int64_t cols, std::mt19937& rng) {
    Matrix m;
    m.bytes = synthetic_weight(type, rows, cols, rng);
    m.w = CpuWeight::create(type, rows, cols, m.bytes.data(),
                            CpuWeightOptions{CpuIsa::kAuto, true, &arena});
    if (m.w->repacked()) std::vector<uint8_t>().swap(m.bytes);
    return m;
}

struct ModelShape {
    const char* name;
    int64_t dim, ffn, kv, layers, vocab;
};

constexpr ModelShape kModels[] = {{"bench-300m", 1024, 2816, 256, 24, 32000},
                                  {"bench-1b", 2048, 8192, 512, 16, 32000}};

#ifdef FOLIO_HAVE_DNNL
// oneDNN matmul with weights reordered once into its preferred layout.
double onednn_gemm(dnnl::memory::data_type act_type, dnnl::memory::data_type w_type, int64_t m,
                   int64_t k, int64_t n, double min_seconds) {
    using namespace dnnl;
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    memory::desc a_md({m, k}, act_type, memory::format_tag::ab);
    memory::desc w_any({k, n}, w_type, memory::format_tag::any);
    memory::desc w_plain({k, n}, w_type, memory::format_tag::ba);
    memory::desc y_md({m, n}, memory::data_type::f32, memory::format_tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_any, y_md), eng);
    memory a(a_md, eng), wp(w_plain, eng), w(pd.weights_desc(), eng), y(y_md, eng);
    std::memset(a.get_data_handle(), 1, a_md.get_size());
    std::memset(wp.get_data_handle(), 1, w_plain.get_size());
    reorder(wp, w).execute(s, wp, w);
    dnnl::matmul mm(pd);
    return best_time(min_seconds, [&] {
        mm.execute(s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}});
        s.wait();
    });
}
#endif

}  // namespace

std::vector<MatmulBenchResult> run_matmul_bench(
    const MatmulBenchOptions& opts, const std::function<void(const MatmulBenchResult&)>& progress) {
    std::vector<MatmulBenchResult> out;
    auto emit = [&](MatmulBenchResult r) {
        if (progress) progress(r);
        out.push_back(std::move(r));
    };
    ThreadPool pool(opts.threads);
    std::mt19937 rng(42);
    const std::string tname(dtype_name(opts.type));

    // The ceiling first: the GEMM's own multiply-add instructions on registers, every thread.
    const kern::KernelTable& kt = kern::kernel_table();
    if (opts.mac_peak && kt.mac_peak.run != nullptr) {
        constexpr int64_t kRounds = int64_t{1} << 20;  // a few ms per call
        const double ops =
            2.0 * static_cast<double>(kt.mac_peak.run(1)) * kRounds * pool.num_threads();
        const double t = best_time(opts.min_seconds,
                                   [&] { pool.run([&](int, int) { kt.mac_peak.run(kRounds); }); });
        emit({std::string("int8 peak ") + kern::isa_name(kt.isa) + " " + kt.mac_peak.sequence +
                  ", registers only",
              t, 0, ops / t / 1e9, 0});
    }

    std::vector<std::pair<int64_t, int64_t>> shapes = opts.shapes;
    if (shapes.empty()) {
        for (const ModelShape& m : kModels) {
            for (auto s : {std::pair{m.dim, m.dim}, std::pair{m.ffn, m.dim},
                           std::pair{m.dim, m.ffn}, std::pair{m.vocab, m.dim}}) {
                if (std::find(shapes.begin(), shapes.end(), s) == shapes.end()) shapes.push_back(s);
            }
        }
    }

    for (auto [rows, cols] : shapes) {
        // Enough copies that one sweep over them does not fit in the last-level cache.
        WeightArena arena;
        Matrix first = make_matrix(arena, opts.type, rows, cols, rng);
        const size_t bytes = first.w->bytes();
        const int copies = static_cast<int>(std::clamp<size_t>((256u << 20) / bytes, 1, 64));
        std::vector<Matrix> mats;
        mats.push_back(std::move(first));
        for (int i = 1; i < copies; ++i)
            mats.push_back(make_matrix(arena, opts.type, rows, cols, rng));
        const int64_t nt = std::max<int64_t>(1, opts.gemm_tokens);
        std::vector<float> x(cols * nt, 0.5f), y(rows * nt);
        const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);

        const double t = best_time(opts.min_seconds,
                                   [&] {
                                       for (auto& m : mats)
                                           matmul(*m.w, x.data(), cols, 1, y.data(), rows, pool);
                                   }) /
                         copies;
        emit({tname + " matvec " + shape, t, bytes / t / 1e9, 2.0 * rows * cols / t / 1e9, 0});

        if (opts.gemm_tokens > 0) {
            const double tg = best_time(opts.min_seconds, [&] {
                matmul(*mats[0].w, x.data(), cols, nt, y.data(), rows, pool);
            });
            emit({tname + " gemm " + shape + " n=" + std::to_string(nt), tg, 0,
                  2.0 * rows * cols * nt / tg / 1e9, 0});
#ifdef FOLIO_HAVE_DNNL
            if (opts.onednn) {
                using dt = dnnl::memory::data_type;
                const double tf = onednn_gemm(dt::f32, dt::f32, nt, cols, rows, opts.min_seconds);
                emit({"onednn f32 gemm " + shape + " n=" + std::to_string(nt), tf, 0,
                      2.0 * rows * cols * nt / tf / 1e9, 0});
                const double ti = onednn_gemm(dt::u8, dt::s8, nt, cols, rows, opts.min_seconds);
                emit({"onednn u8s8 gemm " + shape + " n=" + std::to_string(nt), ti, 0,
                      2.0 * rows * cols * nt / ti / 1e9, 0});
            }
#endif
        }
    }

    for (const std::string& name : opts.models) {
        const ModelShape* ms = nullptr;
        for (const ModelShape& m : kModels) {
            if (name == m.name) ms = &m;
        }
        if (ms == nullptr) continue;
        WeightArena arena;
        std::vector<Matrix> layers;
        for (int64_t l = 0; l < ms->layers; ++l) {
            for (auto [r, c] : {std::pair{ms->dim, ms->dim}, std::pair{ms->kv, ms->dim},
                                std::pair{ms->kv, ms->dim}, std::pair{ms->dim, ms->dim},
                                std::pair{ms->ffn, ms->dim}, std::pair{ms->ffn, ms->dim},
                                std::pair{ms->dim, ms->ffn}}) {
                layers.push_back(make_matrix(arena, opts.type, r, c, rng));
            }
        }
        Matrix output = make_matrix(arena, opts.type, ms->vocab, ms->dim, rng);
        size_t bytes = output.w->bytes();
        double layer_ops = 0;
        for (auto& m : layers) {
            bytes += m.w->bytes();
            layer_ops += 2.0 * m.w->rows() * m.w->cols();
        }
        const int64_t nt = std::max<int64_t>(1, opts.gemm_tokens);
        std::vector<float> x(ms->ffn * nt, 0.5f), y(ms->vocab * nt);
        const double td = best_time(opts.min_seconds, [&] {
            for (auto& m : layers)
                matmul(*m.w, x.data(), m.w->cols(), 1, y.data(), m.w->rows(), pool);
            matmul(*output.w, x.data(), ms->dim, 1, y.data(), ms->vocab, pool);
        });
        emit({tname + " " + name + " decode matmuls", td, bytes / td / 1e9,
              (layer_ops + 2.0 * ms->vocab * ms->dim) / td / 1e9, 1.0 / td});
        if (opts.gemm_tokens > 1) {
            const double tp = best_time(
                0,
                [&] {
                    for (auto& m : layers) {
                        matmul(*m.w, x.data(), m.w->cols(), nt, y.data(), m.w->rows(), pool);
                    }
                    matmul(*output.w, x.data(), ms->dim, 1, y.data(), ms->vocab, pool);
                },
                2);
            emit({tname + " " + name + " prefill matmuls n=" + std::to_string(nt), tp, 0,
                  (layer_ops * nt + 2.0 * ms->vocab * ms->dim) / tp / 1e9, nt / tp});
        }
    }
    return out;
}

std::string format_matmul_bench_result(const MatmulBenchResult& r) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, "%-44s %10.3f ms", r.name.c_str(), r.seconds * 1e3);
    if (r.gbytes_per_s > 0)
        n += std::snprintf(buf + n, sizeof buf - n, "  %7.1f GB/s", r.gbytes_per_s);
    if (r.gops_per_s > 0)
        n += std::snprintf(buf + n, sizeof buf - n, "  %7.1f GOP/s", r.gops_per_s);
    if (r.tokens_per_s > 0) std::snprintf(buf + n, sizeof buf - n, "  %8.1f tok/s", r.tokens_per_s);
    return buf;
}

}  // namespace folio
