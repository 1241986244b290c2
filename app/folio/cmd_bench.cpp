// folio bench -m MODEL -p 512 -n 128 -t THREADS [--json]
//   Prefill (pp) and decode (tg) speed like llama-bench: pp feeds p tokens at once into an empty
//   context; tg decodes n tokens one by one after a single start token. Each test is repeated
//   and averaged after a warm-up run.
// folio bench -m MODEL --parallel 1,8,32 -p 128 -n 64 [--json]
//   Like llama-batched-bench: for each P, P concurrent requests, each with its own p random
//   prompt tokens (no shared prefix) and n decode steps after the token sampled from the prompt.
//   Aggregate pp tok/s = P*p / (time until every request has its first token); aggregate tg
//   tok/s = P*n / (time from then until the last request finishes).
// Everything runs through folio::Engine (scheduler, paged KV cache, continuous batching).
// folio bench --matmul [--matmul-type TYPE] [-t THREADS]
//   The CPU matmul alone on synthetic weights of TYPE (default q8_0; any weight type the CPU
//   kernels support: f16, q4_K, iq4_nl, ...) (backend/cpu/cpu_matmul_bench.h).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_matmul_bench.h"
#include "cli_common.h"
#include "kernels/cpu/kernels.h"
#include "model/model.h"

namespace folio::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchFlags {
    EngineFlags engine;
    int n_prompt = 512;
    int n_gen = 128;
    int reps = 3;
    std::vector<int> parallel;
    int shared_prefix = 0;  // --parallel only: tokens every prompt starts with
    bool json = false;
    bool matmul = false;  // the CPU matmul micro benchmarks instead (no model needed)
    std::string matmul_type = "q8_0";
};

struct Figures {
    double pp_tok_s = 0, tg_tok_s = 0, pp_stddev = 0, tg_stddev = 0;
};

void mean_std(const std::vector<double>& v, double& mean, double& sd) {
    mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    sd = 0;
    for (double x : v) sd += (x - mean) * (x - mean);
    sd = v.size() > 1 ? std::sqrt(sd / static_cast<double>(v.size() - 1)) : 0;
}

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

std::vector<int32_t> random_tokens(std::mt19937& rng, int32_t n_vocab, int n) {
    std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = dist(rng);
    return t;
}

SamplingParams bench_params(int max_tokens) {
    SamplingParams p;
    p.temperature = 0;
    p.ignore_eos = true;
    p.max_tokens = max_tokens;
    return p;
}

RequestOutput run_one(Engine& engine, std::vector<int32_t> prompt, int max_tokens) {
    RequestSpec spec;
    spec.prompt_tokens = std::move(prompt);
    spec.sampling = bench_params(max_tokens);
    RequestOutput out = engine.submit(std::move(spec)).collect();
    if (!out.error.empty()) throw CliError(out.error);
    return out;
}

void print_header(const BenchFlags& f, const Engine& engine) {
    const Model& model = engine.model();
    const auto& hp = model.hparams();
    double params = 0;
    for (const auto& t : model.file().tensors()) params += static_cast<double>(t.num_elements());
    std::printf("model: %s (%s, %.1f MiB, %.1f M params)\nbackend: %s\n", f.engine.model.c_str(),
                hp.arch.c_str(), static_cast<double>(model.weight_bytes()) / 1048576.0,
                params / 1e6, engine.info().backend.c_str());
}

