// Memory-fit estimate for a model at a context length (formula in folio/hub.h).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "folio/hub.h"

namespace folio::hub {
namespace {

std::string mib(int64_t bytes) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

}  // namespace

std::string_view fit_name(Fit fit) {
    switch (fit) {
        case Fit::Fits:
            return "fits";
        case Fit::Tight:
            return "tight";
        case Fit::DoesNotFit:
            break;
    }
    return "does not fit";
}

MemoryEstimate estimate_memory(const RemoteGgufInfo& shape, int64_t weights_bytes,
                               int64_t context_length, int64_t available_bytes) {
    MemoryEstimate e;
    e.shape = shape;
    e.context_length = context_length;
    e.weights_bytes = weights_bytes;
    e.kv_cache_bytes = 2 * shape.n_layer * context_length * shape.n_head_kv * shape.head_dim * 2;
    const int64_t per_token =
        4 * shape.n_embd + 2 * shape.n_ff + (shape.n_head + 2 * shape.n_head_kv) * shape.head_dim;
    e.runtime_bytes = 4 * kRuntimeBatchTokens * per_token + 4 * kRuntimeLogitRows * shape.n_vocab;
    e.total_bytes = e.weights_bytes + e.kv_cache_bytes + e.runtime_bytes;
    e.available_bytes = available_bytes;
    // Integer comparisons: total ≤ 0.8 × available  ⇔  5 × total ≤ 4 × available.
    if (available_bytes > 0 && 5 * e.total_bytes <= 4 * available_bytes) {
        e.fit = Fit::Fits;
    } else if (available_bytes > 0 && e.total_bytes <= available_bytes) {
        e.fit = Fit::Tight;
    } else {
        e.fit = Fit::DoesNotFit;
    }
    return e;
}

std::string MemoryEstimate::explain() const {
    const RemoteGgufInfo& s = shape;
    std::ostringstream o;
    o << "  weights = file size = " << weights_bytes << " B (" << mib(weights_bytes) << ")\n";
    o << "  kv      = 2 x n_layer x ctx x n_head_kv x head_dim x 2 B = 2 x " << s.n_layer << " x "
      << context_length << " x " << s.n_head_kv << " x " << s.head_dim
      << " x 2 = " << kv_cache_bytes << " B (" << mib(kv_cache_bytes) << ")\n";
    o << "  runtime = 4 B x " << kRuntimeBatchTokens
      << " x (4 x n_embd + 2 x n_ff + (n_head + 2 x n_head_kv) x head_dim) + 4 B x "
      << kRuntimeLogitRows << " x n_vocab\n"
      << "          = 4 x " << kRuntimeBatchTokens << " x (4 x " << s.n_embd << " + 2 x " << s.n_ff
      << " + (" << s.n_head << " + 2 x " << s.n_head_kv << ") x " << s.head_dim << ") + 4 x "
      << kRuntimeLogitRows << " x " << s.n_vocab << " = " << runtime_bytes << " B ("
      << mib(runtime_bytes) << ")\n";
    o << "  total   = " << total_bytes << " B (" << mib(total_bytes) << ") vs available "
      << available_bytes << " B (" << mib(available_bytes) << "): " << fit_name(fit)
      << " (fits <= 80%, tight <= 100%)\n";
    return o.str();
}

int64_t available_memory_bytes(const std::string& meminfo_path) {
    if (const char* v = std::getenv("FOLIO_MEM_AVAILABLE"); v && *v) {
        char* end = nullptr;
        const long long n = std::strtoll(v, &end, 10);
        if (end && *end == '\0' && n > 0) return n;
    }
    std::ifstream in(meminfo_path);
    std::string key;
    long long value = 0;
    std::string unit;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        if (!(ls >> key >> value)) continue;
        if (key == "MemAvailable:") {
            ls >> unit;
            return unit == "kB" ? value * 1024 : value;
        }
    }
    return 0;
}

int recommend_option(const std::vector<QuantOption>& options,
                     const std::vector<MemoryEstimate>& estimates) {
    int tight = -1;
    for (size_t i = 0; i < options.size() && i < estimates.size(); ++i) {
        if (!options[i].complete) continue;
        if (estimates[i].fit == Fit::Fits) return static_cast<int>(i);
        if (estimates[i].fit == Fit::Tight && tight < 0) tight = static_cast<int>(i);
    }
    return tight;
}

}  // namespace folio::hub
