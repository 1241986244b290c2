// Validating parser for GGUF v2/v3 images. Every count read from the file is bounded by the bytes
// that remain before anything is reserved, so a hostile file cannot make us allocate much more
// than a small multiple of its own size.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "gguf/gguf_internal.h"

namespace folio::gguf::detail {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF reader assumes little-endian");

// Smallest possible encodings, used to bound counts by the remaining bytes.
// A key/value: key length, 1-byte key, type, u8 value.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
// A tensor info: name length, 1-byte name, n_dims, one dim, type, offset.
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
constexpr uint64_t kMinStringBytes = 8;
constexpr uint64_t kMinArrayBytes = 4 + 8;
constexpr uint32_t kMaxDims = 4;

std::string quoted(std::string_view s) {
    return cat("'", printable(s), "'");
}

class Parser {
  public:
    Parser(const uint8_t* data, size_t size, const std::string& name, uint64_t declared_size)
        : m_data(data),
          m_size(size),
          m_file_size(std::max<uint64_t>(size, declared_size)),
          m_name(name) {}

    ParsedGguf run() {
        read_header();
        read_metadata();
        read_alignment();
        read_tensor_infos();
        place_tensors();
        return std::move(m_out);
    }

  private:
    [[noreturn]] void fail(uint64_t offset, const std::string& field,
                           const std::string& msg) const {
        throw GgufError(m_name, offset, field, msg);
    }

    uint64_t remaining() const { return m_size - m_pos; }

    void need(uint64_t n, std::string_view what, const std::string& field) const {
        if (n > remaining()) {
            fail(m_pos, field,
                 cat("truncated file: expected ", n, " bytes for ", what, ", ", remaining(),
                     " remaining"));
        }
    }

