// folio run -m MODEL -p PROMPT [-n N] [--temp T] [--seed S] ...
// Streams the generated text (only) to stdout; prompt and generation speed go to stderr. Runs one
// request through folio::Engine (scheduler, paged KV cache, step loop).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "model/model.h"

namespace folio::cli {
namespace {

struct RunFlags {
    EngineFlags engine;
    std::string prompt;
    std::string prompt_file;
    int n_predict = -1;
    float temp = 0.8f;
    int top_k = 40;
    float top_p = 0.95f;
    float min_p = 0.05f;
    float repeat_penalty = 1.0f;
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    int repeat_last_n = 64;
    int64_t seed = -1;
    std::vector<std::string> stop;
    bool ignore_eos = false;
    bool no_special = false;
};

void run(const RunFlags& f) {
    std::string prompt = f.prompt;
    if (!f.prompt_file.empty()) {
        std::ifstream in(f.prompt_file, std::ios::binary);
        if (!in) throw CliError("cannot read prompt file: " + f.prompt_file);
        std::ostringstream ss;
        ss << in.rdbuf();
        prompt = ss.str();
    }
    SamplingParams p;
    p.temperature = f.temp;
    p.top_k = f.top_k;
    p.top_p = f.top_p;
    p.min_p = f.min_p;
    p.repetition_penalty = f.repeat_penalty;
    p.presence_penalty = f.presence_penalty;
    p.frequency_penalty = f.frequency_penalty;
    p.penalty_last_n = f.repeat_last_n;
    if (f.seed >= 0) p.seed = static_cast<uint64_t>(f.seed);
    if (f.n_predict > 0) p.max_tokens = f.n_predict;
    p.stop = f.stop;
    p.ignore_eos = f.ignore_eos;

    auto engine = create_engine(engine_config(f.engine));
    // Tokenized here, as before the engine existed: "" still means "start from BOS".
    RequestSpec spec;
    spec.prompt_tokens = engine->model().vocab().tokenize(prompt, true, !f.no_special);
    if (spec.prompt_tokens.empty()) throw CliError("the prompt is empty");
    spec.sampling = p;
    if (f.n_predict == 0) return;
    RequestHandle handle = engine->submit(std::move(spec));
    const auto num_prompt = static_cast<long long>(handle.prompt_token_ids().size());

    size_t num_tokens = 0;
    FinishReason finish = FinishReason::Length;
    RequestOutput last;
    while (auto out = handle.next()) {
        for (const CompletionOutput& c : out->outputs) {
            if (!c.text.empty()) {
                std::fwrite(c.text.data(), 1, c.text.size(), stdout);
                std::fflush(stdout);
            }
            num_tokens += c.token_ids.size();
            if (c.finish_reason) finish = *c.finish_reason;
        }
        if (out->finished) last = std::move(*out);
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!last.error.empty()) throw CliError(last.error);
    const double prompt_s = last.metrics.prefill_seconds();
    const double decode_s = last.metrics.decode_seconds();
    const double pp = prompt_s > 0 ? static_cast<double>(num_prompt) / prompt_s : 0;
    const double tg =
        decode_s > 0 && num_tokens > 1 ? static_cast<double>(num_tokens - 1) / decode_s : 0;
    std::fprintf(stderr,
                 "\nprompt: %lld tokens, %.1f tokens/s | generation: %zu tokens, %.1f tokens/s | "
                 "finish: %s\n",
                 num_prompt, pp, num_tokens, tg, finish_reason_name(finish));
}

}  // namespace

void add_run_command(CLI::App& app) {
    auto flags = std::make_shared<RunFlags>();
    auto* cmd = app.add_subcommand("run", "generate text from a prompt");
    add_engine_flags(cmd, flags->engine);
    auto* p = cmd->add_option("-p,--prompt", flags->prompt, "prompt text");
    auto* pf = cmd->add_option("-f,--file", flags->prompt_file, "read the prompt from a file");
    p->excludes(pf);
    cmd->add_option("-n,--n-predict", flags->n_predict,
                    "tokens to generate (-1: until end of text or context)")
        ->check(CLI::Range(-1, 1 << 24));
    cmd->add_option("--temp", flags->temp, "temperature (0: greedy)")
        ->check(CLI::Range(0.0f, 100.0f));
    cmd->add_option("--top-k", flags->top_k, "top-k (0: off)")->check(CLI::Range(0, 1 << 24));
    cmd->add_option("--top-p", flags->top_p, "top-p (1: off)")->check(CLI::Range(0.0f, 1.0f));
    cmd->add_option("--min-p", flags->min_p, "min-p (0: off)")->check(CLI::Range(0.0f, 1.0f));
    cmd->add_option("--repeat-penalty", flags->repeat_penalty, "repetition penalty (1: off)");
    cmd->add_option("--repeat-last-n", flags->repeat_last_n, "penalty window (-1: whole context)");
    cmd->add_option("--presence-penalty", flags->presence_penalty, "presence penalty");
    cmd->add_option("--frequency-penalty", flags->frequency_penalty, "frequency penalty");
    cmd->add_option("-s,--seed", flags->seed, "random seed (-1: random)");
    cmd->add_option("--stop", flags->stop, "stop string (repeatable)");
    cmd->add_flag("--ignore-eos", flags->ignore_eos, "keep generating after end of text");
    cmd->add_flag("--no-special", flags->no_special, "do not parse special tokens in the prompt");
    cmd->callback([flags, p, pf] {
        if (p->count() == 0 && pf->count() == 0) throw CliError("a prompt is required (-p or -f)");
        run(*flags);
    });
}

}  // namespace folio::cli