void bench_single(const BenchFlags& f, EngineConfig config) {
    if (f.engine.max_num_batched_tokens == 0)
        config.max_num_batched_tokens = std::max(config.max_num_batched_tokens, f.n_prompt);
    auto engine = create_engine(config);
    const int64_t len = engine->info().max_model_len;
    if (len <= f.n_prompt || len <= f.n_gen + 2)
        throw CliError("the context (-c / KV cache) is too small for -p/-n");
    const auto n_vocab = static_cast<int32_t>(engine->info().n_vocab);

    std::mt19937 rng(42);
    Figures fig;
    if (f.n_prompt > 0) {
        // A fresh random prompt each time, so the prefix cache never helps.
        run_one(*engine, random_tokens(rng, n_vocab, f.n_prompt), 1);  // warm-up
        std::vector<double> rates;
        for (int r = 0; r < f.reps; ++r) {
            RequestOutput out = run_one(*engine, random_tokens(rng, n_vocab, f.n_prompt), 1);
            rates.push_back(f.n_prompt / std::max(out.metrics.prefill_seconds(), 1e-9));
        }
        mean_std(rates, fig.pp_tok_s, fig.pp_stddev);
    }
    if (f.n_gen > 0) {
        const int32_t bos = engine->model().vocab().bos();
        const std::vector<int32_t> prompt{bos >= 0 ? bos : 0};
        run_one(*engine, prompt, 8);  // warm-up
        std::vector<double> rates;
        for (int r = 0; r < f.reps; ++r) {
            // n_gen forward passes after the first sampled token.
            RequestOutput out = run_one(*engine, prompt, f.n_gen + 1);
            const auto n = static_cast<double>(out.outputs.at(0).token_ids.size() - 1);
            rates.push_back(n / std::max(out.metrics.decode_seconds(), 1e-9));
        }
        mean_std(rates, fig.tg_tok_s, fig.tg_stddev);
    }
    if (f.json) {
        nlohmann::json j{{"pp_tok_s", fig.pp_tok_s}, {"tg_tok_s", fig.tg_tok_s}};
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    print_header(f, *engine);
    std::printf("| test   |            t/s |\n|--------|----------------|\n");
    if (f.n_prompt > 0)
        std::printf("| pp%-4d | %7.2f ± %5.2f |\n", f.n_prompt, fig.pp_tok_s, fig.pp_stddev);
    if (f.n_gen > 0) {
        std::printf("| tg%-4d | %7.2f ± %5.2f |\n", f.n_gen, fig.tg_tok_s, fig.tg_stddev);
        // Decode reads every weight once per token: compare with the machine's read bandwidth.
        const double bytes = static_cast<double>(engine->model().weight_bytes());
        std::printf("decode streams the weights at %.1f GB/s (%.1f MiB per token)\n",
                    bytes * fig.tg_tok_s / 1e9, bytes / 1048576.0);
    }
}

struct ParallelFigures {
    int parallel = 0;
    double pp_tok_s = 0, tg_tok_s = 0, pp_seconds = 0, tg_seconds = 0;
    int64_t preemptions = 0;
    int64_t prompt_tokens = 0;           // submitted prompt tokens, shared prefix included
    int64_t prompt_tokens_computed = 0;  // the rest came from the prefix cache
    double prefix_hit_rate = 0;          // hits / lookups in this run
};

// Paged blocks vs llama.cpp's fixed slots for the same KV budget.
void print_memory(const BenchFlags& f, const Engine& engine) {
    const EngineInfo& info = engine.info();
    // KV positions per request: the prompt, then n decode steps (the last sampled token is
    // never fed back).
    const int64_t seq = f.shared_prefix + f.n_prompt + f.n_gen;
    const int64_t blocks_per_seq = (seq + info.block_size - 1) / info.block_size;
    const int64_t fit_paged = info.num_kv_blocks / blocks_per_seq;
    const int64_t bytes_per_token = info.bytes_per_block / info.block_size;
    const int64_t n_ctx = info.kv_cache_bytes / bytes_per_token;
    std::printf(
        "KV cache: %s, budget %s = %lld blocks of %lld tokens x %s (%lld tokens); "
        "max_model_len %lld, max_num_seqs %d, max_num_batched_tokens %d, prefix caching %s\n",
        kv_cache_type_name(info.kv_cache_type), format_bytes(info.kv_cache_bytes).c_str(),
        static_cast<long long>(info.num_kv_blocks), static_cast<long long>(info.block_size),
        format_bytes(info.bytes_per_block).c_str(),
        static_cast<long long>(info.num_kv_blocks * info.block_size),
        static_cast<long long>(info.max_model_len), info.max_num_seqs, info.max_num_batched_tokens,
        info.enable_prefix_caching ? "on" : "off");
    std::printf(
        "requests of %lld tokens (shared prefix + p + n): %lld blocks each -> %lld fit at once "
        "(paged blocks; the scheduler runs at most %d)\n",
        static_cast<long long>(seq), static_cast<long long>(blocks_per_seq),
        static_cast<long long>(fit_paged), info.max_num_seqs);
    std::printf(
        "llama.cpp, same budget: n_ctx %lld split evenly into fixed slots -> %lld slots "
        "when each slot must hold max_model_len %lld, %lld when sized to exactly %lld\n",
        static_cast<long long>(n_ctx), static_cast<long long>(n_ctx / info.max_model_len),
        static_cast<long long>(info.max_model_len), static_cast<long long>(n_ctx / seq),
        static_cast<long long>(seq));
}

// P concurrent requests; with shared_prefix > 0 every prompt starts with the same
// shared_prefix random tokens, followed by its own n_prompt tokens.
ParallelFigures run_parallel(Engine& engine, int P, int n_prompt, int n_gen, int shared_prefix,
                             std::mt19937& rng) {
    const auto n_vocab = static_cast<int32_t>(engine.info().n_vocab);
    const std::vector<int32_t> prefix = random_tokens(rng, n_vocab, shared_prefix);
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < P; ++i) {
        prompts.push_back(prefix);
        auto own = random_tokens(rng, n_vocab, n_prompt);
        prompts.back().insert(prompts.back().end(), own.begin(), own.end());
    }
    const EngineStats before = engine.stats();
    const int64_t preempt0 = before.num_preemptions;
    std::vector<RequestHandle> handles;
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < P; ++i) {
        RequestSpec spec;
        spec.prompt_tokens = std::move(prompts[static_cast<size_t>(i)]);
        spec.sampling = bench_params(n_gen + 1);
        handles.push_back(engine.submit(std::move(spec)));
    }
    Clock::time_point first_done = t0, last_done = t0;
    for (RequestHandle& h : handles) {
        RequestOutput out = h.collect();
        if (!out.error.empty()) throw CliError(out.error);
        first_done = std::max(first_done, out.metrics.first_token_time);
        last_done = std::max(last_done, out.metrics.last_token_time);
    }
    ParallelFigures fig;
    fig.parallel = P;
    fig.pp_seconds = seconds(first_done - t0);
    fig.tg_seconds = seconds(last_done - first_done);
    const int64_t per_request = shared_prefix + n_prompt;
    fig.pp_tok_s = fig.pp_seconds > 0 ? static_cast<double>(P) * per_request / fig.pp_seconds : 0;
    fig.tg_tok_s = fig.tg_seconds > 0 ? static_cast<double>(P) * n_gen / fig.tg_seconds : 0;
    const EngineStats after = engine.stats();
    fig.preemptions = after.num_preemptions - preempt0;
    fig.prompt_tokens = static_cast<int64_t>(P) * per_request;
    fig.prompt_tokens_computed = after.prompt_tokens_total - before.prompt_tokens_total;
    const int64_t queries = after.prefix_cache_queries - before.prefix_cache_queries;
    fig.prefix_hit_rate =
        queries > 0
            ? static_cast<double>(after.prefix_cache_hits - before.prefix_cache_hits) / queries
            : 0.0;
    return fig;
}

