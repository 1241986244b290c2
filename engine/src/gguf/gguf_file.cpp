#include "gguf/gguf_file.h"

#include <limits>
#include <unordered_map>

#include "gguf/gguf_internal.h"
#include "gguf/mapped_file.h"

namespace folio::gguf {

struct GgufFile::Impl {
    std::unique_ptr<MappedFile> mapping;  // null for from_memory
    const uint8_t* base = nullptr;        // start of the image
    std::unordered_map<std::string_view, size_t> key_index;
    std::unordered_map<std::string_view, size_t> tensor_index;
};

namespace {

std::string key_field(std::string_view key) {
    return detail::cat("key '", detail::printable(key), "'");
}

[[noreturn]] void type_mismatch(const std::string& file, const Metadatum& md,
                                std::string_view expected) {
    throw GgufError(file, md.offset, key_field(md.key),
                    detail::cat("key '", detail::printable(md.key), "' has type ",
                                value_type_name(md.value.type), ", expected ", expected));
}

// An integer value as int64, or a GgufError naming the key when it does not fit.
int64_t to_int64(const std::string& file, const Metadatum& md, const Value& v) {
    if (const auto* s = std::get_if<int64_t>(&v.v)) return *s;
    const uint64_t u = std::get<uint64_t>(v.v);
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw GgufError(file, md.offset, key_field(md.key),
                        detail::cat("value ", u, " of key '", detail::printable(md.key),
                                    "' does not fit in int64"));
    }
    return static_cast<int64_t>(u);
}

const ArrayValue* array_of(const std::string& file, const Metadatum* md) {
    if (!md) return nullptr;
    if (md->value.type != ValueType::ARRAY) type_mismatch(file, *md, "arr");
    return &std::get<ArrayValue>(md->value.v);
}

[[noreturn]] void elem_mismatch(const std::string& file, const Metadatum& md, const ArrayValue& a,
                                std::string_view expected) {
    type_mismatch(
        file, md,
        detail::cat("arr[", expected, "] (found arr[", value_type_name(a.elem_type), "])"));
}

}  // namespace

std::unique_ptr<GgufFile> GgufFile::open(const std::filesystem::path& path) {
    auto mapping = std::make_unique<MappedFile>(path);
    auto file = from_memory(mapping->data(), mapping->size(), path.string());
    file->m_impl->mapping = std::move(mapping);
    return file;
}

std::unique_ptr<GgufFile> GgufFile::from_memory(const uint8_t* data, size_t size,
                                                std::string name) {
    return parse_header(data, size, size, std::move(name));
}

std::unique_ptr<GgufFile> GgufFile::parse_header(const uint8_t* data, size_t size,
                                                 uint64_t total_file_size, std::string name) {
    detail::ParsedGguf parsed = detail::parse_gguf(data, size, name, total_file_size);
    std::unique_ptr<GgufFile> file(new GgufFile());
    file->m_impl = std::make_unique<Impl>();
    file->m_path = std::move(name);
    file->m_version = parsed.version;
    file->m_alignment = parsed.alignment;
    file->m_data_offset = parsed.data_offset;
    file->m_size = size;
    file->m_metadata = std::move(parsed.metadata);
    file->m_tensors = std::move(parsed.tensors);
    auto& impl = *file->m_impl;
    impl.base = data;
    impl.key_index.reserve(file->m_metadata.size());
    for (size_t i = 0; i < file->m_metadata.size(); ++i) {
        impl.key_index.emplace(file->m_metadata[i].key, i);
    }
    impl.tensor_index.reserve(file->m_tensors.size());
    for (size_t i = 0; i < file->m_tensors.size(); ++i) {
        impl.tensor_index.emplace(file->m_tensors[i].name, i);
    }
    return file;
}

GgufFile::~GgufFile() = default;