    template <class T>
    T read(std::string_view what, const std::string& field) {
        need(sizeof(T), what, field);
        T v;
        std::memcpy(&v, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v;
    }

    std::string_view read_string(std::string_view what, const std::string& field) {
        const uint64_t at = m_pos;
        const auto len = read<uint64_t>(what, field);
        if (len > remaining()) {
            fail(at, field,
                 cat("truncated file: ", what, " length ", len, " exceeds remaining ", remaining(),
                     " bytes"));
        }
        std::string_view s(reinterpret_cast<const char*>(m_data + m_pos), len);
        m_pos += len;
        return s;
    }

    // Reads a count of elements that each take at least `min_bytes`, rejecting counts the rest of
    // the file cannot hold.
    uint64_t read_count(std::string_view what, uint64_t min_bytes, const std::string& field) {
        const uint64_t at = m_pos;
        const auto n = read<uint64_t>(what, field);
        if (n > remaining() / min_bytes) {
            fail(at, field,
                 cat("truncated file: ", what, " ", n, " exceeds what the remaining ", remaining(),
                     " bytes can hold"));
        }
        return n;
    }

    ValueType read_type(std::string_view what, const std::string& field) {
        const uint64_t at = m_pos;
        const auto raw = read<uint32_t>(what, field);
        if (!is_valid_value_type(raw)) {
            fail(at, field, cat("unknown ", what, " ", raw));
        }
        return static_cast<ValueType>(raw);
    }

    void read_header() {
        need(4, "magic", "magic");
        if (std::memcmp(m_data, kMagic, 4) != 0) {
            std::string_view magic(reinterpret_cast<const char*>(m_data), 4);
            fail(0, "magic", cat("bad magic ", quoted(magic), ", not a GGUF file"));
        }
        m_pos = 4;
        const auto version = read<uint32_t>("version", "version");
        if (version != 2 && version != 3) {
            const uint32_t swapped = __builtin_bswap32(version);
            if (swapped == 2 || swapped == 3) {
                fail(4, "version", "big-endian GGUF files are not supported");
            }
            fail(4, "version", cat("unsupported GGUF version ", version, " (supported: 2, 3)"));
        }
        m_out.version = version;
        m_num_tensors = read<uint64_t>("tensor count", "tensor count");  // checked after metadata
        m_num_kv = read_count("metadata count", kMinKvBytes, "metadata count");
    }

    Value read_value(ValueType type, const std::string& field, int depth) {
        switch (type) {
            case ValueType::U8:
                return {type, uint64_t{read<uint8_t>("u8 value", field)}};
            case ValueType::U16:
                return {type, uint64_t{read<uint16_t>("u16 value", field)}};
            case ValueType::U32:
                return {type, uint64_t{read<uint32_t>("u32 value", field)}};
            case ValueType::U64:
                return {type, read<uint64_t>("u64 value", field)};
            case ValueType::I8:
                return {type, int64_t{read<int8_t>("i8 value", field)}};
            case ValueType::I16:
                return {type, int64_t{read<int16_t>("i16 value", field)}};
            case ValueType::I32:
                return {type, int64_t{read<int32_t>("i32 value", field)}};
            case ValueType::I64:
                return {type, read<int64_t>("i64 value", field)};
            case ValueType::F32:
                return {type, double{read<float>("f32 value", field)}};
            case ValueType::F64:
                return {type, read<double>("f64 value", field)};
            case ValueType::BOOL:
                return {type, read<uint8_t>("bool value", field) != 0};
            case ValueType::STRING:
                return {type, read_string("string", field)};
            case ValueType::ARRAY:
                return {type, read_array(field, depth + 1)};
        }
        fail(m_pos, field, "unknown value type");
    }

    ArrayValue read_array(const std::string& field, int depth) {
        ArrayValue a{};
        const uint64_t type_at = m_pos;
        a.elem_type = read_type("array element type", field);
        if (a.elem_type == ValueType::ARRAY && depth >= kMaxArrayDepth) {
            fail(type_at, field, cat("arrays nested deeper than ", kMaxArrayDepth, " levels"));
        }
        const size_t elem_size = value_type_size(a.elem_type);
        const uint64_t min_bytes = a.elem_type == ValueType::STRING  ? kMinStringBytes
                                   : a.elem_type == ValueType::ARRAY ? kMinArrayBytes
                                                                     : elem_size;
        const std::string what = cat(value_type_name(a.elem_type), " array count");
        a.count = read_count(what, min_bytes, field);
        a.data = m_data + m_pos;
        if (a.elem_type == ValueType::STRING) {
            a.strings.reserve(a.count);
            for (uint64_t i = 0; i < a.count; ++i) {
                a.strings.push_back(read_string("array string", field));
            }
        } else if (a.elem_type == ValueType::ARRAY) {
            a.arrays.reserve(a.count);
            for (uint64_t i = 0; i < a.count; ++i) a.arrays.push_back(read_array(field, depth + 1));
        } else {
            m_pos += a.count * elem_size;  // bounded by read_count
        }
        return a;
    }

    void read_metadata() {
        m_out.metadata.reserve(m_num_kv);
        std::unordered_map<std::string_view, uint64_t> seen;
        seen.reserve(m_num_kv);
        for (uint64_t i = 0; i < m_num_kv; ++i) {
            const uint64_t at = m_pos;
            const std::string index_field = cat("metadata key #", i);
            const std::string_view key = read_string("key", index_field);
            if (key.empty()) fail(at, index_field, "empty metadata key");
            const std::string field = cat("key ", quoted(key));
            if (auto [it, inserted] = seen.emplace(key, at); !inserted) {
                fail(at, field,
                     cat("duplicate key ", quoted(key), " (first at offset ", it->second, ")"));
            }
            const ValueType type = read_type("value type", field);
            m_out.metadata.push_back(Metadatum{key, read_value(type, field, 0), at});
        }
    }

    void read_alignment() {
        for (const Metadatum& md : m_out.metadata) {
            if (md.key != kAlignmentKey) continue;
            const std::string field = cat("key ", quoted(md.key));
            uint64_t alignment = 0;
            if (const auto* u = std::get_if<uint64_t>(&md.value.v)) {
                alignment = *u;
            } else if (const auto* s = std::get_if<int64_t>(&md.value.v)) {
                alignment = *s > 0 ? static_cast<uint64_t>(*s) : 0;
            } else {
                fail(md.offset, field,
                     cat("alignment has type ", value_type_name(md.value.type),
                         ", expected an unsigned integer"));
            }
            if (!std::has_single_bit(alignment)) {
                fail(md.offset, field,
                     cat("alignment ", GgufFile::format_value(md.value),
                         " is not a nonzero power of two"));
            }
            m_out.alignment = alignment;
        }
    }

    std::string dims_text(const std::array<int64_t, 4>& ne, int n_dims) const {
        std::string s = "[";
        for (int d = 0; d < n_dims; ++d) s += cat(d ? ", " : "", ne[d]);
        return s + "]";
    }

    void read_tensor_info(uint64_t index, std::unordered_map<std::string_view, uint64_t>& seen) {
        const uint64_t at = m_pos;
        const std::string index_field = cat("tensor #", index);
        TensorInfo t{};
        t.name = read_string("tensor name", index_field);
        if (t.name.empty()) fail(at, index_field, "empty tensor name");
        const std::string field = cat("tensor ", quoted(t.name));
        if (auto [it, inserted] = seen.emplace(t.name, at); !inserted) {
            fail(at, field,
                 cat("duplicate tensor name ", quoted(t.name), " (first at offset ", it->second,
                     ")"));
        }

        const uint64_t dims_at = m_pos;
        const auto n_dims = read<uint32_t>("n_dims", cat(field, " n_dims"));
        if (n_dims < 1 || n_dims > kMaxDims) {
            fail(dims_at, cat(field, " n_dims"), cat("n_dims ", n_dims, " out of range 1..4"));
        }
        t.n_dims = static_cast<int>(n_dims);
        t.ne = {1, 1, 1, 1};
        int64_t num_elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t dim_at = m_pos;
            const std::string dim_field = cat(field, " ne[", d, "]");
            const auto ne = read<uint64_t>("dimension", dim_field);
            if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                fail(dim_at, dim_field, cat("dimension ", ne, " is too large"));
            }
            t.ne[d] = static_cast<int64_t>(ne);
            if (__builtin_mul_overflow(num_elements, t.ne[d], &num_elements)) {
                fail(dims_at, cat(field, " dims"),
                     cat("element count of shape ", dims_text(t.ne, d + 1), " overflows int64"));
            }
        }

