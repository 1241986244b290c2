#include "commands.h"

namespace folio::cli {

void add_run_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "not yet available");
    cmd->callback([] { throw CliError("'run' is not built yet"); });
}

}  // namespace folio::cli