const Metadatum* GgufFile::find(std::string_view key) const {
    auto it = m_impl->key_index.find(key);
    return it == m_impl->key_index.end() ? nullptr : &m_metadata[it->second];
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    auto it = m_impl->tensor_index.find(name);
    return it == m_impl->tensor_index.end() ? nullptr : &m_tensors[it->second];
}

const uint8_t* GgufFile::tensor_data(const TensorInfo& t) const {
    const uint64_t data_size = m_data_offset <= m_size ? m_size - m_data_offset : 0;
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
        throw GgufError(m_path, m_data_offset + t.offset,
                        detail::cat("tensor '", detail::printable(t.name), "'"),
                        "tensor data lies outside the file");
    }
    return m_impl->base + m_data_offset + t.offset;
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
    const Metadatum* md = find(key);
    if (!md) return std::nullopt;
    if (md->value.type != ValueType::STRING) type_mismatch(m_path, *md, "str");
    return std::get<std::string_view>(md->value.v);
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
    const Metadatum* md = find(key);
    if (!md) return std::nullopt;
    if (!detail::is_integer_type(md->value.type)) type_mismatch(m_path, *md, "an integer");
    return to_int64(m_path, *md, md->value);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
    const Metadatum* md = find(key);
    if (!md) return std::nullopt;
    if (const auto* d = std::get_if<double>(&md->value.v)) return *d;
    if (const auto* u = std::get_if<uint64_t>(&md->value.v)) return static_cast<double>(*u);
    if (const auto* s = std::get_if<int64_t>(&md->value.v)) return static_cast<double>(*s);
    type_mismatch(m_path, *md, "a number");
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
    const Metadatum* md = find(key);
    if (!md) return std::nullopt;
    if (md->value.type != ValueType::BOOL) type_mismatch(m_path, *md, "bool");
    return std::get<bool>(md->value.v);
}

namespace {

[[noreturn]] void missing(const std::string& file, std::string_view key, std::string_view type) {
    throw GgufError(
        file, 0, key_field(key),
        detail::cat("missing required key '", detail::printable(key), "' (", type, ")"));
}

}  // namespace

std::string_view GgufFile::require_string(std::string_view key) const {
    if (auto v = get_string(key)) return *v;
    missing(m_path, key, "str");
}

int64_t GgufFile::require_int(std::string_view key) const {
    if (auto v = get_int(key)) return *v;
    missing(m_path, key, "integer");
}

double GgufFile::require_float(std::string_view key) const {
    if (auto v = get_float(key)) return *v;
    missing(m_path, key, "number");
}

std::optional<std::vector<std::string_view>> GgufFile::get_string_array(
    std::string_view key) const {
    const Metadatum* md = find(key);
    const ArrayValue* a = array_of(m_path, md);
    if (!a) return std::nullopt;
    if (a->elem_type != ValueType::STRING) elem_mismatch(m_path, *md, *a, "str");
    return a->strings;
}

std::optional<std::vector<float>> GgufFile::get_f32_array(std::string_view key) const {
    const Metadatum* md = find(key);
    const ArrayValue* a = array_of(m_path, md);
    if (!a) return std::nullopt;
    if (a->elem_type != ValueType::F32 && a->elem_type != ValueType::F64) {
        elem_mismatch(m_path, *md, *a, "f32");
    }
    std::vector<float> out(a->count);
    for (uint64_t i = 0; i < a->count; ++i) {
        out[i] = static_cast<float>(std::get<double>(array_element(*a, i).v));
    }
    return out;
}

std::optional<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
    const Metadatum* md = find(key);
    const ArrayValue* a = array_of(m_path, md);
    if (!a) return std::nullopt;
    if (!detail::is_integer_type(a->elem_type)) elem_mismatch(m_path, *md, *a, "int");
    std::vector<int64_t> out(a->count);
    for (uint64_t i = 0; i < a->count; ++i) out[i] = to_int64(m_path, *md, array_element(*a, i));
    return out;
}

}  // namespace folio::gguf
