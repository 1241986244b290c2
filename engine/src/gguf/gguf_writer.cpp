#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "gguf/gguf_internal.h"
#include "gguf/unique_fd.h"

namespace folio::gguf {
namespace {

using Bytes = std::vector<uint8_t>;

void append_bytes(Bytes& out, const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = out.size();
    out.resize(at + n);
    std::memcpy(out.data() + at, p, n);
}

template <class T>
void append(Bytes& out, T v) {
    append_bytes(out, &v, sizeof(T));
}

void append_string(Bytes& out, std::string_view s) {
    append<uint64_t>(out, s.size());
    append_bytes(out, s.data(), s.size());
}

uint64_t align_up(uint64_t n, uint64_t alignment) {
    return (n + alignment - 1) / alignment * alignment;
}

template <class... Parts>
[[noreturn]] void invalid(const Parts&... parts) {
    throw std::invalid_argument(detail::cat("GgufWriter: ", parts...));
}

template <class T>
void append_checked(Bytes& out, uint64_t u, ValueType t) {
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        invalid("value ", u, " does not fit in ", value_type_name(t));
    }
    append<T>(out, static_cast<T>(u));
}

template <class T>
void append_checked(Bytes& out, int64_t s, ValueType t) {
    if (s < std::numeric_limits<T>::min() || s > std::numeric_limits<T>::max()) {
        invalid("value ", s, " does not fit in ", value_type_name(t));
    }
    append<T>(out, static_cast<T>(s));
}

void encode_array(Bytes& out, const ArrayValue& a);

// The value's bytes without its type tag.
void encode_value(Bytes& out, const Value& v) {
    const auto expect = [&](bool ok) {
        if (!ok) invalid("value of type ", value_type_name(v.type), " holds the wrong C++ type");
    };
    switch (v.type) {
        case ValueType::U8:
        case ValueType::U16:
        case ValueType::U32:
        case ValueType::U64: {
            expect(std::holds_alternative<uint64_t>(v.v));
            const uint64_t u = std::get<uint64_t>(v.v);
            if (v.type == ValueType::U8) append_checked<uint8_t>(out, u, v.type);
            if (v.type == ValueType::U16) append_checked<uint16_t>(out, u, v.type);
            if (v.type == ValueType::U32) append_checked<uint32_t>(out, u, v.type);
            if (v.type == ValueType::U64) append<uint64_t>(out, u);
            return;
        }
        case ValueType::I8:
        case ValueType::I16:
        case ValueType::I32:
        case ValueType::I64: {
            expect(std::holds_alternative<int64_t>(v.v));
            const int64_t s = std::get<int64_t>(v.v);
            if (v.type == ValueType::I8) append_checked<int8_t>(out, s, v.type);
            if (v.type == ValueType::I16) append_checked<int16_t>(out, s, v.type);
            if (v.type == ValueType::I32) append_checked<int32_t>(out, s, v.type);
            if (v.type == ValueType::I64) append<int64_t>(out, s);
            return;
        }
        case ValueType::F32:
            expect(std::holds_alternative<double>(v.v));
            return append<float>(out, static_cast<float>(std::get<double>(v.v)));
        case ValueType::F64:
            expect(std::holds_alternative<double>(v.v));
            return append<double>(out, std::get<double>(v.v));
        case ValueType::BOOL:
            expect(std::holds_alternative<bool>(v.v));
            return append<uint8_t>(out, std::get<bool>(v.v) ? 1 : 0);
        case ValueType::STRING:
            expect(std::holds_alternative<std::string_view>(v.v));
            return append_string(out, std::get<std::string_view>(v.v));
        case ValueType::ARRAY:
            expect(std::holds_alternative<ArrayValue>(v.v));
            return encode_array(out, std::get<ArrayValue>(v.v));
    }
    invalid("unknown value type ", static_cast<uint32_t>(v.type));
}

void encode_array(Bytes& out, const ArrayValue& a) {
    if (!detail::is_valid_value_type(static_cast<uint32_t>(a.elem_type))) {
        invalid("unknown array element type ", static_cast<uint32_t>(a.elem_type));
    }
    append<uint32_t>(out, static_cast<uint32_t>(a.elem_type));
    append<uint64_t>(out, a.count);
    if (a.elem_type == ValueType::STRING) {
        if (a.strings.size() != a.count) invalid("string array count does not match its strings");
        for (std::string_view s : a.strings) append_string(out, s);
    } else if (a.elem_type == ValueType::ARRAY) {
        if (a.arrays.size() != a.count) invalid("nested array count does not match its arrays");
        for (const ArrayValue& inner : a.arrays) encode_array(out, inner);
    } else if (a.count > 0) {
        if (!a.data) invalid("array without data");
        append_bytes(out, a.data, a.count * detail::value_type_size(a.elem_type));
    }
}

void write_all(int fd, const uint8_t* p, size_t n, const std::string& path) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            throw std::system_error(errno, std::generic_category(),
                                    detail::cat("cannot write ", path));
        p += w;
        n -= static_cast<size_t>(w);
    }
}

}  // namespace

