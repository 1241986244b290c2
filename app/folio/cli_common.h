#pragma once
// Options shared by the commands that load a model and run the engine.
#include <memory>
#include <string>

#include "commands.h"
#include "runtime/generator.h"

namespace folio::cli {

struct EngineFlags {
    std::string model;
    int threads = 0;
    int64_t ctx = 0;
    std::string kv_type = "f16";
};

// Adds -m/--model, -t/--threads, -c/--ctx-size, --kv-type to `cmd`.
void add_engine_flags(CLI::App* cmd, EngineFlags& flags);
// Loads the model named by flags.model (clear error when missing or invalid).
std::shared_ptr<const Model> load_model(const EngineFlags& flags);
GeneratorOptions generator_options(const EngineFlags& flags);

}  // namespace folio::cli
