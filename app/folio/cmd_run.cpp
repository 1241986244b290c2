// folio run -m MODEL -p PROMPT [-n N] [--temp T] [--seed S] ...
// Streams the generated text (only) to stdout; prompt and generation speed go to stderr.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_common.h"

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
    auto model = load_model(f.engine);
    Generator gen(model, generator_options(f.engine));
    auto tokens = model->vocab().tokenize(prompt, true, !f.no_special);
    if (tokens.empty()) throw CliError("the prompt is empty");

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
    if (f.n_predict >= 0) p.max_tokens = f.n_predict;
    p.stop = f.stop;
    p.ignore_eos = f.ignore_eos;
    if (f.n_predict == 0) return;

    auto result = gen.generate(tokens, p, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    const double pp = result.prompt_seconds > 0 ? result.num_prompt_tokens / result.prompt_seconds : 0;
    const double tg = result.decode_seconds > 0 && result.tokens.size() > 1
                          ? (result.tokens.size() - 1) / result.decode_seconds
                          : 0;
    std::fprintf(stderr,
                 "\nprompt: %lld tokens, %.1f tokens/s | generation: %zu tokens, %.1f tokens/s | "
                 "finish: %s\n",
                 static_cast<long long>(result.num_prompt_tokens), pp, result.tokens.size(), tg,
                 finish_reason_name(result.finish_reason));
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
    cmd->add_option("--temp", flags->temp, "temperature (0: greedy)")->check(CLI::Range(0.0f, 100.0f));
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