GgufWriter::GgufWriter(uint32_t version) : m_version(version) {
    if (version != 2 && version != 3) invalid("unsupported GGUF version ", version);
}

void GgufWriter::put(std::string_view key, ValueType type, std::vector<uint8_t> payload) {
    if (key.empty()) invalid("empty metadata key");
    if (key == detail::kAlignmentKey) {
        if (!detail::is_integer_type(type)) invalid("general.alignment must be an integer");
        const Value v = array_element(ArrayValue{type, 1, payload.data(), {}, {}}, 0);
        uint64_t a = 0;
        if (const auto* u = std::get_if<uint64_t>(&v.v)) a = *u;
        if (const auto* i = std::get_if<int64_t>(&v.v)) a = *i > 0 ? static_cast<uint64_t>(*i) : 0;
        if (!std::has_single_bit(a)) invalid("alignment must be a nonzero power of two");
        m_alignment = a;
    }
    auto it = std::find_if(m_entries.begin(), m_entries.end(),
                           [&](const Entry& e) { return e.key == key; });
    if (it != m_entries.end()) {
        it->type = type;
        it->payload = std::move(payload);
    } else {
        m_entries.push_back(Entry{std::string(key), type, std::move(payload)});
    }
}

template <class T>
void GgufWriter::put_scalar(std::string_view key, ValueType type, T v) {
    Bytes payload;
    append<T>(payload, v);
    put(key, type, std::move(payload));
}

template <class T>
void GgufWriter::put_array(std::string_view key, ValueType elem_type, std::span<const T> v) {
    Bytes payload;
    append<uint32_t>(payload, static_cast<uint32_t>(elem_type));
    append<uint64_t>(payload, v.size());
    append_bytes(payload, v.data(), v.size_bytes());
    put(key, ValueType::ARRAY, std::move(payload));
}

void GgufWriter::set_u8(std::string_view key, uint8_t v) {
    put_scalar(key, ValueType::U8, v);
}
void GgufWriter::set_i8(std::string_view key, int8_t v) {
    put_scalar(key, ValueType::I8, v);
}
void GgufWriter::set_u16(std::string_view key, uint16_t v) {
    put_scalar(key, ValueType::U16, v);
}
void GgufWriter::set_i16(std::string_view key, int16_t v) {
    put_scalar(key, ValueType::I16, v);
}
void GgufWriter::set_u32(std::string_view key, uint32_t v) {
    put_scalar(key, ValueType::U32, v);
}
void GgufWriter::set_i32(std::string_view key, int32_t v) {
    put_scalar(key, ValueType::I32, v);
}
void GgufWriter::set_u64(std::string_view key, uint64_t v) {
    put_scalar(key, ValueType::U64, v);
}
void GgufWriter::set_i64(std::string_view key, int64_t v) {
    put_scalar(key, ValueType::I64, v);
}
void GgufWriter::set_f32(std::string_view key, float v) {
    put_scalar(key, ValueType::F32, v);
}
void GgufWriter::set_f64(std::string_view key, double v) {
    put_scalar(key, ValueType::F64, v);
}
void GgufWriter::set_bool(std::string_view key, bool v) {
    put_scalar<uint8_t>(key, ValueType::BOOL, v ? 1 : 0);
}
void GgufWriter::set_string(std::string_view key, std::string_view v) {
    Bytes payload;
    append_string(payload, v);
    put(key, ValueType::STRING, std::move(payload));
}