void bench_parallel(const BenchFlags& f, EngineConfig config) {
    if (f.n_prompt < 1 || f.n_gen < 1) throw CliError("--parallel needs -p >= 1 and -n >= 1");
    const int max_p = *std::max_element(f.parallel.begin(), f.parallel.end());
    if (f.engine.max_num_seqs == 0) config.max_num_seqs = std::max(config.max_num_seqs, max_p);
    auto engine = create_engine(config);
    if (engine->info().max_model_len < f.shared_prefix + f.n_prompt + f.n_gen + 2)
        throw CliError("the context (-c / KV cache) is too small for -p/-n");

    std::mt19937 rng(42);
    run_parallel(*engine, 1, f.n_prompt, 4, 0, rng);  // warm-up
    std::vector<ParallelFigures> figs;
    for (int P : f.parallel)
        figs.push_back(run_parallel(*engine, P, f.n_prompt, f.n_gen, f.shared_prefix, rng));

    if (f.json) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& x : figs)
            j.push_back({{"parallel", x.parallel},
                         {"pp_tok_s", x.pp_tok_s},
                         {"tg_tok_s", x.tg_tok_s},
                         {"prompt_tokens", x.prompt_tokens},
                         {"prompt_tokens_computed", x.prompt_tokens_computed},
                         {"prefix_cache_hit_rate", x.prefix_hit_rate}});
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    print_header(f, *engine);
    print_memory(f, *engine);
    std::printf(
        "|   P |   pp |   tg | pp time s |  pp t/s | tg time s |  tg t/s | preempted |\n"
        "|-----|------|------|-----------|---------|-----------|---------|-----------|\n");
    for (const auto& x : figs)
        std::printf("| %3d | %4d | %4d | %9.2f | %7.2f | %9.2f | %7.2f | %9lld |\n", x.parallel,
                    f.n_prompt, f.n_gen, x.pp_seconds, x.pp_tok_s, x.tg_seconds, x.tg_tok_s,
                    static_cast<long long>(x.preemptions));
    for (const auto& x : figs)
        if (f.shared_prefix > 0)
            std::printf(
                "P=%d sharing a %d-token prefix: %lld of %lld prompt tokens computed, "
                "prefix-cache hit rate %.1f%%\n",
                x.parallel, f.shared_prefix, static_cast<long long>(x.prompt_tokens_computed),
                static_cast<long long>(x.prompt_tokens), 100.0 * x.prefix_hit_rate);
}

