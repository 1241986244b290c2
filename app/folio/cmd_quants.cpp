// folio quants REPO[@REV] [--ctx N] [--verbose] [--json]
// The quantizations a hub repo offers, their sizes and an estimate of the memory each needs at a
// context length against this machine's available memory (formula in folio/hub.h), with the
// best quality that fits marked. The model's shape comes from one GGUF header read by HTTP
// ranges (all quantizations of a repo share it). When a header cannot be read (a corrupt file, a
// network error) a one-line warning names the file and the next option's header is tried; the
// options whose header failed (all of them when none could be read) show "?" for the estimate
// and are never recommended.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "folio/hub.h"

namespace folio::cli {
namespace {

struct QuantsFlags {
    std::string repo;
    int64_t ctx = 0;  // 0: the model's context length, at most 4096
    bool verbose = false;
    bool json = false;
};

constexpr int64_t kDefaultCtxCap = 4096;

// 260K, 1.2M, 7.6B.
std::string format_count(int64_t n) {
    char buf[32];
    if (n >= 1'000'000'000) {
        std::snprintf(buf, sizeof buf, "%.1fB", static_cast<double>(n) / 1e9);
    } else if (n >= 1'000'000) {
        std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
    } else if (n >= 1000) {
        std::snprintf(buf, sizeof buf, "%.0fK", static_cast<double>(n) / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    }
    return buf;
}

nlohmann::json header_json(const hub::RemoteGgufInfo& h) {
    return {{"path", h.path},
            {"architecture", h.architecture},
            {"name", h.name},
            {"weight_type", h.weight_type},
            {"parameter_count", h.parameter_count},
            {"context_length", h.context_length},
            {"n_layer", h.n_layer},
            {"n_head", h.n_head},
            {"n_head_kv", h.n_head_kv},
            {"n_embd", h.n_embd},
            {"n_ff", h.n_ff},
            {"head_dim", h.head_dim},
            {"n_vocab", h.n_vocab}};
}

void run_quants(const QuantsFlags& f) {
    if (f.ctx < 0) throw CliError("quants: --ctx must be positive");
    const auto [repo, revision] = hub::split_repo_revision(f.repo);
    const hub::HubClient client(hub::HubConfig::from_env());
    const auto options = hub::group_quant_options(client.list_files(repo, revision));
    if (options.empty()) throw CliError("repo " + repo + " has no GGUF files");

    // The shape from the first complete option whose header reads.
    hub::ProbedHeaders probed = hub::probe_option_headers(client, repo, revision, options);
    const std::optional<hub::RemoteGgufInfo>& header = probed.header;
    const std::vector<bool>& failed = probed.failed;
    const std::vector<std::string>& warnings = probed.warnings;
    for (const std::string& w : warnings) std::fprintf(stderr, "folio: warning: %s\n", w.c_str());
    std::vector<bool> known(options.size(), false);
    for (size_t i = 0; i < options.size(); ++i) known[i] = header.has_value() && !failed[i];
    int64_t ctx = f.ctx;
    if (ctx == 0) {
        ctx = header && header->context_length > 0
                  ? std::min(header->context_length, kDefaultCtxCap)
                  : kDefaultCtxCap;
    }
    const int64_t available = hub::available_memory_bytes();
    std::vector<hub::MemoryEstimate> estimates;
    for (const auto& o : options) {
        estimates.push_back(header ? hub::estimate_memory(*header, o.total_size, ctx, available)
                                   : hub::MemoryEstimate{});
    }
    // Recommend only among the options with an estimate.
    std::vector<hub::QuantOption> known_options;
    std::vector<hub::MemoryEstimate> known_estimates;
    std::vector<int> known_index;
    for (size_t i = 0; i < options.size(); ++i) {
        if (!known[i]) continue;
        known_options.push_back(options[i]);
        known_estimates.push_back(estimates[i]);
        known_index.push_back(static_cast<int>(i));
    }
    const int known_rec = hub::recommend_option(known_options, known_estimates);
    const int rec = known_rec >= 0 ? known_index[static_cast<size_t>(known_rec)] : -1;

    if (f.json) {
        nlohmann::json opts = nlohmann::json::array();
        for (size_t i = 0; i < options.size(); ++i) {
            const auto& o = options[i];
            const auto& e = estimates[i];
            nlohmann::json files = nlohmann::json::array();
            for (const auto& file : o.files) {
                files.push_back(
                    {{"path", file.path}, {"size", file.size}, {"sha256", file.sha256}});
            }
            opts.push_back({{"quant", o.quant},
                            {"name", o.name},
                            {"bits_per_weight", o.bits_per_weight},
                            {"files", files},
                            {"size", o.total_size},
                            {"complete", o.complete},
                            {"memory", known[i] ? nlohmann::json{{"weights", e.weights_bytes},
                                                                 {"kv_cache", e.kv_cache_bytes},
                                                                 {"runtime", e.runtime_bytes},
                                                                 {"total", e.total_bytes}}
                                                : nlohmann::json()},
                            {"fit", known[i] ? std::string(hub::fit_name(e.fit)) : "unknown"},
                            {"recommended", static_cast<int>(i) == rec}});
        }
        const nlohmann::json out = {
            {"repo", repo},
            {"revision", revision},
            {"context_length", ctx},
            {"available_bytes", available},
            {"header", header ? header_json(*header) : nlohmann::json()},
            {"warnings", warnings},
            {"options", opts},
            {"recommended", rec >= 0 ? nlohmann::json(options[static_cast<size_t>(rec)].quant)
                                     : nlohmann::json()}};
        std::printf("%s\n", out.dump(2).c_str());
        return;
    }

    if (header) {
        std::printf(
            "%s@%s: %s, %s parameters, context %lld, %lld layers, %lld heads / %lld KV, %s\n",
            repo.c_str(), revision.c_str(),
            header->architecture.empty() ? "unknown architecture" : header->architecture.c_str(),
            format_count(header->parameter_count).c_str(),
            static_cast<long long>(header->context_length), static_cast<long long>(header->n_layer),
            static_cast<long long>(header->n_head), static_cast<long long>(header->n_head_kv),
            header->weight_type.c_str());
        std::printf("(header of %s, %s read)\n", header->path.c_str(),
                    format_bytes(header->header_bytes).c_str());
    } else {
        std::printf("%s@%s: model shape unknown (no GGUF header could be read)\n", repo.c_str(),
                    revision.c_str());
    }
    std::printf("memory estimate for a %lld-token context; available: %s\n\n",
                static_cast<long long>(ctx), format_bytes(available).c_str());
    size_t width = 5;
    for (const auto& o : options) width = std::max(width, o.quant.size());
    std::printf("  %-*s  %5s  %10s  %10s  %s\n", static_cast<int>(width), "QUANT", "FILES", "SIZE",
                "MEMORY", "FIT");
    for (size_t i = 0; i < options.size(); ++i) {
        const auto& o = options[i];
        std::string fit = known[i] ? std::string(hub::fit_name(estimates[i].fit)) : "?";
        if (!o.complete) fit += " (parts missing)";
        if (static_cast<int>(i) == rec) fit += "  <- recommended";
        std::printf("%s %-*s  %5zu  %10s  %10s  %s\n", static_cast<int>(i) == rec ? "*" : " ",
                    static_cast<int>(width), o.quant.c_str(), o.files.size(),
                    format_bytes(o.total_size).c_str(),
                    known[i] ? format_bytes(estimates[i].total_bytes).c_str() : "?", fit.c_str());
        if (f.verbose) {
            if (known[i]) std::printf("%s", estimates[i].explain().c_str());
            for (const auto& file : o.files) std::printf("    file %s\n", file.path.c_str());
        }
    }
    std::printf("\n");
    if (rec >= 0) {
        const auto& o = options[static_cast<size_t>(rec)];
        std::printf("recommended: %s (%s), the best quality that %s\n", o.quant.c_str(),
                    o.files.front().path.c_str(),
                    estimates[static_cast<size_t>(rec)].fit == hub::Fit::Fits
                        ? "fits"
                        : "fits (tight: little memory left)");
    } else if (known_options.empty()) {
        std::printf(
            "recommended: none; no quantization's memory can be estimated (no GGUF header could "
            "be read)\n");
    } else {
        std::printf(
            "recommended: none; no quantization fits in the available memory at this "
            "context (try a smaller --ctx)\n");
    }
}

}  // namespace

void add_quants_command(CLI::App& app) {
    auto flags = std::make_shared<QuantsFlags>();
    auto* cmd = app.add_subcommand(
        "quants", "List a hub repo's quantizations with sizes and whether they fit in memory");
    cmd->add_option("repo", flags->repo, "owner/name, optionally @revision")->required();
    cmd->add_option("--ctx", flags->ctx,
                    "context length for the memory estimate (default: the model's, at most 4096)");
    cmd->add_flag("--verbose", flags->verbose, "print the memory arithmetic");
    cmd->add_flag("--json", flags->json, "print JSON instead of a table");
    cmd->callback([flags] { run_quants(*flags); });
}

}  // namespace folio::cli
