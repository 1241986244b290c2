#include "server/server.h"

#include <sys/socket.h>

#include <cstdio>
#include <stdexcept>

#include "server/api_error.h"
#include "server/auth_cors.h"
#include "server/connection_watch.h"
#include "server/server_impl.h"

namespace folio::server {

// ---- ModelRegistry / ModelEntry ---------------------------------------------------------------

const chat::ChatTemplate& ModelEntry::chat_template() {
    std::call_once(m_template_once, [this] {
        try {
            m_template = chat::ChatTemplate::for_model(engine->model());
        } catch (const std::exception& e) {
            template_note = std::string("chat template unusable, plain fallback: ") + e.what();
            m_template = chat::ChatTemplate::plain_fallback();
        }
    });
    return *m_template;
}

void ModelRegistry::add(std::string id, std::shared_ptr<Engine> engine) {
    auto entry = std::make_shared<ModelEntry>();
    entry->id = std::move(id);
    entry->engine = std::move(engine);
    entry->created = unix_time_now();
    std::lock_guard lock(m_mutex);
    for (auto& m : m_models) {
        if (m->id == entry->id) {
            m = entry;  // replaces a model re-added under the same id
            return;
        }
    }
    m_models.push_back(std::move(entry));
}

std::shared_ptr<ModelEntry> ModelRegistry::find(const std::string& id) const {
    std::lock_guard lock(m_mutex);
    if (id.empty()) return m_models.empty() ? nullptr : m_models.front();
    for (const auto& m : m_models)
        if (m->id == id) return m;
    return nullptr;
}

std::vector<std::shared_ptr<ModelEntry>> ModelRegistry::list() const {
    std::lock_guard lock(m_mutex);
    return m_models;
}

// ---- InflightRegistry -------------------------------------------------------------------------

uint64_t InflightRegistry::add(std::shared_ptr<Engine> engine, ConnectionWatch watch) {
    std::lock_guard lock(m_mutex);
    uint64_t token = m_next++;
    m_entries[token] = Entry{std::move(engine), watch, {}, false};
    return token;
}

void InflightRegistry::add_request_id(uint64_t token, const std::string& request_id) {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(token);
    if (it == m_entries.end()) return;
    it->second.request_ids.push_back(request_id);
    if (it->second.aborted) it->second.engine->abort(request_id);
}

void InflightRegistry::remove(uint64_t token) {
    std::lock_guard lock(m_mutex);
    m_entries.erase(token);
}

int InflightRegistry::abort_all() {
    std::lock_guard lock(m_mutex);
    int count = 0;
    for (auto& [token, e] : m_entries) {
        if (e.aborted) continue;
        e.aborted = true;
        ++count;
        for (const auto& id : e.request_ids) e.engine->abort(id);
    }
    return count;
}

int InflightRegistry::abort_disconnected() {
    std::lock_guard lock(m_mutex);
    int count = 0;
    for (auto& [token, e] : m_entries) {
        if (e.aborted || !e.watch.closed()) continue;
        e.aborted = true;
        ++count;
        for (const auto& id : e.request_ids) e.engine->abort(id);
    }
    return count;
}

bool InflightRegistry::aborted(uint64_t token) const {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(token);
    return it != m_entries.end() && it->second.aborted;
}

// ---- RequestContext ---------------------------------------------------------------------------

void RequestContext::finish() {
    if (m_finished || !impl) return;
    m_finished = true;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    impl->metrics.record_request(path, status);
    char latency[32];
    std::snprintf(latency, sizeof(latency), "%.1f", ms);
    std::string line = "request " + method + " " + path + " " + std::to_string(status);
    if (!model.empty()) line += " model=" + model;
    if (prompt_tokens || completion_tokens)
        line += " prompt_tokens=" + std::to_string(prompt_tokens) +
                " completion_tokens=" + std::to_string(completion_tokens);
    line += " latency_ms=" + std::string(latency);
    if (!note.empty()) line += " (" + note + ")";
    impl->log(line);
}

RequestContext::~RequestContext() {
    finish();
    if (!impl) return;
    {
        std::lock_guard lock(impl->active_mutex);
        --impl->active;
    }
    impl->active_cv.notify_all();
}

// ---- ServerState -------------------------------------------------------------------------------

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(dump_json(body), "application/json");
}

void ServerState::log(const std::string& line) const {
    try {
        if (config.log) {
            config.log(line);
        } else {
            std::fprintf(stderr, "folio-server: %s\n", line.c_str());
        }
    } catch (...) {
        // A failing log sink must not take a request down.
    }
}

std::shared_ptr<ModelEntry> ServerState::resolve_model(const std::string& id) const {
    auto m = models.find(id);
    if (m) return m;
    if (id.empty()) throw ApiError(503, "no model is loaded yet", "model", "model_not_loaded");
    // At start-up the model asked for may be one still loading: a 503 (which clients retry)
    // rather than a 404 (which they do not).
    if (!ready) {
        throw ApiError(503, "The model '" + id + "' is not available yet: models are still loading",
                       "model", "model_not_loaded");
    }
    throw ApiError(404, "The model '" + id + "' does not exist", "model", "model_not_found");
}

