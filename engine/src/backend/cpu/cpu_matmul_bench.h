#pragma once
// Micro benchmarks of the CPU matmul (for `folio bench`): the int8 instruction ceiling,
// matrix-vector bandwidth, GEMM throughput, and whole-model matmul sweeps with the llama shapes of
// the benchmark models. Weights are synthetic (random quantized rows), so no model file is needed.
// Timings are the best of several repeats; on a shared machine compare ratios from one run.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/dtype.h"

namespace folio {

struct MatmulBenchOptions {
    DType type = DType::Q8_0;
    int threads = 0;            // 0: one per online core
    int64_t gemm_tokens = 512;  // n_tok of the GEMM measurements (0: skip GEMMs)
    double min_seconds = 0.3;   // time spent per measurement (best of the repeats inside)
    // rows x cols; empty: the bench-300m and bench-1b layer shapes.
    std::vector<std::pair<int64_t, int64_t>> shapes;
    // Whole-model sweeps: "bench-300m", "bench-1b" (bench-1b allocates ~1.1 GB of weights).
    std::vector<std::string> models = {"bench-300m"};
    bool onednn = true;  // also time oneDNN f32 / u8s8 GEMMs where oneDNN is built in
    // First, the rate of the Q8_0 GEMM's int8 multiply-add instructions alone on every thread
    // (kern::MacPeakProbe: the ceiling the GEMM figures below can approach), on x86.
    bool mac_peak = true;
};

struct MatmulBenchResult {
    std::string name;         // e.g. "matvec 1024x2816", "gemm 1024x2816 n=512"
    double seconds = 0;       // per call (per token for model sweeps)
    double gbytes_per_s = 0;  // weight bytes read per second (matvec, decode)
    double gops_per_s = 0;    // 2*rows*cols*n_tok per second
    double tokens_per_s = 0;  // model sweeps
};

// Runs the benchmarks; progress (optional) is called after each result.
std::vector<MatmulBenchResult> run_matmul_bench(
    const MatmulBenchOptions& opts,
    const std::function<void(const MatmulBenchResult&)>& progress = {});

// One line per result, aligned.
std::string format_matmul_bench_result(const MatmulBenchResult& r);

}  // namespace folio
