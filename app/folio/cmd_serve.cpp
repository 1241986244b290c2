// folio serve -m MODEL [-m MODEL ...] [--host H] [--port P] [--api-key-file F] [--config FILE] ...
// The headless appliance: the OpenAI-compatible server over one engine per model, configured from
// folio.toml files, FOLIO_* variables and flags (serve_config.h), integrated with systemd
// (Type=notify readiness, watchdog, graceful drain on SIGTERM), logging one line per event.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli_common.h"
#include "serve_config.h"
#include "serve_daemon.h"
#include "serve_log.h"

namespace folio::cli {
namespace {

using Clock = std::chrono::steady_clock;

// An engine with queued work whose step counter stays still this long is stalled.
constexpr auto kEngineStallLimit = std::chrono::seconds(120);

struct ServeFlags {
    EngineFlags engine;  // everything but -m, which serve takes repeatedly
    std::vector<std::string> models;
    std::string host;
    int port = 0;
    std::vector<std::string> api_keys;
    std::string api_key_file;
    std::vector<std::string> cors_origins;
    double shutdown_grace = 0;
    std::string max_body_bytes;
    int max_tokens_limit = 0;
    int http_threads = 0;
    std::string config_file;
    bool print_config = false;
};

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

const char* env(const char* name) {
    return std::getenv(name);
}

bool given(const CLI::App* cmd, const char* flag) {
    return cmd->count(flag) > 0;
}

ConfigLayer layer_from_flags(const CLI::App* cmd, const ServeFlags& f) {
    ConfigLayer l;
    const EngineFlags& e = f.engine;
    if (given(cmd, "--model")) {
        std::vector<ModelSpec> models;
        for (const std::string& m : f.models) models.push_back({m, ""});
        l.models = std::move(models);
        l.models_source = "-m";
    }
    if (given(cmd, "--host")) l.set("server.host", f.host, "--host");
    if (given(cmd, "--port")) l.set("server.port", int64_t{f.port}, "--port");
    if (given(cmd, "--api-key")) l.set("server.api_key", f.api_keys, "--api-key");
    if (given(cmd, "--api-key-file"))
        l.set("server.api_key_file", f.api_key_file, "--api-key-file");
    if (given(cmd, "--cors-origin")) l.set("server.cors_origins", f.cors_origins, "--cors-origin");
    if (given(cmd, "--shutdown-grace"))
        l.set("server.shutdown_grace", f.shutdown_grace, "--shutdown-grace");
    if (given(cmd, "--max-body-bytes"))
        l.set("server.max_body_bytes", parse_bytes(f.max_body_bytes).value_or(0),
              "--max-body-bytes");
    if (given(cmd, "--max-tokens-limit"))
        l.set("server.max_tokens_limit", int64_t{f.max_tokens_limit}, "--max-tokens-limit");
    if (given(cmd, "--http-threads"))
        l.set("server.http_threads", int64_t{f.http_threads}, "--http-threads");
    if (given(cmd, "--threads")) l.set("engine.threads", int64_t{e.threads}, "--threads");
    if (given(cmd, "--ctx-size")) l.set("engine.ctx_size", e.ctx, "--ctx-size");
    if (given(cmd, "--kv-type")) l.set("engine.kv_type", e.kv_type, "--kv-type");
    if (given(cmd, "--kv-cache-memory"))
        l.set("engine.kv_cache_memory", parse_bytes(e.kv_cache_memory).value_or(0),
              "--kv-cache-memory");
    if (given(cmd, "--no-prefix-caching"))
        l.set("engine.prefix_caching", false, "--no-prefix-caching");
    if (given(cmd, "--max-num-seqs"))
        l.set("engine.max_num_seqs", int64_t{e.max_num_seqs}, "--max-num-seqs");
    if (given(cmd, "--max-num-batched-tokens"))
        l.set("engine.max_num_batched_tokens", int64_t{e.max_num_batched_tokens},
              "--max-num-batched-tokens");
    if (given(cmd, "--long-prefill-threshold"))
        l.set("engine.long_prefill_threshold", int64_t{e.long_prefill_threshold},
              "--long-prefill-threshold");
    return l;
}

ConfigLayer merged_layers(const CLI::App* cmd, const ServeFlags& f) {
    ConfigLayer merged;
    if (given(cmd, "--config")) {
        merge_layer(merged, layer_from_file(f.config_file));
    } else {
        for (const auto& file : default_config_files(env))
            if (std::filesystem::exists(file)) merge_layer(merged, layer_from_file(file));
    }
    merge_layer(merged, layer_from_env(env));
    merge_layer(merged, layer_from_flags(cmd, f));
    return merged;
}

std::string summary(const ServeConfig& c, const ConfigLayer& l) {
    std::string files;
    for (const auto& f : l.files) files += (files.empty() ? "" : ", ") + f;
    std::string auth = c.server.api_keys.empty()
                           ? "off"
                           : format("on (%zu key%s)", c.server.api_keys.size(),
                                    c.server.api_keys.size() == 1 ? "" : "s");
    std::string cors;
    for (const auto& o : c.server.cors_origins) cors += (cors.empty() ? "" : " ") + o;
    const EngineConfig& e = c.engine;
    return format(
        "config: %s:%d, auth %s, cors %s, %zu model%s, grace %.1f s, threads %s, kv %s, "
        "kv memory %s, ctx %lld, max seqs %d, max batched tokens %d, prefix caching %s; "
        "files: %s",
        c.server.host.c_str(), c.server.port, auth.c_str(), cors.empty() ? "off" : cors.c_str(),
        c.models.size(), c.models.size() == 1 ? "" : "s",
        static_cast<double>(c.shutdown_grace.count()) / 1000.0,
        e.num_threads ? std::to_string(e.num_threads).c_str() : "auto",
        kv_cache_type_name(e.kv_cache_type),
        e.kv_cache_memory ? format_bytes(e.kv_cache_memory).c_str() : "auto",
        static_cast<long long>(e.max_model_len), e.max_num_seqs, e.max_num_batched_tokens,
        e.enable_prefix_caching ? "on" : "off", files.empty() ? "none" : files.c_str());
}

// What the main thread waits for once the server runs: a signal, or the server stopping alone.
struct StopState {
    std::mutex mutex;
    std::condition_variable cv;
    int signal = 0;
    bool server_stopped = false;

