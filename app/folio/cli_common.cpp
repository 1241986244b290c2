#include "cli_common.h"

#include <filesystem>

namespace folio::cli {

void add_engine_flags(CLI::App* cmd, EngineFlags& flags) {
    cmd->add_option("-m,--model", flags.model, "GGUF model file")->required();
    cmd->add_option("-t,--threads", flags.threads, "CPU threads (default: all cores)")
        ->check(CLI::Range(0, 1024));
    cmd->add_option("-c,--ctx-size", flags.ctx, "context window in tokens (default: the model's, "
                                                 "at most 4096)")
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
    cmd->add_option("--kv-type", flags.kv_type, "KV cache type: f16, f32 or q8_0")
        ->check(CLI::IsMember({"f16", "f32", "q8_0"}));
}

std::shared_ptr<const Model> load_model(const EngineFlags& flags) {
    if (!std::filesystem::exists(flags.model))
        throw CliError("model file not found: " + flags.model);
    return Model::load(flags.model);
}

GeneratorOptions generator_options(const EngineFlags& flags) {
    GeneratorOptions o;
    o.num_threads = flags.threads;
    o.n_ctx = flags.ctx;
    o.kv_dtype = flags.kv_type == "f32" ? DType::F32 : flags.kv_type == "q8_0" ? DType::Q8_0
                                                                                : DType::F16;
    return o;
}

}  // namespace folio::cli
