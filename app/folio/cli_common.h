#pragma once
// Options shared by the commands that load a model and run the engine.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "folio/engine.h"

namespace folio::cli {

struct EngineFlags {
    std::string model;
    int threads = 0;
    int64_t ctx = 0;
    std::string kv_type = "f16";
    std::string kv_cache_memory;  // bytes, or with a K/M/G/T suffix; empty: automatic
    bool no_prefix_caching = false;
    int max_num_seqs = 0;            // 0: the engine's default
    int max_num_batched_tokens = 0;  // 0: the engine's default
    int long_prefill_threshold = 0;  // 0: no per-request cap
};

// Adds -m/--model, -t/--threads, -c/--ctx-size, --kv-type, --kv-cache-memory,
// --no-prefix-caching, --max-num-seqs, --max-num-batched-tokens to `cmd`.
void add_engine_flags(CLI::App* cmd, EngineFlags& flags);
// "512M", "2G", "1.5GiB", "1048576" → bytes (binary multiples); std::nullopt when malformed.
std::optional<int64_t> parse_bytes(const std::string& text);
// The engine configuration the flags describe (model_path checked: CliError when missing).
EngineConfig engine_config(const EngineFlags& flags);
// Creates the engine (clear one-line errors for a missing or invalid model).
std::unique_ptr<Engine> create_engine(const EngineConfig& config);
// "1.5 GiB", "768.0 MiB", "12.0 KiB", "512 B".
std::string format_bytes(int64_t bytes);

}  // namespace folio::cli