httplib::Server::Handler ServerState::guarded(Handler handler, RouteOptions options) {
    return [this, handler = std::move(handler), options](const httplib::Request& req,
                                                         httplib::Response& res) {
        std::shared_ptr<RequestContext> ctx;
        try {
            ctx = std::make_shared<RequestContext>();
            {
                std::lock_guard lock(active_mutex);
                ++active;
            }
            ctx->impl = this;
            ctx->method = req.method;
            ctx->path = req.path;
            ctx->start = std::chrono::steady_clock::now();
            add_cors_headers(req, res, config.cors_origins);
            if (options.refuse_when_draining && draining)
                throw ApiError(503, "the server is shutting down", "", "server_shutting_down");
            if (options.auth && !authorized(req, config.api_keys))
                throw ApiError(401,
                               "Incorrect or missing API key: send 'Authorization: Bearer <key>'",
                               "", "invalid_api_key");
            handler(req, res, ctx);
        } catch (const ApiError& e) {
            send_json(res, e.status(), e.to_json());
        } catch (const std::bad_alloc&) {
            send_json(res, 500, error_body("out of memory", "server_error", "", ""));
        } catch (const std::exception& e) {
            send_json(
                res, 500,
                error_body(std::string("internal error: ") + e.what(), "server_error", "", ""));
        } catch (...) {
            send_json(res, 500, error_body("internal error", "server_error", "", ""));
        }
        if (ctx && !ctx->deferred) {
            ctx->status = res.status;
            ctx->finish();
        }
    };
}

void ServerState::register_routes() {
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    using Ctx = const std::shared_ptr<RequestContext>&;
    http.Get("/v1/models", guarded([this](Req q, Res r, Ctx c) { handle_models(q, r, c); }, {}));
    http.Get(R"(/v1/models/(.+))",
             guarded([this](Req q, Res r, Ctx c) { handle_models(q, r, c); }, {}));
    http.Post(
        "/v1/completions",
        guarded([this](Req q, Res r, Ctx c) { handle_generation(q, r, c, Endpoint::Completions); },
                {}));
    http.Post(
        "/v1/chat/completions",
        guarded([this](Req q, Res r, Ctx c) { handle_generation(q, r, c, Endpoint::Chat); }, {}));
    http.Post("/v1/embeddings",
              guarded([this](Req q, Res r, Ctx c) { handle_embeddings(q, r, c); }, {}));
    http.Post("/tokenize", guarded([this](Req q, Res r, Ctx c) { handle_tokenize(q, r, c); }, {}));
    http.Post("/detokenize",
              guarded([this](Req q, Res r, Ctx c) { handle_detokenize(q, r, c); }, {}));
    http.Get("/health", guarded([this](Req q, Res r, Ctx c) { handle_health(q, r, c); },
                                {.auth = false, .refuse_when_draining = false}));
    http.Get("/metrics", guarded([this](Req q, Res r, Ctx c) { handle_metrics(q, r, c); }, {}));
    http.Options(".*", [this](Req q, Res r) {
        try {
            answer_preflight(q, r, config.cors_origins);
        } catch (...) {
            r.status = 500;
        }
    });

    // Answers httplib's own errors (unknown route 404, body too large 413, malformed request
    // 400) in OpenAI's shape; responses our handlers already filled pass through.
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](Req q, Res r) {
        try {
            if (!r.body.empty() || r.status == 204)
                return httplib::Server::HandlerResponse::Unhandled;
            std::string message;
            std::string code;
            if (r.status == 404) {
                message = "Invalid URL (" + q.method + " " + q.path + ")";
                code = "unknown_url";
            } else if (r.status == 413) {
                message = "the request body is larger than the limit of " +
                          std::to_string(config.max_body_bytes) + " bytes";
                code = "request_too_large";
            } else {
                message = "the HTTP request is malformed (status " + std::to_string(r.status) + ")";
            }
            add_cors_headers(q, r, config.cors_origins);
            send_json(r, r.status, error_body(message, ApiError::default_type(r.status), "", code));
            metrics.record_request(q.path, r.status);
            log("request " + q.method + " " + q.path + " " + std::to_string(r.status) + " (" +
                message + ")");
        } catch (...) {
        }
        return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([this](Req, Res r, std::exception_ptr) {
        send_json(r, 500, error_body("internal error", "server_error", "", ""));
    });
}

void ServerState::stop_now() {
    {
        std::lock_guard lock(state_mutex);
        if (stopping) return;
        stopping = true;
    }
    state_cv.notify_all();
    http.stop();
    // Idle keep-alive connections would hold the workers for keep_alive_timeout.
    shutdown_server_connections(bound_port);
    if (listener.joinable()) listener.join();
    if (watchdog.joinable()) watchdog.join();
    {
        std::lock_guard lock(state_mutex);
        stopped = true;
    }
    state_cv.notify_all();
}

struct Server::Impl : ServerState {};