        const uint64_t type_at = m_pos;
        const auto raw_type = read<uint32_t>("tensor type", cat(field, " type"));
        if (!dtype_is_known(raw_type)) {
            fail(type_at, cat(field, " type"), cat("unknown tensor type ", raw_type));
        }
        t.type = static_cast<DType>(raw_type);
        const DTypeTraits& traits = dtype_traits(t.type);
        if (t.ne[0] % traits.block_size != 0) {
            fail(dims_at, cat(field, " ne[0]"),
                 cat("row length ", t.ne[0], " is not a multiple of the ", traits.name,
                     " block size ", traits.block_size));
        }
        uint64_t nbytes = 0;
        const uint64_t blocks = static_cast<uint64_t>(t.ne[0] / traits.block_size);
        bool overflow = __builtin_mul_overflow(blocks, uint64_t{traits.type_size}, &nbytes);
        for (int d = 1; d < 4 && !overflow; ++d) {
            overflow = __builtin_mul_overflow(nbytes, static_cast<uint64_t>(t.ne[d]), &nbytes);
        }
        if (overflow) {
            fail(dims_at, cat(field, " dims"),
                 cat("byte size of ", traits.name, " ", dims_text(t.ne, t.n_dims), " overflows"));
        }
        t.nbytes = nbytes;

