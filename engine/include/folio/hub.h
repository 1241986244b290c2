#pragma once
// folio::hub — a Hugging Face compatible model hub client (libcurl): search, file lists with
// sizes and sha256, ranged reads (remote GGUF headers) and downloads.
//
// Configuration comes from the environment like huggingface_hub's: HF_ENDPOINT (a mirror),
// HF_TOKEN (gated repos), HF_HUB_OFFLINE=1 (no network: every call fails with Offline).
// Errors throw HubError with a message a user can act on ("repo not found", "this repo is
// gated: set HF_TOKEN", "cannot reach https://...: timeout").
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace folio::hub {

struct HubConfig {
    std::string endpoint = "https://huggingface.co";  // no trailing slash
    std::string token;                                // Bearer token; empty: anonymous
    bool offline = false;
    long connect_timeout_s = 15;
    long low_speed_timeout_s = 30;  // abort a transfer slower than 1 byte/s for this long

    // Defaults overridden by HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE.
    static HubConfig from_env();
};

class HubError : public std::runtime_error {
  public:
    enum class Kind { Network, NotFound, Unauthorized, Offline, BadResponse, RangeNotSatisfiable };
    HubError(Kind kind, int http_status, const std::string& message)
        : std::runtime_error(message), m_kind(kind), m_http_status(http_status) {}
    Kind kind() const { return m_kind; }
    int http_status() const { return m_http_status; }  // 0 when no HTTP answer
    // Worth retrying with backoff (connection reset, timeout, 5xx, 429).
    bool transient() const;

  private:
    Kind m_kind;
    int m_http_status;
};

struct RepoSummary {
    std::string id;  // "owner/name"
    int64_t downloads = 0;
    int64_t likes = 0;
    std::string last_modified;  // ISO 8601 as the hub sends it; may be empty
};

struct RepoFile {
    std::string path;    // path inside the repo
    int64_t size = 0;    // bytes
    std::string sha256;  // hex, from the LFS pointer; empty when the hub does not say
};

// ---- Hub client ---------------------------------------------------------------------------

class HubClient {
  public:
    explicit HubClient(HubConfig config);
    const HubConfig& config() const { return m_config; }

    // GET {endpoint}/api/models?search=Q&filter=gguf&sort=downloads&direction=-1&limit=N:
    // GGUF repos matching `query`, most downloaded first.
    std::vector<RepoSummary> search(const std::string& query, int limit = 20) const;
    // GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=true: every file (subfolders
    // included) with its size (lfs.size, else size) and sha256 (lfs.oid; empty for non-LFS),
    // sorted by path. Follows the `Link: <...>; rel="next"` pages the hub splits long trees into.
    std::vector<RepoFile> list_files(const std::string& repo,
                                     const std::string& revision = "main") const;
    // {endpoint}/{repo}/resolve/{revision}/{path} (path segments percent-encoded).
    std::string file_url(const std::string& repo, const std::string& revision,
                         const std::string& path) const;
    // Bytes [offset, offset + length) of a file (HTTP Range, redirects followed). Shorter only
    // at the end of the file.
    std::string read_range(const std::string& repo, const std::string& revision,
                           const std::string& path, int64_t offset, int64_t length) const;

  private:
    HubConfig m_config;
};

// Splits "owner/name@rev" into repo and revision ("main" when absent).
std::pair<std::string, std::string> split_repo_revision(const std::string& spec);

// ---- Quantization choices -----------------------------------------------------------------

// The quantization named in a GGUF file name, upper-case and canonical ("Q4_K_M", "IQ4_XS",
// "F16", "BF16", "Q8_0"), from names such as "Model-Q4_K_M.gguf", "model.q4_k_m.gguf",
// "Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf" or "Q4_K_M/model-00001-of-00002.gguf" (the folder).
// Empty when none is recognised.
std::string quant_from_filename(const std::string& path);
// Nominal bits per weight of a quantization (llama.cpp's figures for a 7B model: Q4_K_M 4.89,
// Q8_0 8.5, F16 16); orders quality. 0 when unknown.
double quant_bits_per_weight(const std::string& quant);

// Part number and count of a split GGUF ("name-00001-of-00003.gguf" → {1, 3}); {0, 0} otherwise.
std::pair<int, int> gguf_split_part(const std::string& path);

// One downloadable model variant: a single GGUF or all parts of a split one.
struct QuantOption {
    std::string quant;            // quant_from_filename; "unknown" when not recognised
    std::string name;             // first file's path without the -0000k-of-0000n part suffix
    double bits_per_weight = 0;   // quant_bits_per_weight
    std::vector<RepoFile> files;  // in part order; files[0] carries the header
    int64_t total_size = 0;       // sum of the parts
    bool complete = true;         // false when a part of a split model is missing
};

// Groups a repo's GGUF files into options (non-GGUF files and mmproj-* projectors ignored),
// best quality (highest bits per weight) first.
std::vector<QuantOption> group_quant_options(const std::vector<RepoFile>& files);

// ---- Remote GGUF header -------------------------------------------------------------------

// What a GGUF header tells before a download. Counts are 0 when the header does not say.
struct RemoteGgufInfo {
    std::string path;          // file the header came from (part 1 of a split model)
    std::string architecture;  // general.architecture
    std::string name;          // general.name; may be empty
    std::string weight_type;   // from general.file_type ("Q4_K_M"), else the dominant tensor type
    int64_t parameter_count = 0;  // sum of tensor elements over all parts read
    int64_t context_length = 0;
    int64_t n_layer = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;  // the largest value when the header gives one per layer
    int64_t n_embd = 0;
    int64_t n_ff = 0;      // the largest value when the header gives one per layer
    int64_t head_dim = 0;  // attention.key_length, else n_embd / n_head
    int64_t n_vocab = 0;   // vocab_size, else the tokenizer's token count
    int64_t tensor_count = 0;
    int64_t header_bytes = 0;  // bytes fetched from part 1 to parse its header
    int64_t file_size = 0;     // total over all parts
};

// Reads the header of `option` over HTTP ranges: the first 1 MiB of part 1, doubling (fetching
// only the new bytes) until the header parses; then the tensor infos of any further parts for
// the parameter count. Throws HubError (network) or std::runtime_error (not a GGUF).
RemoteGgufInfo read_remote_gguf_header(const HubClient& client, const std::string& repo,
                                       const std::string& revision, const QuantOption& option);

// The model's shape for a repo's options: the header of the first complete option that reads,
// trying at most `max_attempts` of them. Options whose header failed are marked, with one
// warning each ("cannot read the GGUF header of FILE: reason"); `header` stays empty when none
// could be read. Network errors other than a bad header propagate as HubError.
struct ProbedHeaders {
    std::optional<RemoteGgufInfo> header;
    std::vector<bool> failed;  // per option
    std::vector<std::string> warnings;
};
ProbedHeaders probe_option_headers(const HubClient& client, const std::string& repo,
                                   const std::string& revision,
                                   const std::vector<QuantOption>& options, int max_attempts = 3);

// ---- Memory-fit estimate ------------------------------------------------------------------

enum class Fit { Fits, Tight, DoesNotFit };
std::string_view fit_name(Fit fit);  // "fits", "tight", "does not fit"

// Estimated resident memory to run a model at `context_length`:
//   weights = file size (all parts; the weights are mapped and resident)
//   kv      = 2 (K and V) × n_layer × ctx × n_head_kv × head_dim × 2 bytes (f16)
//   runtime = activations of a 2048-token batch in f32:
//               4 × 2048 × (4·n_embd + 2·n_ff + (n_head + 2·n_head_kv)·head_dim)
//             + f32 logits for 64 sequences: 4 × 64 × n_vocab
//   total   = weights + kv + runtime
// Fit against available memory: Fits when total ≤ 80% of it, Tight when ≤ 100%, else DoesNotFit.
struct MemoryEstimate {
    int64_t context_length = 0;
    int64_t weights_bytes = 0;
    int64_t kv_cache_bytes = 0;
    int64_t runtime_bytes = 0;
    int64_t total_bytes = 0;
    int64_t available_bytes = 0;
    Fit fit = Fit::DoesNotFit;
    // The arithmetic with this model's numbers, several lines (for --verbose).
    std::string explain() const;
    // Inputs kept for explain().
    RemoteGgufInfo shape;
};

inline constexpr int64_t kRuntimeBatchTokens = 2048;
inline constexpr int64_t kRuntimeLogitRows = 64;

MemoryEstimate estimate_memory(const RemoteGgufInfo& shape, int64_t weights_bytes,
                               int64_t context_length, int64_t available_bytes);

// MemAvailable from /proc/meminfo in bytes (FOLIO_MEM_AVAILABLE, in bytes, overrides it: a test
// hook). `meminfo_path` lets tests read a fake file. Returns 0 when unknown.
int64_t available_memory_bytes(const std::string& meminfo_path = "/proc/meminfo");

// The best-quality option (options are ordered best first) whose estimate fits, else the best
// one that is tight; -1 when none fits. `estimates` parallel to `options`.
int recommend_option(const std::vector<QuantOption>& options,
                     const std::vector<MemoryEstimate>& estimates);

}  // namespace folio::hub
