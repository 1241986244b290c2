// Remote GGUF headers read with HTTP ranges, parsed by GgufFile::parse_header.
#include "hub/remote_gguf.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace folio::hub {
namespace {

constexpr int64_t kFirstRead = int64_t{1} << 20;
constexpr int64_t kMaxHeader = int64_t{512} << 20;

// An integer key, or the largest element when the header gives one value per layer; 0 when
// absent or not an integer.
int64_t int_or_max(const gguf::GgufFile& f, const std::string& key) {
    const gguf::Metadatum* md = f.find(key);
    if (!md) return 0;
    try {
        if (md->value.type == gguf::ValueType::ARRAY) {
            const auto v = f.get_int_array(key);
            return v && !v->empty() ? *std::max_element(v->begin(), v->end()) : 0;
        }
        return f.get_int(key).value_or(0);
    } catch (const gguf::GgufError&) {
        return 0;
    }
}

std::string string_or_empty(const gguf::GgufFile& f, const std::string& key) {
    try {
        return std::string(f.get_string(key).value_or(""));
    } catch (const gguf::GgufError&) {
        return {};
    }
}

// Reads bytes [0, n) of the file with the header, growing `buf` (fetching only new bytes).
void grow_to(const HubClient& client, const std::string& repo, const std::string& revision,
             const std::string& path, std::string& buf, int64_t n) {
    const int64_t have = static_cast<int64_t>(buf.size());
    if (n <= have) return;
    buf += client.read_range(repo, revision, path, have, n - have);
}

struct ParsedHeader {
    std::string bytes;  // the GgufFile's views point in here
    std::unique_ptr<gguf::GgufFile> file;
};

// Fetches the first MiB of `file` and doubles until its header parses.
ParsedHeader fetch_header(const HubClient& client, const std::string& repo,
                          const std::string& revision, const RepoFile& file) {
    ParsedHeader h;
    const int64_t total = file.size > 0 ? file.size : kMaxHeader;
    int64_t want = std::min(kFirstRead, total);
    for (;;) {
        grow_to(client, repo, revision, file.path, h.bytes, want);
        if (h.bytes.size() >= 4 && h.bytes.compare(0, 4, "GGUF") != 0) {
            throw std::runtime_error(repo + "/" + file.path + " is not a GGUF file (bad magic)");
        }
        const bool whole = static_cast<int64_t>(h.bytes.size()) < want ||
                           static_cast<int64_t>(h.bytes.size()) >= total;
        try {
            const uint64_t declared = file.size > 0 ? static_cast<uint64_t>(file.size)
                                                    : (whole ? h.bytes.size() : uint64_t{1} << 62);
            h.file = gguf::GgufFile::parse_header(reinterpret_cast<const uint8_t*>(h.bytes.data()),
                                                  h.bytes.size(), declared, repo + "/" + file.path);
            return h;
        } catch (const gguf::GgufError& e) {
            if (whole || want >= kMaxHeader) {
                throw std::runtime_error(std::string("cannot read the GGUF header of ") + e.what());
            }
        }
        want = std::min({want * 2, total, kMaxHeader});
    }
}

}  // namespace

