// folio bench -m MODEL -p 512 -n 128 -t THREADS [--json]
// Prefill (pp) and decode (tg) speed like llama-bench: pp feeds p tokens at once into an empty
// context; tg decodes n tokens one by one after a single start token. Each test is repeated
// and averaged after a warm-up run.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_common.h"

namespace folio::cli {
namespace {

struct BenchFlags {
    EngineFlags engine;
    int n_prompt = 512;
    int n_gen = 128;
    int reps = 3;
    bool json = false;
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

void bench(const BenchFlags& f) {
    auto model = load_model(f.engine);
    auto opts = generator_options(f.engine);
    if (opts.n_ctx == 0) opts.n_ctx = std::max<int64_t>(f.n_prompt, f.n_gen + 1) + 16;
    if (opts.n_ctx < f.n_prompt || opts.n_ctx <= f.n_gen + 1)
        throw CliError("the context (-c) is too small for -p/-n");
    opts.max_batch_tokens = std::max(512, f.n_prompt);
    Generator gen(model, opts);
    const int32_t n_vocab = static_cast<int32_t>(model->hparams().n_vocab);

    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
    Figures fig;
    if (f.n_prompt > 0) {
        std::vector<int32_t> prompt(static_cast<size_t>(f.n_prompt));
        for (auto& t : prompt) t = dist(rng);
        gen.prefill(prompt);  // warm-up
        std::vector<double> rates;
        for (int r = 0; r < f.reps; ++r) rates.push_back(f.n_prompt / gen.prefill(prompt));
        mean_std(rates, fig.pp_tok_s, fig.pp_stddev);
    }
    if (f.n_gen > 0) {
        SamplingParams p;
        p.temperature = 0;
        p.ignore_eos = true;
        p.max_tokens = f.n_gen + 1;  // n_gen forward passes after the first sampled token
        const int32_t start = model->vocab().bos() >= 0 ? model->vocab().bos() : 0;
        std::vector<int32_t> prompt{start};
        SamplingParams warm = p;
        warm.max_tokens = 8;
        gen.generate(prompt, warm);
        std::vector<double> rates;
        for (int r = 0; r < f.reps; ++r) {
            auto res = gen.generate(prompt, p);
            rates.push_back(static_cast<double>(res.tokens.size() - 1) / res.decode_seconds);
        }
        mean_std(rates, fig.tg_tok_s, fig.tg_stddev);
    }
    if (f.json) {
        nlohmann::json j{{"pp_tok_s", fig.pp_tok_s}, {"tg_tok_s", fig.tg_tok_s}};
        std::printf("%s\n", j.dump().c_str());
        return;
    }
    const auto& hp = model->hparams();
    std::printf("model: %s (%s, %.1f MiB, %.1f M params)\nbackend: %s\n",
                f.engine.model.c_str(), hp.arch.c_str(), model->weight_bytes() / 1048576.0,
                [&] {
                    double n = 0;
                    for (const auto& t : model->file().tensors()) n += static_cast<double>(t.num_elements());
                    return n / 1e6;
                }(),
                gen.backend().name().c_str());
    std::printf("| test   |            t/s |\n|--------|----------------|\n");
    if (f.n_prompt > 0) std::printf("| pp%-4d | %7.2f ± %5.2f |\n", f.n_prompt, fig.pp_tok_s, fig.pp_stddev);
    if (f.n_gen > 0) std::printf("| tg%-4d | %7.2f ± %5.2f |\n", f.n_gen, fig.tg_tok_s, fig.tg_stddev);
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto flags = std::make_shared<BenchFlags>();
    auto* cmd = app.add_subcommand("bench", "measure prefill and decode speed");
    add_engine_flags(cmd, flags->engine);
    cmd->add_option("-p,--n-prompt", flags->n_prompt, "prompt tokens for the prefill test")
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_option("-n,--n-gen", flags->n_gen, "tokens for the decode test")
        ->check(CLI::Range(0, 1 << 20));
    cmd->add_option("-r,--repetitions", flags->reps, "repetitions per test")->check(CLI::Range(1, 1000));
    cmd->add_flag("--json", flags->json, "print {\"pp_tok_s\": ..., \"tg_tok_s\": ...} only");
    cmd->callback([flags] { bench(*flags); });
}

}  // namespace folio::cli
