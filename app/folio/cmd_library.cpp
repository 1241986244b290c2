// `folio pull REPO[:QUANT|:FILE][@REV]`, `folio list [--json]`, `folio rm ID|PATH`: the model
// library in $FOLIO_DATA_DIR (else $XDG_DATA_HOME/folio, else ~/.local/share/folio).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_common.h"
#include "commands.h"
#include "folio/hub.h"
#include "folio/store.h"

namespace folio::cli {
namespace {

using store::Library;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_sigint(int) {
    g_interrupted = 1;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::unique_ptr<Library> open_library() {
    auto lib = std::make_unique<Library>(Library::default_data_dir());
    for (const auto& r : lib->last_reconcile().removed) {
        std::fprintf(stderr, "folio: removed from the library (file gone or incomplete): %s\n",
                     r.c_str());
    }
    return lib;
}

struct PullTarget {
    std::string repo, revision = "main", selector;
};

// "owner/name:Q4_K_M@rev" → {owner/name, rev, Q4_K_M}.
PullTarget parse_target(const std::string& spec) {
    PullTarget t;
    std::string rest = spec;
    if (const size_t at = rest.rfind('@'); at != std::string::npos) {
        t.revision = rest.substr(at + 1);
        rest.resize(at);
        if (t.revision.empty()) t.revision = "main";
    }
    if (const size_t colon = rest.find(':'); colon != std::string::npos) {
        t.selector = rest.substr(colon + 1);
        rest.resize(colon);
    }
    t.repo = rest;
    if (std::count(t.repo.begin(), t.repo.end(), '/') != 1 || t.repo.front() == '/' ||
        t.repo.back() == '/') {
        throw CliError("expected REPO[:QUANT|:FILE][@REV] with REPO as owner/name, got \"" + spec +
                       "\"");
    }
    return t;
}

std::string list_choices(const std::vector<hub::QuantOption>& options) {
    std::string s;
    for (const auto& o : options) {
        s += "\n  " + o.quant + "  " + o.files.front().path + "  " + format_bytes(o.total_size);
        if (o.files.size() > 1) s += " (" + std::to_string(o.files.size()) + " parts)";
        if (!o.complete) s += " (incomplete)";
    }
    return s;
}

// The files to fetch for `t`, from the hub's file list.
std::vector<hub::RepoFile> choose_files(const hub::HubClient& client, const PullTarget& t) {
    const auto files = client.list_files(t.repo, t.revision);
    const auto options = hub::group_quant_options(files);
    const std::string& sel = t.selector;
    if (!sel.empty()) {
        for (const auto& f : files) {
            if (f.path == sel) return {f};
        }
        const bool looks_like_file =
            sel.find('/') != std::string::npos || upper(sel).ends_with(".GGUF");
        if (!looks_like_file) {
            for (const auto& o : options) {
                if (upper(o.quant) != upper(sel)) continue;
                if (!o.complete) {
                    throw CliError(t.repo + ": " + o.quant + " is missing parts on the hub");
                }
                return o.files;
            }
        }
        throw CliError(t.repo + " has no " + (looks_like_file ? "file " : "quantization ") + sel +
                       "; choose one of:" + list_choices(options));
    }
    if (options.empty()) throw CliError(t.repo + " has no GGUF files");
    if (options.size() == 1 && options[0].complete) return options[0].files;
    // Recommend the best quantization that fits in memory. The shape (layers, heads, context)
    // is the repo's, read once from the first readable header; options whose header failed are
    // not candidates.
    try {
        const int64_t avail = hub::available_memory_bytes();
        const hub::ProbedHeaders probed =
            hub::probe_option_headers(client, t.repo, t.revision, options);
        for (const std::string& w : probed.warnings)
            std::fprintf(stderr, "folio: warning: %s\n", w.c_str());
        if (probed.header && avail > 0) {
            const hub::RemoteGgufInfo& shape = *probed.header;
            const int64_t ctx =
                shape.context_length > 0 ? std::min<int64_t>(shape.context_length, 4096) : 4096;
            std::vector<hub::QuantOption> known;
            std::vector<hub::MemoryEstimate> est;
            for (size_t i = 0; i < options.size(); ++i) {
                if (probed.failed[i]) continue;
                known.push_back(options[i]);
                est.push_back(hub::estimate_memory(shape, options[i].total_size, ctx, avail));
            }
            const int best = hub::recommend_option(known, est);
            if (best >= 0) {
                const hub::QuantOption& o = known[static_cast<size_t>(best)];
                std::fprintf(stderr,
                             "folio: choosing %s (the best quantization that fits in memory)\n",
                             o.quant.c_str());
                return o.files;
            }
        }
    } catch (const std::exception&) {
        // fall through: let the user choose
    }
    throw CliError(t.repo + " has several quantizations; pull one as " + t.repo +
                   ":QUANT:" + list_choices(options));
}

// Progress: a \r-updated bar on a terminal, else a line every 10% or 5 s.
class ProgressPrinter {
  public:
    ProgressPrinter() : m_tty(::isatty(STDERR_FILENO) == 1) {}
    void update(const store::DownloadProgress& p) {
        if (p.waiting) {
            finish();
            std::fprintf(stderr, "folio: waiting for another folio pulling %s/%s\n", p.repo.c_str(),
                         p.file.c_str());
            std::fflush(stderr);
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        const double frac = p.total > 0 ? static_cast<double>(p.bytes_done) / p.total : 0;
        if (m_tty) {
            if (now - m_last < std::chrono::milliseconds(100) && p.bytes_done != p.total) return;
            const int width = 30;
            const int fill = static_cast<int>(frac * width);
            std::string bar(static_cast<size_t>(fill), '#');
            bar.resize(width, '-');
            std::fprintf(stderr, "\r%s [%s] %5.1f%% %s/%s %s/s %s   ", p.file.c_str(), bar.c_str(),
                         frac * 100, format_bytes(p.bytes_done).c_str(),
                         format_bytes(p.total).c_str(),
                         format_bytes(static_cast<int64_t>(p.rate)).c_str(), eta(p).c_str());
            m_dirty = true;
        } else {
            const int decile = static_cast<int>(frac * 10);
            if (decile <= m_last_decile && now - m_last < std::chrono::seconds(5)) return;
            m_last_decile = std::max(m_last_decile, decile);
            std::fprintf(stderr, "%s: %.0f%% (%s of %s)%s\n", p.file.c_str(), frac * 100,
                         format_bytes(p.bytes_done).c_str(), format_bytes(p.total).c_str(),
                         p.resumed && !m_said_resume ? ", resumed" : "");
            if (p.resumed) m_said_resume = true;
        }
        m_last = now;
        std::fflush(stderr);
    }
    void finish() {
        if (m_dirty) std::fputc('\n', stderr);
        m_dirty = false;
    }

  private:
    static std::string eta(const store::DownloadProgress& p) {
        if (p.eta_s < 0) return "";
        char buf[32];
        std::snprintf(buf, sizeof(buf), "ETA %ds", static_cast<int>(p.eta_s + 0.5));
        return buf;
    }
    bool m_tty;
    bool m_dirty = false;
    bool m_said_resume = false;
    int m_last_decile = -1;
    std::chrono::steady_clock::time_point m_last{};
};

void run_pull(const std::string& spec) {
    const PullTarget t = parse_target(spec);
    const hub::HubConfig config = hub::HubConfig::from_env();
    const hub::HubClient client(config);
    const auto files = choose_files(client, t);
    auto lib = open_library();
    store::DownloadManager manager(*lib, config);
    auto printer = std::make_shared<ProgressPrinter>();
    std::mutex print_mu;
    store::PullSpec pull{t.repo, t.revision, files};
    std::shared_ptr<store::DownloadTask> task;
    try {
        task = manager.pull(pull, [&](const store::DownloadProgress& p) {
            std::lock_guard lock(print_mu);
            printer->update(p);
        });
    } catch (const store::DownloadError& e) {
        throw CliError(e.what());
    }
    g_interrupted = 0;
    auto previous = std::signal(SIGINT, on_sigint);
    while (!task->done()) {
        if (g_interrupted) task->cancel();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::signal(SIGINT, previous);
    {
        std::lock_guard lock(print_mu);
        printer->finish();
    }
    try {
        const store::ModelRecord m = task->wait();
        std::printf("%s\n", m.path.c_str());
    } catch (const store::DownloadError& e) {
        if (e.kind() == store::DownloadError::Kind::Cancelled) {
            throw CliError("download interrupted; the partial file is kept: run `folio pull " +
                           spec + "` again to resume");
        }
        throw CliError(e.what());
    }
}

void run_list(bool json) {
    auto lib = open_library();
    const auto models = lib->models();
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : models) {
            nlohmann::json files = nlohmann::json::array();
            for (const auto& f : m.files) {
                files.push_back({{"file", f.file},
                                 {"path", f.path.string()},
                                 {"size", f.size},
                                 {"sha256", f.sha256}});
            }
            out.push_back({{"id", m.id},
                           {"repo", m.repo},
                           {"revision", m.revision},
                           {"file", m.file},
                           {"path", m.path.string()},
                           {"size", m.size},
                           {"sha256", m.sha256},
                           {"weight_type", m.weight_type},
                           {"architecture", m.architecture},
                           {"parameters", m.parameters},
                           {"context_length", m.context_length},
                           {"added", m.added},
                           {"last_used", m.last_used},
                           {"files", files}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return;
    }
    if (models.empty()) {
        std::printf("no models yet: folio pull OWNER/NAME:QUANT\n");
        return;
    }
    std::printf("%-4s  %-40s  %10s  %-8s  %-10s  %s\n", "ID", "FILE", "SIZE", "TYPE", "ARCH",
                "PATH");
    for (const auto& m : models) {
        const std::string file = m.repo.empty() ? m.file : m.repo + "/" + m.file;
        std::printf("%-4lld  %-40s  %10s  %-8s  %-10s  %s\n", static_cast<long long>(m.id),
                    file.c_str(), format_bytes(m.size).c_str(), m.weight_type.c_str(),
                    m.architecture.c_str(), m.path.c_str());
    }
}

void run_rm(const std::string& what) {
    auto lib = open_library();
    std::optional<store::ModelRecord> m;
    const bool numeric = !what.empty() && std::all_of(what.begin(), what.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
    if (numeric) {
        m = lib->find_model(std::stoll(what));
        if (!m) throw CliError("no model with id " + what + " in the library (see folio list)");
    } else {
        m = lib->find_model_by_path(what);
        if (!m) throw CliError("no model at " + what + " in the library (see folio list)");
    }
    lib->remove_model(m->id);
    std::printf("removed %s\n", m->path.c_str());
}

}  // namespace

void add_pull_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "pull", "Download a model from the hub into the library (resumes an interrupted pull)");
    auto spec = std::make_shared<std::string>();
    cmd->add_option("MODEL", *spec, "REPO[:QUANT|:FILE][@REV], e.g. owner/name:Q4_K_M")->required();
    cmd->callback([spec] { run_pull(*spec); });
}

void add_list_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("list", "List the models in the library");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "JSON output");
    cmd->callback([json] { run_list(*json); });
}

void add_rm_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("rm", "Remove a model (file and library entry)");
    auto what = std::make_shared<std::string>();
    cmd->add_option("MODEL", *what, "the id (see folio list) or the file path")->required();
    cmd->callback([what] { run_rm(*what); });
}

}  // namespace folio::cli
