// folio search QUERY [--limit N] [--json]
// GGUF repos on the hub (HF_ENDPOINT) matching QUERY, most downloaded first.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "folio/hub.h"

namespace folio::cli {
namespace {

struct SearchFlags {
    std::string query;
    int limit = 20;
    bool json = false;
};

void run_search(const SearchFlags& f) {
    if (f.limit < 1) throw CliError("search: --limit must be at least 1");
    const hub::HubClient client(hub::HubConfig::from_env());
    const auto hits = client.search(f.query, f.limit);
    if (f.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : hits) {
            out.push_back({{"id", r.id},
                           {"downloads", r.downloads},
                           {"likes", r.likes},
                           {"last_modified", r.last_modified}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return;
    }
    if (hits.empty()) {
        std::printf("no GGUF repos match '%s'\n", f.query.c_str());
        return;
    }
    size_t width = 4;
    for (const auto& r : hits) width = std::max(width, r.id.size());
    std::printf("%-*s  %12s  %7s  %s\n", static_cast<int>(width), "REPO", "DOWNLOADS", "LIKES",
                "UPDATED");
    for (const auto& r : hits) {
        const std::string day = r.last_modified.substr(0, 10);  // YYYY-MM-DD
        std::printf("%-*s  %12lld  %7lld  %s\n", static_cast<int>(width), r.id.c_str(),
                    static_cast<long long>(r.downloads), static_cast<long long>(r.likes),
                    day.empty() ? "-" : day.c_str());
    }
}

}  // namespace

void add_search_command(CLI::App& app) {
    auto flags = std::make_shared<SearchFlags>();
    auto* cmd = app.add_subcommand("search", "Search the model hub for GGUF repos");
    cmd->add_option("query", flags->query, "words to look for in repo names")->required();
    cmd->add_option("--limit", flags->limit, "at most this many repos (default 20)");
    cmd->add_flag("--json", flags->json, "print JSON instead of a table");
    cmd->callback([flags] { run_search(*flags); });
}

}  // namespace folio::cli
