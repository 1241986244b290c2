// Metadata value types: names, sizes, element access and human-readable rendering.
#include <charconv>
#include <cstring>

#include "common/check.h"
#include "gguf/gguf_internal.h"

namespace folio::gguf {
namespace {

// Strings longer than this are cut in format_value (their full length is shown).
constexpr size_t kMaxShownStringBytes = 80;

template <class T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

template <class T>
std::string shortest(T v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

std::string format_string(std::string_view s) {
    if (s.size() <= kMaxShownStringBytes)
        return detail::cat("\"", detail::printable(s, s.size()), "\"");
    size_t cut = kMaxShownStringBytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 start
    return detail::cat("\"", detail::printable(s.substr(0, cut), cut), "...\" (", s.size(),
                       " bytes)");
}

std::string format_array(const ArrayValue& a, size_t max_items) {
    std::string out = "[";
    const uint64_t shown = std::min<uint64_t>(a.count, max_items);
    for (uint64_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        out += GgufFile::format_value(array_element(a, i), max_items);
    }
    if (shown < a.count) out += detail::cat(shown ? ", ... " : "... ", a.count, " items");
    return out + "]";
}

}  // namespace

GgufError::GgufError(const std::string& file, uint64_t offset, const std::string& field,
                     const std::string& message)
    : std::runtime_error(detail::cat(file, ": ", message, " (offset ", offset, ", ", field, ")")),
      m_offset(offset),
      m_field(field) {}

std::string_view value_type_name(ValueType t) {
    switch (t) {
        case ValueType::U8:
            return "u8";
        case ValueType::I8:
            return "i8";
        case ValueType::U16:
            return "u16";
        case ValueType::I16:
            return "i16";
        case ValueType::U32:
            return "u32";
        case ValueType::I32:
            return "i32";
        case ValueType::F32:
            return "f32";
        case ValueType::BOOL:
            return "bool";
        case ValueType::STRING:
            return "str";
        case ValueType::ARRAY:
            return "arr";
        case ValueType::U64:
            return "u64";
        case ValueType::I64:
            return "i64";
        case ValueType::F64:
            return "f64";
    }
    return "unknown";
}

Value array_element(const ArrayValue& a, uint64_t i) {
    FOLIO_CHECK(i < a.count);
    const ValueType t = a.elem_type;
    if (t == ValueType::STRING) return {t, a.strings[i]};
    if (t == ValueType::ARRAY) return {t, a.arrays[i]};
    const uint8_t* p = a.data + i * detail::value_type_size(t);
    switch (t) {
        case ValueType::U8:
            return {t, uint64_t{load<uint8_t>(p)}};
        case ValueType::U16:
            return {t, uint64_t{load<uint16_t>(p)}};
        case ValueType::U32:
            return {t, uint64_t{load<uint32_t>(p)}};
        case ValueType::U64:
            return {t, load<uint64_t>(p)};
        case ValueType::I8:
            return {t, int64_t{load<int8_t>(p)}};
        case ValueType::I16:
            return {t, int64_t{load<int16_t>(p)}};
        case ValueType::I32:
            return {t, int64_t{load<int32_t>(p)}};
        case ValueType::I64:
            return {t, load<int64_t>(p)};
        case ValueType::F32:
            return {t, double{load<float>(p)}};
        case ValueType::F64:
            return {t, load<double>(p)};
        case ValueType::BOOL:
            return {t, load<uint8_t>(p) != 0};
        default:
            break;
    }
    FOLIO_CHECK(false && "array of an unknown type");
    return {};
}

std::string GgufFile::format_value(const Value& v, size_t max_items) {
    switch (v.type) {
        case ValueType::U8:
        case ValueType::U16:
        case ValueType::U32:
        case ValueType::U64:
            return std::to_string(std::get<uint64_t>(v.v));
        case ValueType::I8:
        case ValueType::I16:
        case ValueType::I32:
        case ValueType::I64:
            return std::to_string(std::get<int64_t>(v.v));
        case ValueType::F32:
            return shortest(static_cast<float>(std::get<double>(v.v)));
        case ValueType::F64:
            return shortest(std::get<double>(v.v));
        case ValueType::BOOL:
            return std::get<bool>(v.v) ? "true" : "false";
        case ValueType::STRING:
            return format_string(std::get<std::string_view>(v.v));
        case ValueType::ARRAY:
            return format_array(std::get<ArrayValue>(v.v), max_items);
    }
    return "?";
}

namespace detail {

bool is_valid_value_type(uint32_t raw) {
    return raw <= static_cast<uint32_t>(ValueType::F64);
}

bool is_integer_type(ValueType t) {
    switch (t) {
        case ValueType::U8:
        case ValueType::I8:
        case ValueType::U16:
        case ValueType::I16:
        case ValueType::U32:
        case ValueType::I32:
        case ValueType::U64:
        case ValueType::I64:
            return true;
        default:
            return false;
    }
}

size_t value_type_size(ValueType t) {
    switch (t) {
        case ValueType::U8:
        case ValueType::I8:
        case ValueType::BOOL:
            return 1;
        case ValueType::U16:
        case ValueType::I16:
            return 2;
        case ValueType::U32:
        case ValueType::I32:
        case ValueType::F32:
            return 4;
        case ValueType::U64:
        case ValueType::I64:
        case ValueType::F64:
            return 8;
        case ValueType::STRING:
        case ValueType::ARRAY:
            return 0;
    }
    return 0;
}

std::string printable(std::string_view s, size_t max_bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::min(s.size(), max_bytes) + 8);
    for (size_t i = 0; i < s.size() && i < max_bytes; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\x";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    if (s.size() > max_bytes) out += "...";
    return out;
}

}  // namespace detail
}  // namespace folio::gguf
