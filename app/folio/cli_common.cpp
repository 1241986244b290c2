#include "cli_common.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace folio::cli {

void add_engine_flags(CLI::App* cmd, EngineFlags& flags) {
    cmd->add_option("-m,--model", flags.model, "GGUF model file")->required();
    cmd->add_option("-t,--threads", flags.threads, "CPU threads (default: all cores)")
        ->check(CLI::Range(0, 1024));
    cmd->add_option("-c,--ctx-size", flags.ctx,
                    "longest sequence in tokens (default: the model's, capped by the KV cache)")
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
    cmd->add_option("--kv-type", flags.kv_type, "KV cache type: f16, f32 or q8_0")
        ->check(CLI::IsMember({"f16", "f32", "q8_0"}));
    cmd->add_option("--kv-cache-memory", flags.kv_cache_memory,
                    "KV cache budget in bytes, e.g. 512M or 2G (default: what fits in available "
                    "memory)")
        ->check(CLI::Validator(
            [](std::string& s) {
                return parse_bytes(s) ? std::string() : "expected bytes like 512M or 2G: " + s;
            },
            "BYTES"));
    cmd->add_flag("--no-prefix-caching", flags.no_prefix_caching,
                  "do not share KV blocks between requests with a common prefix");
    cmd->add_option("--max-num-seqs", flags.max_num_seqs,
                    "most sequences computed at once (default: 64)")
        ->check(CLI::Range(1, 1 << 16));
    cmd->add_option("--max-num-batched-tokens", flags.max_num_batched_tokens,
                    "most tokens computed per engine step (default: 512)")
        ->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--long-prefill-threshold", flags.long_prefill_threshold,
                    "most prompt tokens one request computes per step (default: 0, no cap)")
        ->check(CLI::Range(0, 1 << 20));
}

std::optional<int64_t> parse_bytes(const std::string& text) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
        ++i;
    if (i == 0) return std::nullopt;
    double value = 0;
    try {
        size_t used = 0;
        value = std::stod(text.substr(0, i), &used);
        if (used != i) return std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    std::string unit = text.substr(i);
    for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
    if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
    double mult = 1;
    if (unit.empty() || unit == "B")
        mult = 1;
    else if (unit == "K")
        mult = 1024.0;
    else if (unit == "M")
        mult = 1024.0 * 1024;
    else if (unit == "G")
        mult = 1024.0 * 1024 * 1024;
    else if (unit == "T")
        mult = 1024.0 * 1024 * 1024 * 1024;
    else
        return std::nullopt;
    const double bytes = std::floor(value * mult);
    if (!(bytes >= 1 && bytes < 9.0e18)) return std::nullopt;
    return static_cast<int64_t>(bytes);
}

EngineConfig engine_config(const EngineFlags& flags) {
    EngineConfig c;
    c.model_path = flags.model;
    c.num_threads = flags.threads;
    c.max_model_len = flags.ctx;
    c.kv_cache_type = flags.kv_type == "f32"    ? KvCacheType::F32
                      : flags.kv_type == "q8_0" ? KvCacheType::Q8_0
                                                : KvCacheType::F16;
    if (!flags.kv_cache_memory.empty())
        c.kv_cache_memory = parse_bytes(flags.kv_cache_memory).value_or(0);
    c.enable_prefix_caching = !flags.no_prefix_caching;
    if (flags.max_num_seqs > 0) c.max_num_seqs = flags.max_num_seqs;
    if (flags.max_num_batched_tokens > 0) c.max_num_batched_tokens = flags.max_num_batched_tokens;
    c.long_prefill_token_threshold = flags.long_prefill_threshold;
    return c;
}

std::unique_ptr<Engine> create_engine(const EngineConfig& config) {
    if (!std::filesystem::exists(config.model_path))
        throw CliError("model file not found: " + config.model_path);
    return Engine::create(config);
}

std::string format_bytes(int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof(buf), "%lld B", static_cast<long long>(bytes));
    else
        std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace folio::cli