    bool stop_requested() {
        std::lock_guard<std::mutex> lock(mutex);
        return signal != 0;
    }
};

// Health for the watchdog: an engine is stalled when it has work queued and its step counter has
// not moved for kEngineStallLimit. Called from the watchdog thread only.
class EngineHealth {
  public:
    void add(std::string id, std::shared_ptr<Engine> engine) {
        std::lock_guard<std::mutex> lock(mutex_);
        engines_.push_back({std::move(id), std::move(engine), -1, Clock::now(), false});
    }

    bool healthy(ServeLog& log) {
        std::lock_guard<std::mutex> lock(mutex_);
        bool ok = true;
        const auto now = Clock::now();
        for (Tracked& t : engines_) {
            const EngineStats s = t.engine->stats();
            if (s.num_steps != t.steps || s.num_running + s.num_waiting == 0) {
                t.steps = s.num_steps;
                t.progress = now;
                t.reported = false;
                continue;
            }
            if (now - t.progress < kEngineStallLimit) continue;
            ok = false;
            if (!t.reported)
                log.error(format(
                    "model '%s': no engine step for %lld s with %d requests "
                    "queued; withholding the watchdog ping",
                    t.id.c_str(),
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::seconds>(now - t.progress).count()),
                    s.num_running + s.num_waiting));
            t.reported = true;
        }
        return ok;
    }

