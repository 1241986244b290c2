#pragma once
// Each `folio` subcommand registers itself on the CLI11 app and runs when selected.
// A command reports failure by throwing folio::CliError (or any std::exception); main() prints
// one line "folio: <message>" to stderr and exits 1.
#include <CLI/CLI.hpp>
#include <stdexcept>

namespace folio::cli {

struct CliError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void add_run_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_chat_template_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_quants_command(CLI::App& app);
void add_pull_command(CLI::App& app);
void add_list_command(CLI::App& app);
void add_rm_command(CLI::App& app);
void add_quantize_command(CLI::App& app);

}  // namespace folio::cli
