#include "server/metrics.h"

#include <cstdio>

#include "folio/engine.h"

namespace folio::server {

namespace {
std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return buf;
}
void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}
}  // namespace

std::string escape_label(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

Histogram::Histogram(std::vector<double> bounds)
    : m_bounds(std::move(bounds)), m_counts(m_bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
    size_t i = 0;
    while (i < m_bounds.size() && value > m_bounds[i]) ++i;
    ++m_counts[i];
    m_sum += value;
    ++m_count;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= m_bounds.size(); ++i) {
        cumulative += m_counts[i];
        out += name + "_bucket{" + labels + ",le=\"" +
               (i < m_bounds.size() ? num(m_bounds[i]) : std::string("+Inf")) + "\"} " +
               std::to_string(cumulative) + "\n";
    }
    out += name + "_sum{" + labels + "} " + num(m_sum) + "\n";
    out += name + "_count{" + labels + "} " + std::to_string(m_count) + "\n";
}

Metrics::ModelSeries::ModelSeries()
    : ttft({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
            10.0, 20.0, 40.0, 80.0}),
      tpot({0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5}),
      e2e({0.01, 0.05, 0.1, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0}) {}

void Metrics::add_model(const std::string& model) {
    std::lock_guard lock(m_mutex);
    m_models.try_emplace(model);
}

void Metrics::record_request(const std::string& path, int status) {
    std::lock_guard lock(m_mutex);
    ++m_requests[{path, status}];
}

void Metrics::record_generation(const std::string& model, double ttft_s, double tpot_s,
                                double e2e_s) {
    std::lock_guard lock(m_mutex);
    ModelSeries& s = m_models[model];
    if (ttft_s >= 0) s.ttft.observe(ttft_s);
    if (tpot_s >= 0) s.tpot.observe(tpot_s);
    if (e2e_s >= 0) s.e2e.observe(e2e_s);
}

std::string Metrics::render(
    const std::vector<std::pair<std::string, std::shared_ptr<Engine>>>& engines) {
    std::string out;
    std::vector<std::pair<std::string, EngineStats>> stats;
    for (const auto& [id, engine] : engines) stats.emplace_back(id, engine->stats());
    auto label = [](const std::string& model) { return "model=\"" + escape_label(model) + "\""; };

    std::lock_guard lock(m_mutex);
    header(out, "folio_http_requests_total", "counter",
           "HTTP requests answered, by path and status.");
    for (const auto& [key, count] : m_requests)
        out += "folio_http_requests_total{path=\"" + escape_label(key.first) + "\",status=\"" +
               std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";

    auto engine_series = [&](const char* name, const char* type, const char* help, auto get) {
        header(out, name, type, help);
        for (const auto& [id, st] : stats)
            out += std::string(name) + "{" + label(id) + "} " + num(get(st)) + "\n";
    };
    engine_series("folio_prompt_tokens_total", "counter", "Prompt tokens computed.",
                  [](const EngineStats& s) { return double(s.prompt_tokens_total); });
    engine_series("folio_generation_tokens_total", "counter", "Tokens generated.",
                  [](const EngineStats& s) { return double(s.generation_tokens_total); });
    engine_series("folio_requests_finished_total", "counter", "Engine requests finished.",
                  [](const EngineStats& s) { return double(s.num_requests_finished); });
    engine_series("folio_num_requests_running", "gauge", "Sequences being computed.",
                  [](const EngineStats& s) { return double(s.num_running); });
    engine_series("folio_num_requests_waiting", "gauge", "Sequences waiting to be scheduled.",
                  [](const EngineStats& s) { return double(s.num_waiting); });
    engine_series("folio_kv_blocks_used", "gauge", "KV cache blocks held by live sequences.",
                  [](const EngineStats& s) { return double(s.kv_blocks_used); });
    engine_series("folio_kv_blocks_total", "gauge", "KV cache blocks in the pool.",
                  [](const EngineStats& s) { return double(s.kv_blocks_total); });
    engine_series(
        "folio_kv_cache_usage_ratio", "gauge", "Fraction of KV blocks in use.",
        [](const EngineStats& s) {
            return s.kv_blocks_total ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0;
        });
    engine_series("folio_prefix_cache_queries_total", "counter",
                  "Prompt tokens looked up in the prefix cache.",
                  [](const EngineStats& s) { return double(s.prefix_cache_queries); });
    engine_series("folio_prefix_cache_hits_total", "counter",
                  "Prompt tokens found in the prefix cache.",
                  [](const EngineStats& s) { return double(s.prefix_cache_hits); });
    engine_series("folio_num_preemptions_total", "counter", "Sequences preempted.",
                  [](const EngineStats& s) { return double(s.num_preemptions); });

    header(out, "folio_time_to_first_token_seconds", "histogram",
           "Time from arrival to the first generated token.");
    for (const auto& [id, s] : m_models)
        s.ttft.render(out, "folio_time_to_first_token_seconds", label(id));
    header(out, "folio_time_per_output_token_seconds", "histogram",
           "Mean time per generated token after the first.");
    for (const auto& [id, s] : m_models)
        s.tpot.render(out, "folio_time_per_output_token_seconds", label(id));
    header(out, "folio_e2e_request_latency_seconds", "histogram",
           "Time from arrival to the last output of a generation.");
    for (const auto& [id, s] : m_models)
        s.e2e.render(out, "folio_e2e_request_latency_seconds", label(id));
    return out;
}

}  // namespace folio::server