std::string file_type_name(int64_t file_type) {
    static const std::map<int64_t, std::string> kNames = {
        {0, "F32"},      {1, "F16"},      {2, "Q4_0"},       {3, "Q4_1"},    {7, "Q8_0"},
        {8, "Q5_0"},     {9, "Q5_1"},     {10, "Q2_K"},      {11, "Q3_K_S"}, {12, "Q3_K_M"},
        {13, "Q3_K_L"},  {14, "Q4_K_S"},  {15, "Q4_K_M"},    {16, "Q5_K_S"}, {17, "Q5_K_M"},
        {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"},    {21, "Q2_K_S"}, {22, "IQ3_XS"},
        {23, "IQ3_XXS"}, {24, "IQ1_S"},   {25, "IQ4_NL"},    {26, "IQ3_S"},  {27, "IQ3_M"},
        {28, "IQ2_S"},   {29, "IQ2_M"},   {30, "IQ4_XS"},    {31, "IQ1_M"},  {32, "BF16"},
        {36, "TQ1_0"},   {37, "TQ2_0"},   {38, "MXFP4_MOE"},
    };
    auto it = kNames.find(file_type);
    return it == kNames.end() ? std::string() : it->second;
}

RemoteGgufInfo summarize_gguf(const gguf::GgufFile& f) {
    RemoteGgufInfo info;
    info.path = f.path();
    info.architecture = string_or_empty(f, "general.architecture");
    info.name = string_or_empty(f, "general.name");
    const std::string a = info.architecture + ".";
    info.context_length = int_or_max(f, a + "context_length");
    info.n_layer = int_or_max(f, a + "block_count");
    info.n_head = int_or_max(f, a + "attention.head_count");
    info.n_head_kv = int_or_max(f, a + "attention.head_count_kv");
    if (info.n_head_kv == 0) info.n_head_kv = info.n_head;
    info.n_embd = int_or_max(f, a + "embedding_length");
    info.n_ff = int_or_max(f, a + "feed_forward_length");
    info.head_dim = int_or_max(f, a + "attention.key_length");
    if (info.head_dim == 0 && info.n_head > 0) info.head_dim = info.n_embd / info.n_head;
    info.n_vocab = int_or_max(f, a + "vocab_size");
    if (info.n_vocab == 0) {
        if (const gguf::Metadatum* md = f.find("tokenizer.ggml.tokens");
            md && md->value.type == gguf::ValueType::ARRAY) {
            info.n_vocab = static_cast<int64_t>(std::get<gguf::ArrayValue>(md->value.v).count);
        }
    }
    if (const int64_t ft = int_or_max(f, "general.file_type"); f.has("general.file_type")) {
        info.weight_type = file_type_name(ft);
    }
    std::map<std::string, uint64_t> bytes_by_type;
    for (const gguf::TensorInfo& t : f.tensors()) {
        info.parameter_count += t.num_elements();
        bytes_by_type[std::string(dtype_name(t.type))] += t.nbytes;
    }
    info.tensor_count = static_cast<int64_t>(f.tensors().size());
    if (info.weight_type.empty() && !bytes_by_type.empty()) {
        auto best =
            std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                             [](const auto& x, const auto& y) { return x.second < y.second; });
        info.weight_type = best->first;
        for (char& c : info.weight_type)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return info;
}

RemoteGgufInfo read_remote_gguf_header(const HubClient& client, const std::string& repo,
                                       const std::string& revision, const QuantOption& option) {
    if (option.files.empty()) throw std::runtime_error("no GGUF file in option " + option.name);
    ParsedHeader first = fetch_header(client, repo, revision, option.files.front());
    RemoteGgufInfo info = summarize_gguf(*first.file);
    info.path = option.files.front().path;
    info.header_bytes = static_cast<int64_t>(first.bytes.size());
    info.file_size = option.total_size;
    for (size_t i = 1; i < option.files.size(); ++i) {
        ParsedHeader part = fetch_header(client, repo, revision, option.files[i]);
        for (const gguf::TensorInfo& t : part.file->tensors())
            info.parameter_count += t.num_elements();
        info.tensor_count += static_cast<int64_t>(part.file->tensors().size());
    }
    return info;
}

ProbedHeaders probe_option_headers(const HubClient& client, const std::string& repo,
                                   const std::string& revision,
                                   const std::vector<QuantOption>& options, int max_attempts) {
    ProbedHeaders out;
    out.failed.assign(options.size(), false);
    int attempts = 0;
    for (size_t i = 0; i < options.size() && !out.header && attempts < max_attempts; ++i) {
        if (!options[i].complete) continue;
        ++attempts;
        try {
            out.header = read_remote_gguf_header(client, repo, revision, options[i]);
        } catch (const std::exception& e) {
            out.failed[i] = true;
            std::string why = e.what();
            std::replace(why.begin(), why.end(), '\n', ' ');
            const std::string prefix = "cannot read the GGUF header of ";
            out.warnings.push_back(why.starts_with(prefix)
                                       ? why
                                       : prefix + options[i].files.front().path + ": " + why);
        }
    }
    return out;
}

}  // namespace folio::hub
