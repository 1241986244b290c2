#include "commands.h"

namespace folio::cli {

void add_bench_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("bench", "not yet available");
    cmd->callback([] { throw CliError("'bench' is not built yet"); });
}

}  // namespace folio::cli