// ---- Server -----------------------------------------------------------------------------------

Server::Server(ServerConfig config) : m_impl(std::make_unique<Impl>()) {
    for (const auto& key : config.api_keys)
        if (key.empty()) throw std::invalid_argument("api_keys: an API key must not be empty");
    if (config.api_keys.empty() && !is_loopback_host(config.host))
        throw std::invalid_argument("refusing to serve on non-loopback address '" + config.host +
                                    "' without an API key: set api_keys, or bind to 127.0.0.1");
    if (config.port < 0 || config.port > 65535)
        throw std::invalid_argument("port must be in [0, 65535] (got " +
                                    std::to_string(config.port) + ")");
    if (config.max_body_bytes == 0) throw std::invalid_argument("max_body_bytes must be > 0");
    if (config.max_tokens_limit < 1) throw std::invalid_argument("max_tokens_limit must be >= 1");
    if (config.max_n < 1) throw std::invalid_argument("max_n must be >= 1");
    m_impl->limits.max_tokens = config.max_tokens_limit;
    m_impl->limits.max_n = config.max_n;
    m_impl->config = std::move(config);
}

Server::~Server() {
    try {
        if (m_impl->started) {
            m_impl->draining = true;
            m_impl->inflight.abort_all();
            m_impl->stop_now();
        }
    } catch (...) {
    }
}

void Server::start() {
    ServerState& im = *m_impl;
    if (im.started.exchange(true)) throw std::logic_error("Server::start() called twice");
    const ServerConfig& c = im.config;
    const int threads = c.num_http_threads > 0 ? c.num_http_threads : 192;
    im.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    im.http.set_payload_max_length(c.max_body_bytes);
    auto split = [](std::chrono::milliseconds d, auto&& set) {
        set(static_cast<time_t>(d.count() / 1000), static_cast<time_t>((d.count() % 1000) * 1000));
    };
    split(c.read_timeout, [&](time_t s, time_t us) { im.http.set_read_timeout(s, us); });
    split(c.write_timeout, [&](time_t s, time_t us) { im.http.set_write_timeout(s, us); });
    im.http.set_keep_alive_timeout(static_cast<time_t>(c.keep_alive_timeout.count()));
    im.http.set_keep_alive_max_count(1000);
    im.http.set_tcp_nodelay(true);
    // httplib's default also sets SO_REUSEPORT, which lets a second server bind the same port
    // and silently take half the connections. Only SO_REUSEADDR (fast restarts).
    im.http.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    im.register_routes();

    int port = c.port;
    if (port == 0) {
        port = im.http.bind_to_any_port(c.host);
        if (port <= 0) {
            im.started = false;
            throw std::runtime_error("cannot bind to " + c.host + " (any port)");
        }
    } else if (!im.http.bind_to_port(c.host, port)) {
        im.started = false;
        throw std::runtime_error("cannot bind to " + c.host + ":" + std::to_string(port) +
                                 " (address in use or not available)");
    }
    im.bound_port = port;
    if (int fd = im.http.listening_socket(); fd >= 0) ::listen(fd, SOMAXCONN);
    im.listener = std::thread([&im] {
        im.http.listen_after_bind();
        std::lock_guard lock(im.state_mutex);
        im.stopped = true;
        im.state_cv.notify_all();
    });
    im.watchdog = std::thread([&im] {
        std::unique_lock lock(im.state_mutex);
        while (!im.stopping) {
            lock.unlock();
            int n = im.inflight.abort_disconnected();
            if (n > 0) im.log("aborted " + std::to_string(n) + " request(s): client disconnected");
            lock.lock();
            im.state_cv.wait_for(lock, std::chrono::milliseconds(50));
        }
    });
}

int Server::port() const {
    return m_impl->bound_port;
}

void Server::add_model(std::string id, std::shared_ptr<Engine> engine) {
    if (!engine) throw std::invalid_argument("add_model: engine is null");
    m_impl->metrics.add_model(id);
    m_impl->models.add(std::move(id), std::move(engine));
}

void Server::set_ready() {
    m_impl->ready = true;
}

int Server::drain(std::chrono::milliseconds grace) {
    ServerState& im = *m_impl;
    if (!im.started) return 0;
    im.draining = true;
    int aborted = 0;
    {
        std::unique_lock lock(im.active_mutex);
        if (!im.active_cv.wait_for(lock, grace, [&] { return im.active == 0; })) {
            lock.unlock();
            aborted = im.inflight.abort_all();
            lock.lock();
            // Aborted requests end at the engine's next step; a stream blocked on a stalled
            // client ends by its write timeout.
            im.active_cv.wait_for(lock, im.config.write_timeout + std::chrono::seconds(2),
                                  [&] { return im.active == 0; });
        }
    }
    im.stop_now();
    return aborted;
}

void Server::wait() {
    ServerState& im = *m_impl;
    std::unique_lock lock(im.state_mutex);
    im.state_cv.wait(lock, [&] { return im.stopped || !im.started; });
}

}  // namespace folio::server
