// folio: the command-line front end (run, tokenize, info, bench, ...).
#include <cstdio>
#include <exception>

#include "commands.h"

int main(int argc, char** argv) {
    CLI::App app{"Folio: a local LLM engine"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "folio 0.1.0");
    folio::cli::add_run_command(app);
    folio::cli::add_tokenize_command(app);
    folio::cli::add_info_command(app);
    folio::cli::add_bench_command(app);
    folio::cli::add_chat_template_command(app);
    folio::cli::add_serve_command(app);
    folio::cli::add_search_command(app);
    folio::cli::add_quants_command(app);
    folio::cli::add_pull_command(app);
    folio::cli::add_list_command(app);
    folio::cli::add_rm_command(app);
    folio::cli::add_quantize_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "folio: %s\n", e.what());
        return 1;
    }
    return 0;
}
