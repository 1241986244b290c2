// Quantization names parsed from GGUF file names, and the grouping of a repo's files (split
// parts included) into downloadable options.
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include "folio/hub.h"

namespace folio::hub {
namespace {

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool ends_with_ci(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && upper(s.substr(s.size() - suffix.size())) == upper(suffix);
}

std::string basename_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "dir/name-00001-of-00003.gguf" → {"dir/name", 1, 3}; otherwise {"dir/name", 0, 0}.
struct SplitName {
    std::string stem;
    int part = 0;
    int count = 0;
};

SplitName split_name(const std::string& path) {
    static const std::regex kSplit(R"(^(.*)-(\d{5})-of-(\d{5})\.gguf$)", std::regex::icase);
    std::smatch m;
    if (std::regex_match(path, m, kSplit)) {
        return {m[1].str(), std::stoi(m[2].str()), std::stoi(m[3].str())};
    }
    std::string stem = path;
    if (ends_with_ci(stem, ".gguf")) stem.resize(stem.size() - 5);
    return {stem, 0, 0};
}

// The last quantization token in `text` (already upper-case), canonicalised; "" when none.
std::string find_quant(const std::string& text) {
    static const std::regex kQuant(
        R"((?:^|[-._ /])(IQ[1-4]_(?:XXS|XS|NL|S|M)|Q[2-8]_K(?:_(?:XL|S|M|L))?|Q[4-8]_[01](?:_[48]_[48])?)"
        R"(|TQ[12]_0|MXFP4(?:_MOE)?|BF16|FP16|F16|FP32|F32)(?=$|[-._ /]))");
    std::string found;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kQuant);
         it != std::sregex_iterator(); ++it) {
        found = (*it)[1].str();
    }
    if (found == "FP16") return "F16";
    if (found == "FP32") return "F32";
    // llama.cpp's aliases: Q3_K, Q4_K and Q5_K mean the _M mixes.
    if (found == "Q3_K" || found == "Q4_K" || found == "Q5_K") return found + "_M";
    return found;
}

}  // namespace

std::string quant_from_filename(const std::string& path) {
    const std::string stem = split_name(path).stem;
    if (std::string q = find_quant(upper(basename_of(stem))); !q.empty()) return q;
    // Folder names, innermost first ("Q4_K_M/model-00001-of-00002.gguf").
    std::string dir = upper(stem);
    for (size_t slash = dir.rfind('/'); slash != std::string::npos; slash = dir.rfind('/')) {
        dir.resize(slash);
        if (std::string q = find_quant(basename_of(dir)); !q.empty()) return q;
    }
    return {};
}

double quant_bits_per_weight(const std::string& quant) {
    // llama.cpp's quantize table (bits per weight for a 7B model).
    static const std::map<std::string, double> kBpw = {
        {"F32", 32.0},    {"F16", 16.0},     {"BF16", 16.0},    {"Q8_0", 8.5},
        {"Q6_K", 6.56},   {"Q5_K_L", 5.8},   {"Q5_K_XL", 5.8},  {"Q5_1", 6.0},
        {"Q5_K_M", 5.69}, {"Q5_K_S", 5.54},  {"Q5_0", 5.5},     {"Q4_1", 5.0},
        {"Q4_K_L", 5.0},  {"Q4_K_XL", 5.0},  {"Q4_K_M", 4.89},  {"Q4_K_S", 4.58},
        {"Q4_0", 4.5},    {"Q4_0_4_4", 4.5}, {"Q4_0_4_8", 4.5}, {"Q4_0_8_8", 4.5},
        {"IQ4_NL", 4.5},  {"IQ4_XS", 4.25},  {"MXFP4", 4.25},   {"MXFP4_MOE", 4.25},
        {"Q3_K_XL", 4.4}, {"Q3_K_L", 4.27},  {"Q3_K_M", 3.91},  {"IQ3_M", 3.66},
        {"Q3_K_S", 3.5},  {"IQ3_S", 3.44},   {"IQ3_XS", 3.3},   {"IQ3_XXS", 3.06},
        {"Q2_K_L", 3.1},  {"Q2_K_XL", 3.1},  {"Q2_K", 2.96},    {"Q2_K_S", 2.7},
        {"IQ2_M", 2.7},   {"IQ2_S", 2.5},    {"IQ2_XS", 2.31},  {"IQ2_XXS", 2.06},
        {"TQ2_0", 2.06},  {"IQ1_M", 1.75},   {"TQ1_0", 1.69},   {"IQ1_S", 1.56},
    };
    auto it = kBpw.find(upper(quant));
    return it == kBpw.end() ? 0.0 : it->second;
}

std::pair<int, int> gguf_split_part(const std::string& path) {
    const SplitName s = split_name(path);
    return {s.part, s.count};
}

std::vector<QuantOption> group_quant_options(const std::vector<RepoFile>& files) {
    std::map<std::string, QuantOption> by_stem;
    std::map<std::string, int> declared_parts;
    for (const RepoFile& f : files) {
        if (!ends_with_ci(f.path, ".gguf")) continue;
        if (upper(basename_of(f.path)).rfind("MMPROJ", 0) == 0) continue;  // vision projectors
        const SplitName s = split_name(f.path);
        QuantOption& o = by_stem[s.stem];
        o.name = s.stem;
        o.files.push_back(f);
        o.total_size += f.size;
        declared_parts[s.stem] = std::max(declared_parts[s.stem], s.count);
    }
    std::vector<QuantOption> out;
    for (auto& [stem, o] : by_stem) {
        std::sort(o.files.begin(), o.files.end(), [](const RepoFile& a, const RepoFile& b) {
            return split_name(a.path).part < split_name(b.path).part;
        });
        const int count = declared_parts[stem];
        if (count > 0) {
            o.complete = static_cast<int>(o.files.size()) == count;
            for (size_t i = 0; i < o.files.size() && o.complete; ++i) {
                o.complete = split_name(o.files[i].path).part == static_cast<int>(i) + 1;
            }
        }
        o.quant = quant_from_filename(o.files.front().path);
        o.bits_per_weight = quant_bits_per_weight(o.quant);
        if (o.quant.empty()) o.quant = "unknown";
        out.push_back(std::move(o));
    }
    std::stable_sort(out.begin(), out.end(), [](const QuantOption& a, const QuantOption& b) {
        if (a.bits_per_weight != b.bits_per_weight) return a.bits_per_weight > b.bits_per_weight;
        return a.name < b.name;
    });
    return out;
}

}  // namespace folio::hub
