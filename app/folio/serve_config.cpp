#include "serve_config.h"

#include <arpa/inet.h>

#include <toml++/toml.h>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "cli_common.h"

namespace folio::cli {
namespace {

namespace fs = std::filesystem;

ConfigKey key(std::string name, std::string env, ConfigKind kind, ConfigValue fallback,
              int64_t min = 0, int64_t max = 0, std::vector<std::string> choices = {}) {
    return ConfigKey{std::move(name),   std::move(env), kind, std::move(fallback), min, max,
                     std::move(choices)};
}

std::vector<ConfigKey> make_keys() {
    const server::ServerConfig s;
    const EngineConfig e;
    using K = ConfigKind;
    using Strings = std::vector<std::string>;
    return {
        key("server.host", "FOLIO_HOST", K::String, s.host),
        key("server.port", "FOLIO_PORT", K::Int, int64_t{s.port}, 0, 65535),
        key("server.api_key", "FOLIO_API_KEY", K::StringList, Strings{}),
        key("server.api_key_file", "FOLIO_API_KEY_FILE", K::String, std::string()),
        key("server.cors_origins", "FOLIO_CORS_ORIGINS", K::StringList, Strings{}),
        key("server.shutdown_grace", "FOLIO_SHUTDOWN_GRACE", K::Seconds, 30.0, 0, 86400),
        key("server.max_body_bytes", "FOLIO_MAX_BODY_BYTES", K::Bytes,
            static_cast<int64_t>(s.max_body_bytes), 1024, int64_t{1} << 34),
        key("server.max_tokens_limit", "FOLIO_MAX_TOKENS_LIMIT", K::Int,
            int64_t{s.max_tokens_limit}, 1, int64_t{1} << 24),
        key("server.http_threads", "FOLIO_HTTP_THREADS", K::Int, int64_t{s.num_http_threads}, 0,
            4096),
        key("engine.threads", "FOLIO_THREADS", K::Int, int64_t{e.num_threads}, 0, 1024),
        key("engine.ctx_size", "FOLIO_CTX_SIZE", K::Int, e.max_model_len, 0, int64_t{1} << 24),
        key("engine.kv_type", "FOLIO_KV_TYPE", K::String, std::string("f16"), 0, 0,
            {"f16", "f32", "q8_0"}),
        // 0: what fits in available memory.
        key("engine.kv_cache_memory", "FOLIO_KV_CACHE_MEMORY", K::Bytes, e.kv_cache_memory, 0,
            int64_t{1} << 50),
        key("engine.prefix_caching", "FOLIO_PREFIX_CACHING", K::Bool, e.enable_prefix_caching),
        key("engine.max_num_seqs", "FOLIO_MAX_NUM_SEQS", K::Int, int64_t{e.max_num_seqs}, 1,
            1 << 16),
        key("engine.max_num_batched_tokens", "FOLIO_MAX_NUM_BATCHED_TOKENS", K::Int,
            int64_t{e.max_num_batched_tokens}, 1, 1 << 20),
        key("engine.long_prefill_threshold", "FOLIO_LONG_PREFILL_THRESHOLD", K::Int,
            int64_t{e.long_prefill_token_threshold}, 0, 1 << 20),
    };
}

const char* kind_name(const ConfigKey& k) {
    switch (k.kind) {
        case ConfigKind::Bool:
            return "a boolean (true or false)";
        case ConfigKind::Int:
            return "an integer";
        case ConfigKind::Bytes:
            return "a size in bytes (an integer or a string like \"2G\")";
        case ConfigKind::Seconds:
            return "a number of seconds";
        case ConfigKind::String:
            return "a string";
        case ConfigKind::StringList:
            return "a string or an array of strings";
    }
    return "?";
}

std::string range_text(const ConfigKey& k) {
    return " from " + std::to_string(k.min) + " to " + std::to_string(k.max);
}

std::string short_name(const std::string& key) {
    return key.substr(key.find('.') + 1);
}

// Checks the value's type and range; returns an error text, empty when fine.
std::string check(const ConfigKey& k, const ConfigValue& v) {
    switch (k.kind) {
        case ConfigKind::Bool:
            if (!std::holds_alternative<bool>(v)) return std::string("expected ") + kind_name(k);
            return {};
        case ConfigKind::Int:
        case ConfigKind::Bytes: {
            if (!std::holds_alternative<int64_t>(v)) return std::string("expected ") + kind_name(k);
            const int64_t x = std::get<int64_t>(v);
            if (x < k.min || x > k.max) return "expected a value" + range_text(k);
            return {};
        }
        case ConfigKind::Seconds: {
            if (!std::holds_alternative<double>(v)) return std::string("expected ") + kind_name(k);
            const double x = std::get<double>(v);
            if (!(x >= static_cast<double>(k.min) && x <= static_cast<double>(k.max)))
                return "expected seconds" + range_text(k);
            return {};
        }
        case ConfigKind::String: {
            if (!std::holds_alternative<std::string>(v))
                return std::string("expected ") + kind_name(k);
            const auto& s = std::get<std::string>(v);
            if (k.choices.empty()) return {};
            std::string all;
            for (const auto& c : k.choices) {
                if (s == c) return {};
                all += (all.empty() ? "" : ", ") + c;
            }
            return "expected one of " + all + ", got \"" + s + "\"";
        }
        case ConfigKind::StringList:
            if (!std::holds_alternative<std::vector<std::string>>(v))
                return std::string("expected ") + kind_name(k);
            return {};
    }
    return {};
}

std::vector<std::string> split(const std::string& text, const std::string& separators) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (separators.find(c) != std::string::npos) {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// ---- TOML ----

std::string where(const fs::path& file, const toml::source_region& src) {
    return file.string() + ":" + std::to_string(src.begin.line);
}

// A TOML node as the key's kind; std::nullopt when its type does not fit.
std::optional<ConfigValue> from_toml(const ConfigKey& k, const toml::node& n) {
    switch (k.kind) {
        case ConfigKind::Bool:
            if (auto b = n.value_exact<bool>()) return *b;
            return std::nullopt;
        case ConfigKind::Int:
            if (auto i = n.value_exact<int64_t>()) return *i;
            return std::nullopt;
        case ConfigKind::Bytes:
            if (auto i = n.value_exact<int64_t>()) return *i;
            if (auto s = n.value_exact<std::string>()) {
                if (auto b = parse_bytes(*s)) return *b;
                if (trim(*s) == "0") return int64_t{0};
            }
            return std::nullopt;
        case ConfigKind::Seconds:
            if (auto i = n.value_exact<int64_t>()) return static_cast<double>(*i);
            if (auto d = n.value_exact<double>()) return *d;
            return std::nullopt;
        case ConfigKind::String:
            if (auto s = n.value_exact<std::string>()) return *s;
            return std::nullopt;
        case ConfigKind::StringList: {
            if (auto s = n.value_exact<std::string>()) return std::vector<std::string>{*s};
            const toml::array* a = n.as_array();
            if (!a) return std::nullopt;
            std::vector<std::string> out;
            for (const toml::node& e : *a) {
                auto s = e.value_exact<std::string>();
                if (!s) return std::nullopt;
                out.push_back(*s);
            }
            return out;
        }
    }
    return std::nullopt;
}

void read_section(ConfigLayer& layer, const fs::path& file, const std::string& section,
                  const toml::table& table) {
    for (auto&& [key, node] : table) {
        const std::string name = section + "." + std::string(key.str());
        const ConfigKey* k = find_config_key(name);
        if (!k)
            throw ConfigError(where(file, key.source()) + ": unknown key '" + name + "'" +
                              " (see packaging/folio.toml.example)");
        auto v = from_toml(*k, node);
        if (!v)
            throw ConfigError(where(file, node.source()) + ": key '" + name + "': expected " +
                              kind_name(*k));
        layer.set(name, std::move(*v), where(file, node.source()));
    }
}

void read_models(ConfigLayer& layer, const fs::path& file, const toml::node& node) {
    const toml::array* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables())
        throw ConfigError(where(file, node.source()) +
                          ": key 'model': expected [[model]] tables with path = \"...\"");
    std::vector<ModelSpec> models;
    for (const toml::node& entry : *arr) {
        const toml::table& t = *entry.as_table();
        ModelSpec m;
        for (auto&& [key, value] : t) {
            const std::string k(key.str());
            auto s = value.value_exact<std::string>();
            if (k != "path" && k != "id")
                throw ConfigError(where(file, key.source()) + ": unknown key 'model." + k +
                                  "' (a [[model]] has path and id)");
            if (!s || s->empty())
                throw ConfigError(where(file, value.source()) + ": key 'model." + k +
                                  "': expected a non-empty string");
            (k == "path" ? m.path : m.id) = *s;
        }
        if (m.path.empty())
            throw ConfigError(where(file, entry.source()) + ": a [[model]] needs path = \"...\"");
        if (fs::path(m.path).is_relative()) m.path = (file.parent_path() / m.path).string();
        models.push_back(std::move(m));
    }
    layer.models = std::move(models);
    layer.models_source = where(file, node.source());
}

// ---- environment ----

ConfigValue from_env(const ConfigKey& k, const std::string& text) {
    const std::string t = trim(text);
    const std::string bad = k.env + ": expected " + kind_name(k) + ", got \"" + text + "\"";
    switch (k.kind) {
        case ConfigKind::Bool:
            if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
            if (t == "0" || t == "false" || t == "no" || t == "off") return false;
            throw ConfigError(bad);
        case ConfigKind::Int: {
            int64_t x = 0;
            auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
            if (ec != std::errc() || end != t.data() + t.size() || t.empty())
                throw ConfigError(bad);
            return x;
        }
        case ConfigKind::Bytes:
            if (t == "0") return int64_t{0};
            if (auto b = parse_bytes(t)) return *b;
            throw ConfigError(bad);
        case ConfigKind::Seconds: {
            char* end = nullptr;
            const double x = std::strtod(t.c_str(), &end);
            if (t.empty() || *end != '\0' || !std::isfinite(x)) throw ConfigError(bad);
            return x;
        }
        case ConfigKind::String:
            return t;
        case ConfigKind::StringList:
            return split(t, ",");
    }
    throw ConfigError(bad);
}

// ---- printing ----

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string to_toml(const ConfigKey& k, const ConfigValue& v) {
    if (k.name == "server.api_key") {
        const auto& keys = std::get<std::vector<std::string>>(v);
        std::string out = "[";
        for (size_t i = 0; i < keys.size(); ++i) out += (i ? ", " : "") + quote("<redacted>");
        return out + "]";
    }
    if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (auto* d = std::get_if<double>(&v)) {
        std::ostringstream ss;
        ss << *d;
        return ss.str();
    }
    if (auto* s = std::get_if<std::string>(&v)) return quote(*s);
    const auto& list = std::get<std::vector<std::string>>(v);
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + quote(list[i]);
    return out + "]";
}

const ConfigValue& value_of(const ConfigLayer& layer, const std::string& key) {
    auto it = layer.values.find(key);
    if (it != layer.values.end()) return it->second.value;
    return find_config_key(key)->fallback;
}

int64_t int_of(const ConfigLayer& l, const std::string& key) {
    return std::get<int64_t>(value_of(l, key));
}
const std::string& string_of(const ConfigLayer& l, const std::string& key) {
    return std::get<std::string>(value_of(l, key));
}
const std::vector<std::string>& list_of(const ConfigLayer& l, const std::string& key) {
    return std::get<std::vector<std::string>>(value_of(l, key));
}

std::string model_id(const ModelSpec& m) {
    if (!m.id.empty()) return m.id;
    const fs::path p(m.path);
    return p.extension() == ".gguf" ? p.stem().string() : p.filename().string();
}

std::vector<std::string> read_api_key_file(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw ConfigError("cannot read the API key file " + file);
    std::vector<std::string> keys;
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (!line.empty() && line[0] != '#') keys.push_back(line);
    }
    if (keys.empty()) throw ConfigError("no API key in " + file + " (one key per line)");
    return keys;
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
    static const std::vector<ConfigKey> keys = make_keys();
    return keys;
}

const ConfigKey* find_config_key(const std::string& name) {
    for (const ConfigKey& k : config_keys())
        if (k.name == name) return &k;
    return nullptr;
}

void ConfigLayer::set(const std::string& key, ConfigValue value, const std::string& source) {
    const ConfigKey* k = find_config_key(key);
    if (!k) throw ConfigError(source + ": unknown key '" + key + "'");
    if (std::string err = check(*k, value); !err.empty())
        throw ConfigError(source + ": key '" + key + "': " + err);
    values[key] = ConfigEntry{std::move(value), source};
}

void merge_layer(ConfigLayer& base, const ConfigLayer& over) {
    if (over.values.count("server.api_key") || over.values.count("server.api_key_file")) {
        base.values.erase("server.api_key");
        base.values.erase("server.api_key_file");
    }
    for (const auto& [k, v] : over.values) base.values[k] = v;
    if (over.models) {
        base.models = over.models;
        base.models_source = over.models_source;
    }
    base.files.insert(base.files.end(), over.files.begin(), over.files.end());
}

std::vector<fs::path> default_config_files(const GetEnv& getenv) {
    std::vector<fs::path> files;
    // systemd's ConfigurationDirectory= sets $CONFIGURATION_DIRECTORY (colon-separated).
    const char* confdir = getenv("CONFIGURATION_DIRECTORY");
    if (confdir && *confdir)
        files.push_back(fs::path(split(confdir, ":").front()) / "folio.toml");
    else
        files.emplace_back("/etc/folio/folio.toml");
    if (const char* xdg = getenv("XDG_CONFIG_HOME"); xdg && *xdg && fs::path(xdg).is_absolute())
        files.push_back(fs::path(xdg) / "folio" / "folio.toml");
    else if (const char* home = getenv("HOME"); home && *home)
        files.push_back(fs::path(home) / ".config" / "folio" / "folio.toml");
    return files;
}

ConfigLayer layer_from_file(const fs::path& file) {
    std::ifstream probe(file);
    if (!probe) throw ConfigError("cannot read the config file " + file.string());
    probe.close();
    toml::table root;
    try {
        root = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        throw ConfigError(where(file, e.source()) + ": " + std::string(e.description()));
    }
    ConfigLayer layer;
    layer.files.push_back(file.string());
    for (auto&& [key, node] : root) {
        const std::string k(key.str());
        if (k == "model") {
            read_models(layer, file, node);
        } else if (k == "server" || k == "engine") {
            const toml::table* t = node.as_table();
            if (!t) throw ConfigError(where(file, node.source()) + ": '" + k + "' must be a table");
            read_section(layer, file, k, *t);
        } else {
            throw ConfigError(where(file, key.source()) + ": unknown key '" + k +
                              "' (expected [server], [engine] or [[model]])");
        }
    }
    return layer;
}

ConfigLayer layer_from_env(const GetEnv& getenv) {
    ConfigLayer layer;
    for (const ConfigKey& k : config_keys()) {
        const char* v = k.env.empty() ? nullptr : getenv(k.env.c_str());
        if (v && *v) layer.set(k.name, from_env(k, v), k.env);
    }
    if (const char* v = getenv("FOLIO_MODELS"); v && *v) {
        std::vector<ModelSpec> models;
        for (const std::string& p : split(v, ":,")) models.push_back({trim(p), ""});
        if (models.empty())
            throw ConfigError(std::string("FOLIO_MODELS: no model path in \"") + v + "\"");
        layer.models = std::move(models);
        layer.models_source = "FOLIO_MODELS";
    }
    return layer;
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    in6_addr a6{};
    std::string h = host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

ServeConfig resolve_config(const ConfigLayer& l) {
    ServeConfig c;
    c.server.host = string_of(l, "server.host");
    c.server.port = static_cast<int>(int_of(l, "server.port"));
    c.server.api_keys = list_of(l, "server.api_key");
    c.api_key_file = string_of(l, "server.api_key_file");
    if (!c.api_key_file.empty())
        for (std::string& k : read_api_key_file(c.api_key_file)) c.server.api_keys.push_back(k);
    for (const std::string& k : c.server.api_keys)
        if (k.empty() || k.find_first_of(" \t\r\n") != std::string::npos)
            throw ConfigError("an API key must be non-empty and contain no white space");
    c.server.cors_origins = list_of(l, "server.cors_origins");
    c.server.max_body_bytes = static_cast<size_t>(int_of(l, "server.max_body_bytes"));
    c.server.max_tokens_limit = static_cast<int32_t>(int_of(l, "server.max_tokens_limit"));
    c.server.num_http_threads = static_cast<int>(int_of(l, "server.http_threads"));
    c.shutdown_grace = std::chrono::milliseconds(
        std::llround(std::get<double>(value_of(l, "server.shutdown_grace")) * 1000.0));

    const std::string& kv = string_of(l, "engine.kv_type");
    c.engine.num_threads = static_cast<int>(int_of(l, "engine.threads"));
    c.engine.max_model_len = int_of(l, "engine.ctx_size");
    c.engine.kv_cache_type = kv == "f32"    ? KvCacheType::F32
                             : kv == "q8_0" ? KvCacheType::Q8_0
                                            : KvCacheType::F16;
    c.engine.kv_cache_memory = int_of(l, "engine.kv_cache_memory");
    c.engine.enable_prefix_caching = std::get<bool>(value_of(l, "engine.prefix_caching"));
    c.engine.max_num_seqs = static_cast<int>(int_of(l, "engine.max_num_seqs"));
    c.engine.max_num_batched_tokens = static_cast<int>(int_of(l, "engine.max_num_batched_tokens"));
    c.engine.long_prefill_token_threshold =
        static_cast<int>(int_of(l, "engine.long_prefill_threshold"));

    if (!l.models || l.models->empty())
        throw ConfigError(
            "no model to serve: pass -m MODEL.gguf, set FOLIO_MODELS, or add a [[model]] "
            "to folio.toml");
    std::set<std::string> ids;
    for (ModelSpec m : *l.models) {
        m.id = model_id(m);
        if (!ids.insert(m.id).second)
            throw ConfigError("two models have the id '" + m.id +
                              "': name them with [[model]] id = \"...\" in folio.toml");
        c.models.push_back(std::move(m));
    }
    if (c.server.api_keys.empty() && !is_loopback_host(c.server.host))
        throw ConfigError("refusing to listen on " + c.server.host +
                          " without an API key: set --api-key-file FILE (or api_key_file in "
                          "[server] of folio.toml, or FOLIO_API_KEY_FILE), or listen on "
                          "127.0.0.1");
    return c;
}

std::string describe_config(const ConfigLayer& l) {
    std::string out = "# folio serve: effective configuration (each value: # where it came from)\n";
    out += "# config files read: ";
    if (l.files.empty()) out += "none";
    for (size_t i = 0; i < l.files.size(); ++i) out += (i ? ", " : "") + l.files[i];
    out += "\n";
    std::string section;
    for (const ConfigKey& k : config_keys()) {
        const std::string s = k.name.substr(0, k.name.find('.'));
        if (s != section) {
            out += "\n[" + s + "]\n";
            section = s;
        }
        auto it = l.values.find(k.name);
        const bool set = it != l.values.end();
        out += short_name(k.name) + " = " + to_toml(k, set ? it->second.value : k.fallback) +
               "  # " + (set ? it->second.source : "default") + "\n";
    }
    if (l.models) {
        for (const ModelSpec& m : *l.models) {
            out += "\n[[model]]  # " + l.models_source + "\n";
            out += "path = " + quote(m.path) + "\n";
            out += "id = " + quote(model_id(m)) + "\n";
        }
    }
    return out;
}

}  // namespace folio::cli