// The weight type named `name` (as `folio info` prints it, any case) that the CPU kernels
// compute with.
DType matmul_weight_type(const std::string& name) {
    auto lower = [](std::string_view v) {
        std::string out(v);
        for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    };
    std::string known;
    for (uint32_t raw = 0; raw < 64; ++raw) {
        if (!dtype_is_known(raw)) continue;
        const auto type = static_cast<DType>(raw);
        const int ti = kern::type_index(type);
        if (ti >= kern::kNumTypes || kern::kernel_table().vec_dot[ti] == nullptr) continue;
        if (lower(dtype_name(type)) == lower(name)) return type;
        known += (known.empty() ? "" : ", ") + std::string(dtype_name(type));
    }
    throw CliError("bench: --matmul-type " + name +
                   " is not a weight type the CPU computes with (" + known + ")");
}

// `folio bench --matmul`: the int8 instruction peak, matrix-vector bandwidth, GEMM throughput
// and whole-model matmul sweeps of the benchmark models' shapes on synthetic weights of
// --matmul-type.
void bench_matmul(const BenchFlags& f) {
    MatmulBenchOptions opts;
    opts.threads = f.engine.threads;
    opts.type = matmul_weight_type(f.matmul_type);
    std::printf("CPU matmul, %s weights, %s kernels, %d threads (0: all cores)\n",
                std::string(dtype_name(opts.type)).c_str(), kern::isa_name(kern::best_isa()),
                f.engine.threads);
    run_matmul_bench(opts, [](const MatmulBenchResult& r) {
        std::printf("%s\n", format_matmul_bench_result(r).c_str());
        std::fflush(stdout);
    });
}

void bench(const BenchFlags& f) {
    if (f.matmul) return bench_matmul(f);
    if (f.engine.model.empty()) throw CliError("bench: -m MODEL is required (or --matmul)");
    EngineConfig config = engine_config(f.engine);
    if (f.parallel.empty()) {
        bench_single(f, config);
    } else {
        bench_parallel(f, config);
    }
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto flags = std::make_shared<BenchFlags>();
    auto* cmd = app.add_subcommand("bench", "measure prefill and decode speed");
    add_engine_flags(cmd, flags->engine);
    cmd->get_option("--model")->required(false);  // not with --matmul; checked in bench()
    cmd->add_option("-p,--n-prompt", flags->n_prompt, "prompt tokens for the prefill test")
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_option("-n,--n-gen", flags->n_gen, "tokens for the decode test")
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_option("-r,--repetitions", flags->reps, "repetitions per test")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--parallel", flags->parallel,
                    "concurrent sequences, e.g. 1,8,32 (llama-batched-bench style)")
        ->delimiter(',')
        ->check(CLI::Range(1, 1 << 16));
    cmd->add_option("--shared-prefix", flags->shared_prefix,
                    "with --parallel: every prompt starts with the same N tokens (prefix caching)")
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_flag("--json", flags->json,
                  "print {\"pp_tok_s\": ..., \"tg_tok_s\": ...} only (with --parallel: a list of "
                  "{\"parallel\": P, \"pp_tok_s\": ..., \"tg_tok_s\": ...})");
    cmd->add_flag("--matmul", flags->matmul,
                  "CPU matmul micro benchmarks (int8 instruction peak, matrix-vector GB/s, GEMM "
                  "GOP/s, model sweeps) on synthetic weights; no model needed");
    cmd->add_option("--matmul-type", flags->matmul_type,
                    "weight type for --matmul: q8_0 (default), f16, q4_0, q4_K, q6_K, iq4_nl, ...");
    cmd->callback([flags] { bench(*flags); });
}

}  // namespace folio::cli
