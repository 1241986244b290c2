#pragma once
// Shared helpers of the server tests: engines on the shared test models, a Server on
// 127.0.0.1 (port 0), JSON requests and SSE parsing with httplib::Client.
#include <httplib.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "folio/engine.h"
#include "server/server.h"
#include "shared_data.h"

namespace folio::test {

using json = nlohmann::json;

// max_model_len 1024 keeps "longer than the context" prompts small.
inline std::shared_ptr<Engine> make_engine(const std::string& model_file, int threads = 1,
                                           int64_t num_kv_blocks = 512,
                                           int64_t max_model_len = 1024) {
    EngineConfig config;
    config.max_model_len = max_model_len;
    config.model_path = shared_path("models/" + model_file).string();
    config.num_threads = threads;
    config.num_kv_blocks = num_kv_blocks;
    return std::shared_ptr<Engine>(Engine::create(config).release());
}

// A started server with log lines collected (thread-safe).
struct TestServer {
    std::unique_ptr<server::Server> server;
    std::shared_ptr<std::mutex> log_mutex = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<std::string>> log_lines =
        std::make_shared<std::vector<std::string>>();

    explicit TestServer(server::ServerConfig config = {}) {
        config.host = config.host.empty() ? "127.0.0.1" : config.host;
        config.port = 0;
        auto mutex = log_mutex;
        auto lines = log_lines;
        config.log = [mutex, lines](std::string_view line) {
            std::lock_guard lock(*mutex);
            lines->emplace_back(line);
        };
        server = std::make_unique<server::Server>(std::move(config));
        server->start();
    }
    int port() const { return server->port(); }
    std::vector<std::string> logs() const {
        std::lock_guard lock(*log_mutex);
        return *log_lines;
    }
};

inline std::unique_ptr<httplib::Client> client_for(int port, int timeout_s = 60) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_read_timeout(timeout_s, 0);
    c->set_write_timeout(timeout_s, 0);
    c->set_connection_timeout(10, 0);
    c->set_tcp_nodelay(true);  // headers and body go out in two writes
    return c;
}

struct JsonResponse {
    int status = 0;
    json body;
    std::string raw;
    httplib::Headers headers;
    bool has_header(const std::string& name) const { return headers.count(name) > 0; }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

inline JsonResponse post_json(httplib::Client& c, const std::string& path, const json& body,
                              const httplib::Headers& headers = {}) {
    JsonResponse r;
    auto res = c.Post(path.c_str(), headers, body.dump(), "application/json");
    if (!res)
        throw std::runtime_error("POST " + path + " failed: " + httplib::to_string(res.error()));
    r.status = res->status;
    r.raw = res->body;
    r.headers = res->headers;
    r.body = json::parse(res->body, nullptr, false);
    return r;
}

inline JsonResponse get_json(httplib::Client& c, const std::string& path,
                             const httplib::Headers& headers = {}) {
    JsonResponse r;
    auto res = c.Get(path.c_str(), headers);
    if (!res)
        throw std::runtime_error("GET " + path + " failed: " + httplib::to_string(res.error()));
    r.status = res->status;
    r.raw = res->body;
    r.headers = res->headers;
    r.body = json::parse(res->body, nullptr, false);
    return r;
}

// The `data:` events of an SSE body; `done` says whether "data: [DONE]" ended it.
struct SseEvents {
    std::vector<json> events;
    bool done = false;
    bool well_formed = true;  // every event parsed as JSON and nothing followed [DONE]
};

inline SseEvents parse_sse(const std::string& body) {
    SseEvents out;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) {
            out.well_formed = false;
            break;
        }
        std::string event = body.substr(pos, end - pos);
        pos = end + 2;
        if (event.rfind("data: ", 0) != 0) {
            out.well_formed = false;
            continue;
        }
        std::string data = event.substr(6);
        if (data == "[DONE]") {
            out.done = true;
            if (pos != body.size()) out.well_formed = false;
            break;
        }
        json j = json::parse(data, nullptr, false);
        if (j.is_discarded()) out.well_formed = false;
        out.events.push_back(std::move(j));
    }
    return out;
}

inline SseEvents post_sse(httplib::Client& c, const std::string& path, json body,
                          std::string* content_type = nullptr) {
    body["stream"] = true;
    auto res = c.Post(path.c_str(), body.dump(), "application/json");
    if (!res)
        throw std::runtime_error("POST " + path + " failed: " + httplib::to_string(res.error()));
    if (res->status != 200)
        throw std::runtime_error("POST " + path + " answered " + std::to_string(res->status) +
                                 ": " + res->body);
    if (content_type) *content_type = res->get_header_value("Content-Type");
    return parse_sse(res->body);
}

// Concatenated text of one choice over completion (text) or chat (delta.content) chunks.
inline std::string streamed_text(const SseEvents& sse, int64_t index = 0) {
    std::string text;
    for (const auto& e : sse.events) {
        if (!e.contains("choices")) continue;
        for (const auto& c : e["choices"]) {
            if (c["index"] != index) continue;
            if (c.contains("text")) text += c["text"].get<std::string>();
            if (c.contains("delta") && c["delta"].contains("content") &&
                c["delta"]["content"].is_string())
                text += c["delta"]["content"].get<std::string>();
        }
    }
    return text;
}

}  // namespace folio::test
