#pragma once
// Helpers shared by the GGUF reader and writer; not part of the public GGUF API.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"

namespace folio::gguf::detail {

inline constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr const char* kAlignmentKey = "general.alignment";
// ARRAY of ARRAY of ... deeper than this is rejected (bounds recursion on hostile files).
inline constexpr int kMaxArrayDepth = 8;

bool is_valid_value_type(uint32_t raw);
bool is_integer_type(ValueType t);
// Bytes of one element of a fixed-size type; 0 for STRING and ARRAY.
size_t value_type_size(ValueType t);

// Concatenates strings and integers (error messages; avoids chains of std::string operator+).
inline void cat_one(std::string& out, std::string_view s) {
    out += s;
}
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void cat_one(std::string& out, T v) {
    out += std::to_string(v);
}
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (cat_one(out, parts), ...);
    return out;
}

// `s` with control bytes escaped and cut to `max_bytes`, for error messages and `folio info`.
std::string printable(std::string_view s, size_t max_bytes = 64);

// Parsed header of a GGUF image; string views and data pointers point into that image.
struct ParsedGguf {
    uint32_t version = 0;
    uint64_t alignment = kDefaultAlignment;
    uint64_t data_offset = 0;
    std::vector<Metadatum> metadata;
    std::vector<TensorInfo> tensors;
};

// Validates and parses a whole GGUF image. Throws GgufError naming `name`.
// `declared_size` > `size` parses a header prefix of a larger file: tensor data is bounds-checked
// against `declared_size`, and tensors whose data lies past `size` get data == nullptr.
ParsedGguf parse_gguf(const uint8_t* data, size_t size, const std::string& name,
                      uint64_t declared_size = 0);

}  // namespace folio::gguf::detail
