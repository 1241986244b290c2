#pragma once
// folio::server: the OpenAI-compatible HTTP server (cpp-httplib) over one or more Engines.
// Endpoints: GET /v1/models, POST /v1/completions, POST /v1/chat/completions (SSE or not),
// POST /v1/embeddings, POST /tokenize, POST /detokenize, GET /health, GET /metrics.
//
// Lifecycle (what `folio serve` does):
//   Server server(config);        // validates config; throws std::invalid_argument
//   server.start();               // binds and serves on background threads; /health is 503
//   server.add_model("tiny", engine);   // once each model is loaded
//   server.set_ready();           // /health 200
//   ... SIGTERM ...
//   server.drain(grace);          // refuse new work (503), let running requests finish, stop
//
// Every method may be called from any thread. Handlers never throw: failures answer
// {"error": {"message", "type", "param", "code"}} with a 4xx/5xx status.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace folio {
class Engine;
}

namespace folio::server {

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8080;  // 0: any free port (see Server::port())
    // Bearer keys accepted on every endpoint but /health. Empty: no auth, which is only
    // allowed when `host` is a loopback address (the constructor refuses otherwise).
    std::vector<std::string> api_keys;
    // Origins allowed by CORS ("*" for any). Empty: no CORS headers at all.
    std::vector<std::string> cors_origins;
    size_t max_body_bytes = 8u << 20;
    int32_t max_tokens_limit = 32768;  // largest max_tokens a request may ask for
    int32_t max_n = 128;               // largest n (completions per prompt)
    int num_http_threads = 0;          // 0: enough for many concurrent streams
    // A client that sends nothing (read) or accepts nothing (write) for this long is dropped and
    // its request aborted; an idle keep-alive connection is closed after keep_alive_timeout.
    std::chrono::milliseconds read_timeout{30000};
    std::chrono::milliseconds write_timeout{30000};
    std::chrono::seconds keep_alive_timeout{5};
    // One line per request (method, path, status, model, tokens, latency) and per error or
    // aborted request. Lifecycle events (listening, ready, draining) are the caller's to log.
    // Unset: stderr.
    std::function<void(std::string_view line)> log;
};

class Server {
  public:
    explicit Server(ServerConfig config);
    ~Server();  // stops at once (running requests are aborted)
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds host:port and starts serving. Throws std::runtime_error when the bind fails.
    void start();
    int port() const;  // the bound port (after start())

    // Makes a model routable under `id` (the API's "model" field).
    void add_model(std::string id, std::shared_ptr<Engine> engine);
    // /health answers 200 from now on (503 "loading" before).
    void set_ready();

    // Graceful stop: new requests get 503, running ones may finish until `grace` expires (then
    // they are aborted), then the listener stops. Returns the number of requests aborted.
    int drain(std::chrono::milliseconds grace);
    // Blocks until the server has stopped (drain() or destruction from another thread).
    void wait();

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace folio::server