void GgufWriter::set_array(std::string_view key, std::span<const uint8_t> v) {
    put_array(key, ValueType::U8, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const int8_t> v) {
    put_array(key, ValueType::I8, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const uint16_t> v) {
    put_array(key, ValueType::U16, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const int16_t> v) {
    put_array(key, ValueType::I16, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const uint32_t> v) {
    put_array(key, ValueType::U32, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const int32_t> v) {
    put_array(key, ValueType::I32, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const uint64_t> v) {
    put_array(key, ValueType::U64, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const int64_t> v) {
    put_array(key, ValueType::I64, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const float> v) {
    put_array(key, ValueType::F32, v);
}
void GgufWriter::set_array(std::string_view key, std::span<const double> v) {
    put_array(key, ValueType::F64, v);
}

void GgufWriter::set_bool_array(std::string_view key, const std::vector<bool>& v) {
    std::vector<uint8_t> bytes(v.begin(), v.end());
    put_array(key, ValueType::BOOL, std::span<const uint8_t>(bytes));
}

void GgufWriter::set_string_array(std::string_view key, std::span<const std::string> v) {
    std::vector<std::string_view> views(v.begin(), v.end());
    set_string_array(key, std::span<const std::string_view>(views));
}

void GgufWriter::set_string_array(std::string_view key, std::span<const std::string_view> v) {
    Bytes payload;
    append<uint32_t>(payload, static_cast<uint32_t>(ValueType::STRING));
    append<uint64_t>(payload, v.size());
    for (std::string_view s : v) append_string(payload, s);
    put(key, ValueType::ARRAY, std::move(payload));
}

void GgufWriter::set_value(std::string_view key, const Value& v) {
    Bytes payload;
    encode_value(payload, v);
    put(key, v.type, std::move(payload));
}

void GgufWriter::copy_metadata_from(const GgufFile& file,
                                    const std::function<bool(std::string_view)>& skip) {
    for (const Metadatum& md : file.metadata()) {
        if (!skip || !skip(md.key)) set_value(md.key, md.value);
    }
}

bool GgufWriter::has(std::string_view key) const {
    return std::any_of(m_entries.begin(), m_entries.end(),
                       [&](const Entry& e) { return e.key == key; });
}

void GgufWriter::remove(std::string_view key) {
    std::erase_if(m_entries, [&](const Entry& e) { return e.key == key; });
    if (key == detail::kAlignmentKey) m_alignment = detail::kDefaultAlignment;
}

void GgufWriter::set_alignment(uint32_t alignment) {
    set_u32(detail::kAlignmentKey, alignment);
}

GgufWriter::Tensor& GgufWriter::add_tensor_info(std::string_view name, DType type,
                                                std::span<const int64_t> ne, size_t data_size) {
    const std::string label = detail::cat("tensor '", detail::printable(name), "': ");
    if (name.empty()) invalid("empty tensor name");
    if (std::any_of(m_tensors.begin(), m_tensors.end(),
                    [&](const Tensor& t) { return t.name == name; })) {
        invalid(label, "duplicate tensor name");
    }
    if (!dtype_is_known(static_cast<uint32_t>(type))) invalid(label, "unknown type");
    if (ne.empty() || ne.size() > 4) invalid(label, "needs 1 to 4 dims");
    const DTypeTraits& traits = dtype_traits(type);
    if (ne[0] < 0 || ne[0] % traits.block_size != 0) {
        invalid(label, "ne[0] must be a multiple of ", traits.block_size);
    }
    uint64_t nbytes = static_cast<uint64_t>(ne[0] / traits.block_size);
    bool overflow = __builtin_mul_overflow(nbytes, uint64_t{traits.type_size}, &nbytes);
    for (size_t d = 1; d < ne.size(); ++d) {
        if (ne[d] < 0) invalid(label, "negative dimension");
        overflow =
            overflow || __builtin_mul_overflow(nbytes, static_cast<uint64_t>(ne[d]), &nbytes);
    }
    if (overflow) invalid(label, "size overflows");
    if (nbytes != data_size) {
        invalid(label, data_size, " bytes given, ", nbytes, " needed");
    }
    m_tensors.push_back(
        Tensor{std::string(name), type, std::vector<int64_t>(ne.begin(), ne.end()), {}, {}});
    return m_tensors.back();
}

void GgufWriter::add_tensor(std::string_view name, DType type, std::span<const int64_t> ne,
                            std::span<const uint8_t> data) {
    Tensor& t = add_tensor_info(name, type, ne, data.size());
    t.owned.assign(data.begin(), data.end());
    t.data = t.owned;
}

void GgufWriter::add_tensor_ref(std::string_view name, DType type, std::span<const int64_t> ne,
                                std::span<const uint8_t> data) {
    add_tensor_info(name, type, ne, data.size()).data = data;
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
    Bytes out;
    append_bytes(out, detail::kMagic, 4);
    append<uint32_t>(out, m_version);
    append<uint64_t>(out, m_tensors.size());
    append<uint64_t>(out, m_entries.size());
    for (const Entry& e : m_entries) {
        append_string(out, e.key);
        append<uint32_t>(out, static_cast<uint32_t>(e.type));
        append_bytes(out, e.payload.data(), e.payload.size());
    }
    uint64_t offset = 0;
    for (const Tensor& t : m_tensors) {
        append_string(out, t.name);
        append<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
        for (int64_t n : t.ne) append<uint64_t>(out, static_cast<uint64_t>(n));
        append<uint32_t>(out, static_cast<uint32_t>(t.type));
        append<uint64_t>(out, offset);
        offset += align_up(t.data.size(), m_alignment);
    }
    // Like llama.cpp, a file without tensors ends right after its header.
    if (!m_tensors.empty()) out.resize(align_up(out.size(), m_alignment), 0);
    return out;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    Bytes out = header_bytes();
    for (const Tensor& t : m_tensors) {
        append_bytes(out, t.data.data(), t.data.size());
        out.resize(align_up(out.size(), m_alignment), 0);
    }
    return out;
}

void GgufWriter::write(const std::filesystem::path& path) const {
    const std::string tmp = detail::cat(path.string(), ".tmp");
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid())
        throw std::system_error(errno, std::generic_category(), detail::cat("cannot create ", tmp));
    try {
        const Bytes header = header_bytes();
        write_all(fd.get(), header.data(), header.size(), tmp);
        const Bytes zeros(m_alignment, 0);
        for (const Tensor& t : m_tensors) {
            write_all(fd.get(), t.data.data(), t.data.size(), tmp);
            const size_t pad = align_up(t.data.size(), m_alignment) - t.data.size();
            write_all(fd.get(), zeros.data(), pad, tmp);
        }
        if (::fsync(fd.get()) != 0)
            throw std::system_error(errno, std::generic_category(),
                                    detail::cat("cannot sync ", tmp));
        if (fd.close() != 0)
            throw std::system_error(errno, std::generic_category(),
                                    detail::cat("cannot close ", tmp));
        if (::rename(tmp.c_str(), path.c_str()) != 0) {
            throw std::system_error(errno, std::generic_category(),
                                    detail::cat("cannot rename ", tmp, " to ", path.string()));
        }
    } catch (...) {
        fd.reset();
        ::unlink(tmp.c_str());
        throw;
    }
    // Make the rename itself durable; a failure here leaves a complete file, so it is not fatal.
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.valid()) ::fsync(dir_fd.get());
}

}  // namespace folio::gguf
