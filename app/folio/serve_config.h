#pragma once
// The configuration of `folio serve`, from layers where later ones win:
//   built-in defaults
//   /etc/folio/folio.toml            ($CONFIGURATION_DIRECTORY/folio.toml when systemd sets it)
//   the user's folio.toml            ($XDG_CONFIG_HOME/folio/folio.toml or ~/.config/folio/...)
//   FOLIO_* environment variables    (FOLIO_HOST, FOLIO_PORT, FOLIO_MODELS, FOLIO_THREADS, ...)
//   command-line flags
// `--config FILE` replaces both files. Every key, its variable and its flag are listed in
// config_keys() and documented in packaging/folio.toml.example.
//
// A layer holds only what its source set, each value with where it came from ("FILE:LINE",
// "FOLIO_PORT", "--port"), so that `folio serve --print-config` can say why a value is what it is.
// Errors are ConfigError with one line naming the file, line and key (or the variable).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "commands.h"
#include "folio/engine.h"
#include "server/server.h"

namespace folio::cli {

struct ConfigError : CliError {
    using CliError::CliError;
};

// bool; int64 (Int, Bytes); double (Seconds); string; list of strings.
using ConfigValue = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;

enum class ConfigKind { Bool, Int, Bytes, Seconds, String, StringList };

struct ConfigKey {
    std::string name;  // "section.key", e.g. "server.port"
    std::string env;   // FOLIO_* variable, empty: none
    ConfigKind kind;
    ConfigValue fallback;  // the built-in default
    int64_t min = 0;       // Int, Bytes, Seconds: inclusive range
    int64_t max = 0;
    std::vector<std::string> choices;  // String: allowed values (empty: any)
};

// Every key of the [server] and [engine] tables, in the order --print-config shows them.
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(const std::string& name);

struct ModelSpec {
    std::string path;
    std::string id;  // the API's model id; empty: the file name without ".gguf"
};

struct ConfigEntry {
    ConfigValue value;
    std::string source;
};

struct ConfigLayer {
    std::map<std::string, ConfigEntry> values;  // by ConfigKey::name
    std::optional<std::vector<ModelSpec>> models;
    std::string models_source;
    std::vector<std::string> files;  // config files this layer was read from

    // Checks `value` against the key (type, range, choices); ConfigError("<source>: ...").
    void set(const std::string& key, ConfigValue value, const std::string& source);
};

// Applies `over` on `base`: every value `over` sets replaces base's. The API keys are one
// setting: a layer that sets server.api_key or server.api_key_file replaces both.
void merge_layer(ConfigLayer& base, const ConfigLayer& over);

using GetEnv = std::function<const char*(const char*)>;

// The system and user files in the order they apply (whether they exist or not).
std::vector<std::filesystem::path> default_config_files(const GetEnv& getenv);
// Parses one folio.toml. Relative model paths are relative to the file's folder.
ConfigLayer layer_from_file(const std::filesystem::path& file);
// FOLIO_* variables (empty ones are ignored).
ConfigLayer layer_from_env(const GetEnv& getenv);

// The resolved configuration `folio serve` runs with.
struct ServeConfig {
    server::ServerConfig server;    // `log` left unset
    EngineConfig engine;            // model_path empty: set per model
    std::vector<ModelSpec> models;  // ids filled in and unique
    std::chrono::milliseconds shutdown_grace{30000};
    std::string api_key_file;
};

// Fills defaults, reads the API key file, derives model ids and checks the whole: at least one
// model, unique ids, no listening beyond loopback without an API key. Throws ConfigError.
ServeConfig resolve_config(const ConfigLayer& merged);
// The effective configuration as TOML, each value followed by "# source" (keys redacted).
std::string describe_config(const ConfigLayer& merged);
// 127.0.0.0/8, ::1, ::ffff:127.x.x.x and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace folio::cli
