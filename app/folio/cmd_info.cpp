// `folio info MODEL`: the GGUF header of a model file, its metadata and its tensors.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_internal.h"

namespace folio::cli {
namespace {

using gguf::ArrayValue;
using gguf::GgufFile;
using gguf::Value;
using gguf::ValueType;

std::string human_bytes(uint64_t n) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    size_t unit = 0;
    while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
        v /= 1024.0;
        ++unit;
    }
    char buf[32];
    if (unit == 0) {
        std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
    } else {
        std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
    }
    return buf;
}

// "u32", "str", "arr[str,512]", "arr[arr[i32,2],3]".
std::string array_type(const ArrayValue& a) {
    std::string elem(gguf::value_type_name(a.elem_type));
    if (a.elem_type == ValueType::ARRAY && !a.arrays.empty()) elem = array_type(a.arrays.front());
    return gguf::detail::cat("arr[", elem, ",", a.count, "]");
}

std::string type_text(const Value& v) {
    if (v.type == ValueType::ARRAY) return array_type(std::get<ArrayValue>(v.v));
    return std::string(gguf::value_type_name(v.type));
}

std::string shape_text(const gguf::TensorInfo& t) {
    std::string s = "[";
    for (int d = 0; d < t.n_dims; ++d) s += gguf::detail::cat(d ? ", " : "", t.ne[d]);
    return s + "]";
}

void print_metadata(const GgufFile& file) {
    std::printf("metadata: %zu keys\n", file.metadata().size());
    size_t key_width = 0, type_width = 0;
    for (const auto& md : file.metadata()) {
        key_width = std::max(key_width, gguf::detail::printable(md.key, 200).size());
        type_width = std::max(type_width, type_text(md.value).size());
    }
    for (const auto& md : file.metadata()) {
        std::printf("  %-*s  %-*s  %s\n", static_cast<int>(key_width),
                    gguf::detail::printable(md.key, 200).c_str(), static_cast<int>(type_width),
                    type_text(md.value).c_str(), GgufFile::format_value(md.value).c_str());
    }
}

void print_tensors(const GgufFile& file) {
    struct TypeStats {
        size_t count = 0;
        uint64_t bytes = 0;
    };
    std::map<uint32_t, TypeStats> by_type;
    size_t name_width = 0;
    for (const auto& t : file.tensors()) {
        auto& s = by_type[static_cast<uint32_t>(t.type)];
        ++s.count;
        s.bytes += t.nbytes;
        name_width = std::max(name_width, gguf::detail::printable(t.name, 200).size());
    }
    std::printf("tensor types:\n");
    for (const auto& [raw, s] : by_type) {
        std::printf("  %s: %zu tensor%s, %s\n",
                    std::string(dtype_name(static_cast<DType>(raw))).c_str(), s.count,
                    s.count == 1 ? "" : "s", human_bytes(s.bytes).c_str());
    }
    std::printf("tensors:\n");
    for (const auto& t : file.tensors()) {
        std::printf("  %-*s  %-7s  %s\n", static_cast<int>(name_width),
                    gguf::detail::printable(t.name, 200).c_str(),
                    std::string(dtype_name(t.type)).c_str(), shape_text(t).c_str());
    }
}

void print_info(const std::string& path) {
    const auto file = GgufFile::open(path);
    std::printf("file: %s (%s)\n", path.c_str(), human_bytes(file->size()).c_str());
    std::printf("GGUF version: %u\n", file->version());
    std::printf("alignment: %llu, data offset: %llu\n",
                static_cast<unsigned long long>(file->alignment()),
                static_cast<unsigned long long>(file->data_offset()));
    std::printf("tensor count: %zu\n", file->tensors().size());
    print_metadata(*file);
    print_tensors(*file);
}

}  // namespace

void add_info_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "Show the metadata and tensors of a GGUF model file");
    auto path = std::make_shared<std::string>();
    cmd->add_option("MODEL", *path, "GGUF file")->required();
    cmd->callback([path] { print_info(*path); });
}

}  // namespace folio::cli
