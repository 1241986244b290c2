#pragma once
// Internals shared by server.cpp and the route files: the model registry, the in-flight request
// registry (disconnect watchdog, drain), and the per-request context the handler boundary uses
// for logging and metrics.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "chat/chat_template.h"
#include "folio/engine.h"
#include "server/connection_watch.h"
#include "server/metrics.h"
#include "server/openai_protocol.h"
#include "server/server.h"

namespace folio::server {

struct ModelEntry {
    std::string id;
    std::shared_ptr<Engine> engine;
    int64_t created = 0;

    // The model's chat template, parsed on first use (the plain fallback when it has none or it
    // does not parse; `template_note` then says why).
    const chat::ChatTemplate& chat_template();
    std::string template_note;

  private:
    std::once_flag m_template_once;
    std::optional<chat::ChatTemplate> m_template;
};

class ModelRegistry {
  public:
    void add(std::string id, std::shared_ptr<Engine> engine);
    // `id` empty: the first model added. nullptr when unknown (or none yet).
    std::shared_ptr<ModelEntry> find(const std::string& id) const;
    std::vector<std::shared_ptr<ModelEntry>> list() const;

  private:
    mutable std::mutex m_mutex;
    std::vector<std::shared_ptr<ModelEntry>> m_models;
};

// Generation requests in flight: a watchdog thread aborts those whose client disconnected, and
// drain() aborts the rest when its grace period expires.
class InflightRegistry {
  public:
    uint64_t add(std::shared_ptr<Engine> engine, ConnectionWatch watch);
    void add_request_id(uint64_t token, const std::string& request_id);
    void remove(uint64_t token);
    // Aborts every registered request; returns how many HTTP requests that touched.
    int abort_all();
    // Aborts the requests whose connection closed; returns how many.
    int abort_disconnected();
    // Whether `token` was aborted (disconnect or drain).
    bool aborted(uint64_t token) const;

  private:
    struct Entry {
        std::shared_ptr<Engine> engine;
        ConnectionWatch watch;
        std::vector<std::string> request_ids;
        bool aborted = false;
    };
    mutable std::mutex m_mutex;
    std::map<uint64_t, Entry> m_entries;
    uint64_t m_next = 1;
};

// Removes its registry entry on destruction.
class InflightGuard {
  public:
    InflightGuard(InflightRegistry& registry, uint64_t token)
        : m_registry(registry), m_token(token) {}
    ~InflightGuard() { m_registry.remove(m_token); }
    InflightGuard(const InflightGuard&) = delete;
    InflightGuard& operator=(const InflightGuard&) = delete;
    uint64_t token() const { return m_token; }

  private:
    InflightRegistry& m_registry;
    uint64_t m_token;
};

struct ServerState;

// cpp-httplib's server with access to its listening socket: the packaged library listens with a
// backlog of 5, which refuses bursts of connections; start() raises it.
class HttpServer : public httplib::Server {
  public:
    int listening_socket() const { return svr_sock_; }
};

// What one HTTP request did, for its log line and metrics. A streaming handler sets `deferred`
// and keeps the shared context alive in its stream state: finish() then runs when the stream ends.
struct RequestContext {
    ServerState* impl = nullptr;
    std::string method, path;
    std::chrono::steady_clock::time_point start;
    std::string model;
    int64_t prompt_tokens = 0, completion_tokens = 0;
    int status = 0;
    bool deferred = false;
    std::string note;  // appended to the log line (e.g. "aborted: client disconnected")

    // Logs and counts the request once (the destructor calls it if nobody did).
    void finish();
    ~RequestContext();

  private:
    bool m_finished = false;
};

struct ServerState {
    ServerConfig config;
    RequestLimits limits;
    HttpServer http;
    ModelRegistry models;
    InflightRegistry inflight;
    Metrics metrics;

    std::atomic<bool> ready{false};
    std::atomic<bool> draining{false};
    std::atomic<bool> started{false};
    int bound_port = -1;

    // Requests between the handler boundary and their end (streams included).
    std::mutex active_mutex;
    std::condition_variable active_cv;
    int active = 0;

    std::thread listener;
    std::thread watchdog;
    std::mutex state_mutex;
    std::condition_variable state_cv;
    bool stopping = false;  // watchdog exit, guarded by state_mutex
    bool stopped = false;   // listener done, guarded by state_mutex

    void log(const std::string& line) const;
    void register_routes();
    void stop_now();

    using Handler = std::function<void(const httplib::Request&, httplib::Response&,
                                       const std::shared_ptr<RequestContext>&)>;
    struct RouteOptions {
        bool auth = true;
        bool refuse_when_draining = true;
    };
    // Wraps a handler: CORS, draining, auth, error boundary, log line and metrics.
    httplib::Server::Handler guarded(Handler handler, RouteOptions options);

    // The routes (routes_generate.cpp, routes_misc.cpp).
    void handle_generation(const httplib::Request& req, httplib::Response& res,
                           const std::shared_ptr<RequestContext>& ctx, Endpoint endpoint);
    void handle_embeddings(const httplib::Request& req, httplib::Response& res,
                           const std::shared_ptr<RequestContext>& ctx);
    void handle_models(const httplib::Request& req, httplib::Response& res,
                       const std::shared_ptr<RequestContext>& ctx);
    void handle_tokenize(const httplib::Request& req, httplib::Response& res,
                         const std::shared_ptr<RequestContext>& ctx);
    void handle_detokenize(const httplib::Request& req, httplib::Response& res,
                           const std::shared_ptr<RequestContext>& ctx);
    void handle_health(const httplib::Request& req, httplib::Response& res,
                       const std::shared_ptr<RequestContext>& ctx);
    void handle_metrics(const httplib::Request& req, httplib::Response& res,
                        const std::shared_ptr<RequestContext>& ctx);

    // The model a request names (or the default one); ApiError 404 when unknown.
    std::shared_ptr<ModelEntry> resolve_model(const std::string& id) const;
};

// Sets a JSON body.
void send_json(httplib::Response& res, int status, const nlohmann::json& body);

// Chat prompt tokens: the rendered template tokenized with special tokens parsed, and a BOS
// added only when the vocabulary wants one and the text does not already start with it.
std::vector<int32_t> chat_prompt_tokens(ModelEntry& model, const nlohmann::json& messages,
                                        const nlohmann::json& tools);
// Completions / embeddings / tokenize prompt tokens (BOS as the vocabulary says, specials parsed).
std::vector<int32_t> text_prompt_tokens(const Engine& engine, const PromptInput& prompt,
                                        const std::string& param, bool add_special = true);

}  // namespace folio::server