  private:
    struct Tracked {
        std::string id;
        std::shared_ptr<Engine> engine;
        int64_t steps;
        Clock::time_point progress;
        bool reported;
    };
    std::mutex mutex_;
    std::vector<Tracked> engines_;
};

std::string plural(size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void serve(const ServeConfig& config, ServeLog& log, StopState& stop, SignalWaiter& signals) {
    for (const ModelSpec& m : config.models)
        if (!std::filesystem::is_regular_file(m.path))
            throw CliError("model file not found: " + m.path);

    server::ServerConfig sc = config.server;
    sc.log = [&log](std::string_view line) { log.info(line); };
    std::unique_ptr<server::Server> server;
    try {
        server = std::make_unique<server::Server>(std::move(sc));
        server->start();
    } catch (const std::exception& e) {
        throw CliError(format("cannot listen on %s:%d: %s", config.server.host.c_str(),
                              config.server.port, e.what()));
    }
    const std::string& host = config.server.host;
    const std::string address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                ":" + std::to_string(server->port());
    log.info("listening on http://" + address + " (health: 503 until the models are loaded)");

    signals.start([&](int sig) {
        notify_systemd("STOPPING=1");
        std::lock_guard<std::mutex> lock(stop.mutex);
        log.info(format("received %s%s", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                        stop.signal ? ": already stopping" : ": stopping"));
        if (!stop.signal) stop.signal = sig;
        stop.cv.notify_all();
    });
    EngineHealth health;
    std::unique_ptr<Watchdog> watchdog;
    if (const auto interval = watchdog_interval(); interval.count() > 0) {
        log.info(format("watchdog: pinging systemd every %.1f s while the engines are healthy",
                        static_cast<double>(interval.count()) / 2e6));
        watchdog = std::make_unique<Watchdog>(interval, [&] { return health.healthy(log); });
    }

    size_t num_loaded = 0;
    for (const ModelSpec& m : config.models) {
        if (stop.stop_requested()) break;
        notify_systemd(format("STATUS=loading model %zu/%zu: %s", num_loaded + 1,
                              config.models.size(), m.id.c_str()));
        EngineConfig ec = config.engine;
        ec.model_path = m.path;
        // An appliance claims its KV memory at start: steady resident memory under any load,
        // and a machine short of memory shows it at once, not mid-run.
        ec.commit_kv_memory = true;
        const auto t0 = Clock::now();
        std::shared_ptr<Engine> engine;
        try {
            engine = create_engine(ec);
        } catch (const std::exception& e) {
            throw CliError("cannot load model '" + m.id + "': " + e.what());
        }
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        const EngineInfo& info = engine->info();
        log.info(format(
            "model '%s' loaded from %s in %.2f s: %s, kv cache %s (%lld blocks of "
            "%lld tokens), max length %lld tokens",
            m.id.c_str(), m.path.c_str(), secs, info.backend.c_str(),
            format_bytes(info.kv_cache_bytes).c_str(), static_cast<long long>(info.num_kv_blocks),
            static_cast<long long>(info.block_size), static_cast<long long>(info.max_model_len)));
        server->add_model(m.id, engine);
        health.add(m.id, engine);
        ++num_loaded;
    }

    if (!stop.stop_requested()) {
        server->set_ready();
        const std::string status = "serving " + plural(num_loaded, "model") + " on " + address;
        notify_systemd("READY=1\nSTATUS=" + status);
        log.info("ready: " + status);
    }

    std::thread waiter([&] {
        server->wait();
        std::lock_guard<std::mutex> lock(stop.mutex);
        stop.server_stopped = true;
        stop.cv.notify_all();
    });
    bool unexpected = false;
    {
        std::unique_lock<std::mutex> lock(stop.mutex);
        stop.cv.wait(lock, [&] { return stop.signal != 0 || stop.server_stopped; });
        unexpected = stop.signal == 0;
    }
    if (unexpected) {
        waiter.join();
        notify_systemd("STATUS=the HTTP server stopped unexpectedly");
        throw CliError("the HTTP server stopped unexpectedly");
    }
    notify_systemd("STATUS=draining");
    log.info(format("draining: refusing new requests, waiting up to %.1f s for running ones",
                    static_cast<double>(config.shutdown_grace.count()) / 1000.0));
    const auto t0 = Clock::now();
    const int aborted = server->drain(config.shutdown_grace);
    waiter.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (aborted > 0)
        log.warning(format("stopped after %.2f s: %s aborted at the end of the grace period", secs,
                           plural(static_cast<size_t>(aborted), "request").c_str()));
    else
        log.info(format("stopped after %.2f s: every running request finished", secs));
    watchdog.reset();
    server.reset();
    log.info("exit");
}

void warn_if_world_readable(const std::string& file, ServeLog& log) {
    struct stat st {};
    if (!file.empty() && stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH))
        log.warning("the API key file " + file + " is readable by every user (chmod 600 or 640)");
}

}  // namespace