        m_tensor_offset_at.push_back(m_pos);
        t.offset = read<uint64_t>("tensor data offset", cat(field, " offset"));
        if (t.offset % m_out.alignment != 0) {
            fail(m_tensor_offset_at.back(), cat(field, " offset"),
                 cat("data offset ", t.offset, " is not a multiple of the alignment ",
                     m_out.alignment));
        }
        m_out.tensors.push_back(t);
    }

    void read_tensor_infos() {
        if (m_num_tensors > remaining() / kMinTensorInfoBytes) {
            fail(8, "tensor count",
                 cat("truncated file: tensor count ", m_num_tensors, " exceeds what the remaining ",
                     remaining(), " bytes can hold"));
        }
        m_out.tensors.reserve(m_num_tensors);
        m_tensor_offset_at.reserve(m_num_tensors);
        std::unordered_map<std::string_view, uint64_t> seen;
        seen.reserve(m_num_tensors);
        for (uint64_t i = 0; i < m_num_tensors; ++i) read_tensor_info(i, seen);
    }

    // Checks every tensor's data lies inside the data section and no two overlap, then sets the
    // data pointers.
    void place_tensors() {
        const uint64_t a = m_out.alignment;
        uint64_t data_offset = 0;
        if (__builtin_add_overflow(m_pos, a - 1, &data_offset)) {
            fail(m_pos, "data section", "alignment padding overflows");
        }
        data_offset -= data_offset % a;
        m_out.data_offset = data_offset;
        auto& tensors = m_out.tensors;
        if (!tensors.empty() && data_offset > m_file_size) {
            fail(m_pos, "data section",
                 cat("truncated file: data section starts at ", data_offset,
                     ", past the end of the ", m_file_size, "-byte file"));
        }
        const uint64_t data_size = data_offset <= m_file_size ? m_file_size - data_offset : 0;
        for (size_t i = 0; i < tensors.size(); ++i) {
            const TensorInfo& t = tensors[i];
            if (t.offset > data_size || t.nbytes > data_size - t.offset) {
                fail(m_tensor_offset_at[i], cat("tensor ", quoted(t.name), " offset"),
                     cat("tensor data [", t.offset, ", ", t.offset + t.nbytes,
                         ") lies outside the data section of ", data_size, " bytes at offset ",
                         data_offset, " (truncated file or bad offset)"));
            }
        }

        std::vector<size_t> order(tensors.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(),
                  [&](size_t x, size_t y) { return tensors[x].offset < tensors[y].offset; });
        uint64_t max_end = 0;
        size_t max_end_index = 0;
        for (size_t i : order) {
            const TensorInfo& t = tensors[i];
            if (t.nbytes == 0) continue;
            if (t.offset < max_end) {
                fail(m_tensor_offset_at[i], cat("tensor ", quoted(t.name), " offset"),
                     cat("tensor data overlaps tensor ", quoted(tensors[max_end_index].name)));
            }
            max_end = t.offset + t.nbytes;
            max_end_index = i;
        }
        for (TensorInfo& t : tensors) {
            const bool in_image = data_offset + t.offset + t.nbytes <= m_size;
            t.data = in_image ? m_data + data_offset + t.offset : nullptr;
        }
    }

    const uint8_t* m_data;
    size_t m_size;
    uint64_t m_file_size;  // >= m_size; larger when parsing a header prefix
    const std::string& m_name;
    uint64_t m_pos = 0;
    uint64_t m_num_tensors = 0;
    uint64_t m_num_kv = 0;
    std::vector<uint64_t> m_tensor_offset_at;  // file offset of each tensor's offset field
    ParsedGguf m_out;
};

}  // namespace

ParsedGguf parse_gguf(const uint8_t* data, size_t size, const std::string& name,
                      uint64_t declared_size) {
    return Parser(data, size, name, declared_size).run();
}

}  // namespace folio::gguf::detail
