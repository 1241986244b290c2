#pragma once
// Prometheus text-format metrics (exposition format 0.0.4): HTTP requests by endpoint and status,
// per-model request latency histograms, and the engines' own counters (EngineStats), each series
// labelled with model="<id>". Thread-safe.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace folio {
class Engine;
}

namespace folio::server {

class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    // Appends `name_bucket{labels,le=...}`, `name_sum{labels}` and `name_count{labels}` lines.
    void render(std::string& out, const std::string& name, const std::string& labels) const;

  private:
    std::vector<double> m_bounds;
    std::vector<uint64_t> m_counts;  // per bucket (not cumulative); last = +Inf
    double m_sum = 0.0;
    uint64_t m_count = 0;
};

class Metrics {
  public:
    void add_model(const std::string& model);
    // One finished HTTP request.
    void record_request(const std::string& path, int status);
    // One finished generation: time to first token and mean time per output token (seconds;
    // negative = unknown), and end-to-end latency.
    void record_generation(const std::string& model, double ttft_s, double tpot_s, double e2e_s);

    // The whole exposition text; `engines` gives each model's live EngineStats.
    std::string render(const std::vector<std::pair<std::string, std::shared_ptr<Engine>>>& engines);

  private:
    struct ModelSeries {
        Histogram ttft, tpot, e2e;
        ModelSeries();
    };
    std::mutex m_mutex;
    std::map<std::pair<std::string, int>, uint64_t> m_requests;  // (path, status) → count
    std::map<std::string, ModelSeries> m_models;
};

// Escapes a label value (backslash, quote, newline).
std::string escape_label(const std::string& value);

}  // namespace folio::server