void add_serve_command(CLI::App& app) {
    auto flags = std::make_shared<ServeFlags>();
    auto* cmd = app.add_subcommand("serve", "serve models over an OpenAI-compatible HTTP API");
    add_engine_flags(cmd, flags->engine);
    cmd->remove_option(cmd->get_option("--model"));
    cmd->add_option("-m,--model", flags->models,
                    "GGUF model file (repeatable); its id in the API is the file name without "
                    ".gguf");
    cmd->add_option("--host", flags->host, "address to listen on (default: 127.0.0.1)");
    cmd->add_option("--port", flags->port, "port to listen on (default: 8080; 0: any free one)")
        ->check(CLI::Range(0, 65535));
    cmd->add_option("--api-key", flags->api_keys,
                    "accepted bearer key (repeatable; visible in ps: prefer --api-key-file)");
    cmd->add_option("--api-key-file", flags->api_key_file,
                    "file with the accepted bearer keys, one per line");
    cmd->add_option("--cors-origin", flags->cors_origins,
                    "origin allowed by CORS, or * (repeatable; default: no CORS)");
    cmd->add_option("--shutdown-grace", flags->shutdown_grace,
                    "seconds running requests may take to finish after SIGTERM (default: 30)")
        ->check(CLI::Range(0.0, 86400.0));
    cmd->add_option("--max-body-bytes", flags->max_body_bytes,
                    "largest request body, e.g. 8M (default: 8M)")
        ->check(CLI::Validator(
            [](std::string& s) {
                return parse_bytes(s) ? std::string() : "expected bytes like 8M: " + s;
            },
            "BYTES"));
    cmd->add_option("--max-tokens-limit", flags->max_tokens_limit,
                    "largest max_tokens a request may ask for (default: 32768)")
        ->check(CLI::Range(1, 1 << 24));
    cmd->add_option("--http-threads", flags->http_threads,
                    "HTTP worker threads (default: 0, enough for many streams)")
        ->check(CLI::Range(0, 4096));
    cmd->add_option("--config", flags->config_file,
                    "read this TOML file instead of /etc/folio/folio.toml and the user's "
                    "~/.config/folio/folio.toml");
    cmd->add_flag("--print-config", flags->print_config,
                  "print the effective configuration (and where each value came from), then exit");
    cmd->callback([flags, cmd] {
        bool failed = false;
        {
            ServeLog log;
            StopState stop;  // outlives the signal thread, which uses it
            // Before any thread exists, so that every thread inherits the blocked signals.
            SignalWaiter signals;
            const ConfigLayer layer = merged_layers(cmd, *flags);
            const ServeConfig config = resolve_config(layer);
            if (flags->print_config) {
                std::fputs(describe_config(layer).c_str(), stdout);
                return;
            }
            log.info("folio 0.1.0 serve, pid " + std::to_string(getpid()));
            log.info(summary(config, layer));
            warn_if_world_readable(config.api_key_file, log);
            try {
                serve(config, log, stop, signals);
            } catch (const std::exception& e) {
                notify_systemd(std::string("STATUS=failed: ") + e.what());
                log.error(e.what());
                failed = true;
            }
        }
        if (failed) std::exit(1);  // logged already, with the journal's priority
    });
}

}  // namespace folio::cli
