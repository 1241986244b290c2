#include "commands.h"

namespace folio::cli {

void add_info_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "not yet available");
    cmd->callback([] { throw CliError("'info' is not built yet"); });
}

}  // namespace folio::cli
