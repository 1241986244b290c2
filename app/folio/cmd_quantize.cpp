// folio quantize IN.gguf OUT.gguf TYPE [-t THREADS]
// Quantizes an F32/F16/BF16 model with llama.cpp's per-tensor mix for TYPE (case-insensitive).
// Progress goes to stderr (a bar on a terminal, one line per tensor otherwise); the summary to
// stdout. Ctrl-C stops cleanly: the output is written to OUT.tmp and only renamed at the end.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "cli_common.h"
#include "commands.h"
#include "model/model_quantizer.h"

namespace folio::cli {
namespace {

struct QuantizeFlags {
    std::string in, out, type;
    int threads = 0;
};

std::atomic<bool> g_cancel{false};

extern "C" void on_interrupt(int) {
    g_cancel.store(true);
}

// Installs SIGINT/SIGTERM handlers that request cancellation; restores the old ones on exit.
class InterruptScope {
  public:
    InterruptScope() {
        g_cancel.store(false);
        m_int = std::signal(SIGINT, on_interrupt);
        m_term = std::signal(SIGTERM, on_interrupt);
    }
    ~InterruptScope() {
        std::signal(SIGINT, m_int);
        std::signal(SIGTERM, m_term);
    }
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

  private:
    void (*m_int)(int) = SIG_DFL;
    void (*m_term)(int) = SIG_DFL;
};

std::string valid_types() {
    std::string s;
    for (QuantFtype f : all_quant_ftypes()) {
        if (!s.empty()) s += ", ";
        s += quant_ftype_name(f);
    }
    return s;
}

// Progress on stderr: a redrawn bar on a terminal, else one line per tensor.
class ProgressPrinter {
  public:
    ProgressPrinter() : m_tty(::isatty(STDERR_FILENO) == 1) {}
    ~ProgressPrinter() { finish(); }
    ProgressPrinter(const ProgressPrinter&) = delete;
    ProgressPrinter& operator=(const ProgressPrinter&) = delete;

    void update(const QuantizeProgress& p) {
        const std::string name(p.name);
        if (m_tty) {
            const double frac =
                p.bytes_total ? static_cast<double>(p.bytes_done) / p.bytes_total : 1.0;
            constexpr int kWidth = 30;
            const int filled = static_cast<int>(frac * kWidth);
            std::string bar(static_cast<size_t>(filled), '#');
            bar.resize(kWidth, ' ');
            std::fprintf(stderr, "\r[%s] %3d%% %zu/%zu %-32.32s %-6s", bar.c_str(),
                         static_cast<int>(frac * 100), p.tensor_index + 1, p.num_tensors,
                         name.c_str(), std::string(dtype_name(p.type)).c_str());
            m_drawn = true;
        } else if (p.tensor_index != m_last_index) {
            std::fprintf(stderr, "[%zu/%zu] %s -> %s\n", p.tensor_index + 1, p.num_tensors,
                         name.c_str(), std::string(dtype_name(p.type)).c_str());
        }
        m_last_index = p.tensor_index;
        std::fflush(stderr);
    }
    void finish() {
        if (m_drawn) std::fputc('\n', stderr);
        m_drawn = false;
    }

  private:
    bool m_tty;
    bool m_drawn = false;
    size_t m_last_index = static_cast<size_t>(-1);
};

void print_summary(const QuantizeFlags& f, QuantFtype ftype, const QuantizeResult& r, int threads) {
    std::map<std::string, int> by_type;
    int kept = 0;
    for (const auto& t : r.tensors) {
        if (t.from == t.to)
            ++kept;
        else
            ++by_type[std::string(dtype_name(t.to))];
    }
    std::string types;
    for (const auto& [name, count] : by_type)
        types += (types.empty() ? "" : ", ") + name + " " + std::to_string(count);
    const double bpw_in = r.num_weights ? r.tensor_bytes_in * 8.0 / r.num_weights : 0;
    std::printf("quantized %s -> %s (%s)\n", f.in.c_str(), f.out.c_str(),
                std::string(quant_ftype_name(ftype)).c_str());
    std::printf("  size:            %s -> %s (%.1f%%)\n",
                format_bytes(static_cast<int64_t>(r.file_bytes_in)).c_str(),
                format_bytes(static_cast<int64_t>(r.file_bytes_out)).c_str(),
                r.file_bytes_in ? 100.0 * r.file_bytes_out / r.file_bytes_in : 0.0);
    std::printf("  bits per weight: %.2f -> %.2f\n", bpw_in, r.bits_per_weight);
    std::printf("  tensors:         %zu (%s; %d kept, %d fallbacks)\n", r.tensors.size(),
                types.empty() ? "none quantized" : types.c_str(), kept, r.num_fallbacks);
    std::printf("  error vs source: %.3e relative RMS over all weights\n", r.relative_rms_error);
    std::printf("  time:            %.2f s (%d threads)\n", r.seconds, threads);
    std::fflush(stdout);
}

void run_quantize(const QuantizeFlags& f) {
    const auto ftype = parse_quant_ftype(f.type);
    if (!ftype)
        throw CliError("unknown quantization type '" + f.type + "' (valid: " + valid_types() + ")");
    if (f.threads < 0) throw CliError("--threads must be positive");
    QuantizeOptions opts;
    opts.ftype = *ftype;
    opts.num_threads = f.threads;
    opts.cancel = &g_cancel;
    ProgressPrinter printer;
    opts.progress = [&printer](const QuantizeProgress& p) { printer.update(p); };
    InterruptScope interrupts;
    const QuantizeResult r = quantize_model(f.in, f.out, opts);
    printer.finish();
    const int threads = f.threads > 0
                            ? f.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    print_summary(f, *ftype, r, threads);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
    auto flags = std::make_shared<QuantizeFlags>();
    auto* cmd = app.add_subcommand(
        "quantize", "Quantize an F32/F16/BF16 GGUF model (llama.cpp's per-tensor mixes)");
    cmd->add_option("input", flags->in, "source model (F32, F16 or BF16)")->required();
    cmd->add_option("output", flags->out, "quantized model to write (replaced atomically)")
        ->required();
    cmd->add_option("type", flags->type, "quantization type: " + valid_types())->required();
    cmd->add_option("-t,--threads", flags->threads, "worker threads (default: all cores)");
    cmd->callback([flags] { run_quantize(*flags); });
}

}  // namespace folio::cli
