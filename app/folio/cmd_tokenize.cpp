#include "commands.h"

namespace folio::cli {

void add_tokenize_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("tokenize", "not yet available");
    cmd->callback([] { throw CliError("'tokenize' is not built yet"); });
}

}  // namespace folio::cli
