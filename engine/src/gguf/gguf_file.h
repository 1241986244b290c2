#pragma once
// Read-only, memory-mapped GGUF (v2 and v3) file: metadata key/values and tensor infos, validated
// on open. Tensor data pointers point into the mapping and live as long as the GgufFile.
// Thread-safe for concurrent reads after open.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tensor/dtype.h"

namespace folio::gguf {

// Thrown on any malformed file. what() reads
// "<file>: <message> (offset <n>, <field>)" so a user can locate the problem.
class GgufError : public std::runtime_error {
  public:
    GgufError(const std::string& file, uint64_t offset, const std::string& field,
              const std::string& message);
    uint64_t offset() const { return m_offset; }
    const std::string& field() const { return m_field; }

  private:
    uint64_t m_offset;
    std::string m_field;
};

enum class ValueType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};
std::string_view value_type_name(ValueType t);

// An array value. Scalars are kept packed in the mapping (read them with the accessors);
// strings are views into the mapping.
struct ArrayValue {
    ValueType elem_type;
    uint64_t count;
    const uint8_t* data;                    // first element (for non-string scalars)
    std::vector<std::string_view> strings;  // filled when elem_type == STRING
    // Nested arrays (ARRAY of ARRAY) are allowed by the format and kept here.
    std::vector<ArrayValue> arrays;
};

struct Value {
    ValueType type;
    std::variant<uint64_t, int64_t, double, bool, std::string_view, ArrayValue> v;
};

// Element i of an array as a Value (unsigned ints as uint64_t, signed as int64_t, floats as
// double). Precondition: i < a.count.
Value array_element(const ArrayValue& a, uint64_t i);

struct Metadatum {
    std::string_view key;
    Value value;
    uint64_t offset;  // file offset of the key, for error messages
};

struct TensorInfo {
    std::string_view name;
    DType type;
    int n_dims;
    std::array<int64_t, 4> ne;  // ne[0] is the contiguous (row) dimension; unused dims are 1
    uint64_t offset;            // relative to the data section
    uint64_t nbytes;
    const uint8_t* data;  // into the mapping
    int64_t num_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
  public:
    // Maps and validates the whole header: magic, version (2 or 3), every metadata value,
    // tensor infos (known type, dims, sizes without overflow, aligned, in bounds,
    // non-overlapping). Throws GgufError.
    static std::unique_ptr<GgufFile> open(const std::filesystem::path& path);
    // Same checks over a caller-owned buffer (used by the fuzzer and tests).
    static std::unique_ptr<GgufFile> from_memory(const uint8_t* data, size_t size,
                                                 std::string name = "<memory>");
    // Parses only the header from the first `size` bytes of a `total_file_size`-byte file (a
    // remote file read by HTTP range): tensor data is bounds-checked against total_file_size;
    // TensorInfo::data is nullptr for tensors past the buffer. Throws GgufError "truncated file"
    // when the buffer ends inside the header (read more and retry).
    static std::unique_ptr<GgufFile> parse_header(const uint8_t* data, size_t size,
                                                  uint64_t total_file_size,
                                                  std::string name = "<memory>");
    ~GgufFile();
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;

    const std::string& path() const { return m_path; }
    uint32_t version() const { return m_version; }
    uint64_t alignment() const { return m_alignment; }
    uint64_t data_offset() const { return m_data_offset; }
    size_t size() const { return m_size; }

    const std::vector<Metadatum>& metadata() const { return m_metadata; }
    const Metadatum* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed getters. nullopt when the key is absent; GgufError naming the key when present with
    // an incompatible type. get_int accepts any integer type (range-checked into int64),
    // get_float accepts F32/F64 and integers.
    std::optional<std::string_view> get_string(std::string_view key) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    // Required variants: GgufError "missing required key" when absent.
    std::string_view require_string(std::string_view key) const;
    int64_t require_int(std::string_view key) const;
    double require_float(std::string_view key) const;
    // Arrays; nullopt when absent, GgufError on element-type mismatch.
    std::optional<std::vector<std::string_view>> get_string_array(std::string_view key) const;
    std::optional<std::vector<float>> get_f32_array(std::string_view key) const;    // F32/F64 elems
    std::optional<std::vector<int64_t>> get_int_array(std::string_view key) const;  // any int elem
    // Human-readable rendering of a value (arrays abbreviated), for `folio info`.
    static std::string format_value(const Value& v, size_t max_items = 8);

    const std::vector<TensorInfo>& tensors() const { return m_tensors; }
    const TensorInfo* find_tensor(std::string_view name) const;

    // Throws GgufError when data_offset + offset + nbytes of `t` is not inside the file
    // (always true after open; exposed for explicit checks).
    const uint8_t* tensor_data(const TensorInfo& t) const;

  private:
    GgufFile() = default;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::string m_path;
    uint32_t m_version = 0;
    uint64_t m_alignment = 32;
    uint64_t m_data_offset = 0;
    size_t m_size = 0;
    std::vector<Metadatum> m_metadata;
    std::vector<TensorInfo> m_tensors;
};

}  // namespace folio::gguf
