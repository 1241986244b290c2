#pragma once
// Builds a GGUF file in memory (metadata in insertion order, tensors in insertion order, each
// tensor's data aligned and padded to the file's alignment) and writes it atomically.
// Misuse (bad dims, wrong data size, duplicate tensor, bad alignment) throws std::invalid_argument;
// I/O failures throw std::system_error.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"

namespace folio::gguf {

class GgufWriter {
  public:
    explicit GgufWriter(uint32_t version = 3);  // 2 or 3

    // Setting an existing key replaces its value in place (the key keeps its position).
    void set_u8(std::string_view key, uint8_t v);
    void set_i8(std::string_view key, int8_t v);
    void set_u16(std::string_view key, uint16_t v);
    void set_i16(std::string_view key, int16_t v);
    void set_u32(std::string_view key, uint32_t v);
    void set_i32(std::string_view key, int32_t v);
    void set_u64(std::string_view key, uint64_t v);
    void set_i64(std::string_view key, int64_t v);
    void set_f32(std::string_view key, float v);
    void set_f64(std::string_view key, double v);
    void set_bool(std::string_view key, bool v);
    void set_string(std::string_view key, std::string_view v);

    void set_array(std::string_view key, std::span<const uint8_t> v);
    void set_array(std::string_view key, std::span<const int8_t> v);
    void set_array(std::string_view key, std::span<const uint16_t> v);
    void set_array(std::string_view key, std::span<const int16_t> v);
    void set_array(std::string_view key, std::span<const uint32_t> v);
    void set_array(std::string_view key, std::span<const int32_t> v);
    void set_array(std::string_view key, std::span<const uint64_t> v);
    void set_array(std::string_view key, std::span<const int64_t> v);
    void set_array(std::string_view key, std::span<const float> v);
    void set_array(std::string_view key, std::span<const double> v);
    void set_bool_array(std::string_view key, const std::vector<bool>& v);
    void set_string_array(std::string_view key, std::span<const std::string> v);
    void set_string_array(std::string_view key, std::span<const std::string_view> v);
    // Any value, nested arrays included (e.g. one read from a GgufFile). For arrays, `count` must
    // match strings.size() / arrays.size() for STRING / ARRAY elements, else `data` holds them.
    void set_value(std::string_view key, const Value& v);

    // Copies every key of `file` except those `skip` returns true for.
    void copy_metadata_from(const GgufFile& file,
                            const std::function<bool(std::string_view key)>& skip = {});
    bool has(std::string_view key) const;
    void remove(std::string_view key);
    size_t num_keys() const { return m_entries.size(); }

    // Also sets `general.alignment` (u32). Must be a nonzero power of two; default 32.
    void set_alignment(uint32_t alignment);
    uint64_t alignment() const { return m_alignment; }

    // ne: 1..4 dims, ne[0] contiguous and a multiple of the type's block size; data.size() must
    // equal the tensor's byte size. add_tensor copies the data; add_tensor_ref only points at it,
    // so it must stay alive until the last write()/to_bytes().
    void add_tensor(std::string_view name, DType type, std::span<const int64_t> ne,
                    std::span<const uint8_t> data);
    void add_tensor_ref(std::string_view name, DType type, std::span<const int64_t> ne,
                        std::span<const uint8_t> data);
    size_t num_tensors() const { return m_tensors.size(); }

    std::vector<uint8_t> to_bytes() const;
    // Writes path + ".tmp", fsyncs it and renames it over `path`.
    void write(const std::filesystem::path& path) const;

  private:
    struct Entry {
        std::string key;
        ValueType type;
        std::vector<uint8_t> payload;  // encoded value, without the type tag
    };
    struct Tensor {
        std::string name;
        DType type;
        std::vector<int64_t> ne;
        std::vector<uint8_t> owned;
        std::span<const uint8_t> data;
    };

    void put(std::string_view key, ValueType type, std::vector<uint8_t> payload);
    template <class T>
    void put_scalar(std::string_view key, ValueType type, T v);
    template <class T>
    void put_array(std::string_view key, ValueType elem_type, std::span<const T> v);
    Tensor& add_tensor_info(std::string_view name, DType type, std::span<const int64_t> ne,
                            size_t data_size);
    // Everything before the first tensor's data, padding included.
    std::vector<uint8_t> header_bytes() const;

    uint32_t m_version;
    uint64_t m_alignment = 32;
    std::vector<Entry> m_entries;
    std::vector<Tensor> m_tensors;
};

}  // namespace folio::gguf
