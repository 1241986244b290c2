#include "model/model_quantizer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/unique_fd.h"
#include "tensor/quants.h"

namespace folio {
namespace {

using gguf::GgufFile;
using gguf::TensorInfo;

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION
// Elements converted and quantized per chunk (bounds memory: ~4 bytes each, plus the output).
constexpr int64_t kChunkElements = int64_t{1} << 24;

std::string type_name(DType t) {
    return std::string(dtype_name(t));
}

bool is_float_type(DType t) {
    return t == DType::F32 || t == DType::F16 || t == DType::BF16;
}

void append_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
}

template <class T>
void append(std::vector<uint8_t>& out, T v) {
    append_bytes(out, &v, sizeof(T));
}

uint64_t align_up(uint64_t n, uint64_t alignment) {
    return (n + alignment - 1) / alignment * alignment;
}

// A count from "<arch>.<key>": a scalar, or the largest element of a per-layer array.
int64_t arch_count(const GgufFile& f, const std::string& key, int64_t fallback) {
    const gguf::Metadatum* md = f.find(key);
    if (!md) return fallback;
    if (md->value.type == gguf::ValueType::ARRAY) {
        const auto values = f.get_int_array(key);
        if (!values || values->empty()) return fallback;
        return *std::max_element(values->begin(), values->end());
    }
    return f.get_int(key).value_or(fallback);
}

QuantModelShape model_shape(const GgufFile& f) {
    QuantModelShape s;
    s.arch = std::string(f.get_string("general.architecture").value_or(""));
    int64_t max_layer = -1;
    for (const auto& t : f.tensors()) {
        int layer = -1;
        if (std::sscanf(std::string(t.name).c_str(), "blk.%d.", &layer) == 1)
            max_layer = std::max<int64_t>(max_layer, layer);
    }
    s.n_layer = arch_count(f, s.arch + ".block_count", max_layer + 1);
    s.n_head = std::max<int64_t>(1, arch_count(f, s.arch + ".attention.head_count", 1));
    s.n_head_kv =
        std::max<int64_t>(1, arch_count(f, s.arch + ".attention.head_count_kv", s.n_head));
    s.n_expert = arch_count(f, s.arch + ".expert_count", 0);
    s.is_70b = s.arch == "llama" && s.n_layer == 80;
    return s;
}

void write_all(int fd, const void* data, size_t n, const std::string& path) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "cannot write " + path);
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
}

// The temporary output file: removed on destruction unless committed (renamed over the target).
class TempOutput {
  public:
    TempOutput(std::filesystem::path target)
        : m_target(std::move(target)), m_tmp(m_target.string() + ".tmp") {
        m_fd =
            gguf::UniqueFd(::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!m_fd.valid())
            throw std::system_error(errno, std::generic_category(), "cannot create " + m_tmp);
    }
    ~TempOutput() {
        if (!m_committed) {
            m_fd.reset();
            ::unlink(m_tmp.c_str());
        }
    }
    TempOutput(const TempOutput&) = delete;
    TempOutput& operator=(const TempOutput&) = delete;

    void write(const void* data, size_t n) { write_all(m_fd.get(), data, n, m_tmp); }
    void commit() {
        if (::fsync(m_fd.get()) != 0)
            throw std::system_error(errno, std::generic_category(), "cannot sync " + m_tmp);
        if (m_fd.close() != 0)
            throw std::system_error(errno, std::generic_category(), "cannot close " + m_tmp);
        if (::rename(m_tmp.c_str(), m_target.c_str()) != 0)
            throw std::system_error(errno, std::generic_category(),
                                    "cannot rename " + m_tmp + " to " + m_target.string());
        m_committed = true;
    }

  private:
    std::filesystem::path m_target;
    std::string m_tmp;
    gguf::UniqueFd m_fd;
    bool m_committed = false;
};

// Metadata of `src` as llama.cpp writes it for a quantized copy: split keys dropped,
// general.quantization_version and general.file_type (re)set at the end.
std::vector<uint8_t> header_bytes(const GgufFile& src, QuantFtype ftype,
                                  const std::vector<const TensorInfo*>& order,
                                  const std::vector<QuantTensorChoice>& choices) {
    gguf::GgufWriter w(3);
    w.copy_metadata_from(src, [](std::string_view key) {
        return key == "general.file_type" || key == "general.quantization_version" ||
               key.starts_with("split.");
    });
    w.set_u32("general.quantization_version", kQuantizationVersion);
    w.set_u32("general.file_type", static_cast<uint32_t>(ftype));
    std::vector<uint8_t> out = w.to_bytes();  // without tensors: magic .. last key/value
    const uint64_t n_tensors = order.size();
    std::memcpy(out.data() + 8, &n_tensors, sizeof(n_tensors));
    uint64_t offset = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const TensorInfo& t = *order[i];
        append<uint64_t>(out, t.name.size());
        append_bytes(out, t.name.data(), t.name.size());
        append<uint32_t>(out, static_cast<uint32_t>(t.n_dims));
        for (int d = 0; d < t.n_dims; ++d) append<uint64_t>(out, static_cast<uint64_t>(t.ne[d]));
        append<uint32_t>(out, static_cast<uint32_t>(choices[i].type));
        append<uint64_t>(out, offset);
        offset += align_up(dtype_row_size(choices[i].type, t.num_elements()), src.alignment());
    }
    out.resize(align_up(out.size(), src.alignment()), 0);
    return out;
}

struct ErrAcc {
    double err2 = 0, ref2 = 0;
};

// Converts, quantizes and (optionally) measures rows [r0, r1) of `t` into `dst`.
void quantize_rows(const TensorInfo& t, DType to, int64_t r0, int64_t r1, uint8_t* dst,
                   bool measure, ErrAcc& acc) {
    const int64_t n = t.ne[0];
    const size_t in_row = dtype_row_size(t.type, n), out_row = dtype_row_size(to, n);
    std::vector<float> src_buf(t.type == DType::F32 ? 0 : static_cast<size_t>(n));
    std::vector<float> deq(measure ? static_cast<size_t>(n) : 0);
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* in = t.data + static_cast<size_t>(r) * in_row;
        const float* src = reinterpret_cast<const float*>(in);
        if (t.type != DType::F32) {
            dequantize_row(t.type, in, src_buf.data(), n);
            src = src_buf.data();
        }
        uint8_t* out = dst + static_cast<size_t>(r - r0) * out_row;
        quantize_row_ref(to, src, out, n);
        if (!measure) continue;
        dequantize_row(to, out, deq.data(), n);
        for (int64_t i = 0; i < n; ++i) {
            const double d = static_cast<double>(deq[i]) - src[i];
            acc.err2 += d * d;
            acc.ref2 += static_cast<double>(src[i]) * src[i];
        }
    }
}

// Sum of squares of a float tensor's rows [r0, r1) (for tensors copied unchanged).
double sum_squares(const TensorInfo& t, int64_t r0, int64_t r1) {
    const int64_t n = t.ne[0];
    const size_t in_row = dtype_row_size(t.type, n);
    std::vector<float> buf(static_cast<size_t>(n));
    double s = 0;
    for (int64_t r = r0; r < r1; ++r) {
        dequantize_row(t.type, t.data + static_cast<size_t>(r) * in_row, buf.data(), n);
        for (float v : buf) s += static_cast<double>(v) * v;
    }
    return s;
}

// Runs fn(r0, r1, thread_index) over [0, rows) split into `threads` contiguous ranges.
template <class Fn>
void parallel_rows(int64_t rows, int threads, Fn&& fn) {
    threads = static_cast<int>(std::clamp<int64_t>(threads, 1, rows));
    if (threads == 1) {
        fn(int64_t{0}, rows, 0);
        return;
    }
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(threads - 1));
    const int64_t per = rows / threads, extra = rows % threads;
    int64_t r0 = 0;
    std::vector<std::pair<int64_t, int64_t>> ranges;
    for (int i = 0; i < threads; ++i) {
        const int64_t r1 = r0 + per + (i < extra ? 1 : 0);
        ranges.emplace_back(r0, r1);
        r0 = r1;
    }
    std::exception_ptr failure;
    std::mutex failure_mutex;
    for (int i = 1; i < threads; ++i) {
        workers.emplace_back([&, i] {
            try {
                fn(ranges[i].first, ranges[i].second, i);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                failure = std::current_exception();
            }
        });
    }
    try {
        fn(ranges[0].first, ranges[0].second, 0);
    } catch (...) {
        std::lock_guard lock(failure_mutex);
        failure = std::current_exception();
    }
    for (auto& w : workers) w.join();
    if (failure) std::rethrow_exception(failure);
}

void check_source(const GgufFile& src, const std::vector<const TensorInfo*>& order,
                  const std::vector<QuantTensorChoice>& choices) {
    for (size_t i = 0; i < order.size(); ++i) {
        const TensorInfo& t = *order[i];
        if (dtype_traits(t.type).quantized) {
            throw QuantizeError(src.path() + " is already quantized (tensor " +
                                std::string(t.name) + " is " + type_name(t.type) +
                                "); quantize from an F32, F16 or BF16 model");
        }
        if (choices[i].quantize && !is_float_type(t.type)) {
            throw QuantizeError("cannot quantize tensor " + std::string(t.name) + " of type " +
                                type_name(t.type));
        }
    }
}

}  // namespace

QuantizeResult quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    if (in == out || (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec)))
        throw QuantizeError("the input and the output are the same file: " + out.string());

    const auto src = GgufFile::open(in);
    std::vector<const TensorInfo*> order;
    for (const auto& t : src->tensors()) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return quant_tensor_order(a->name, b->name);
    });
    std::vector<QuantTensorDesc> descs;
    for (const TensorInfo* t : order)
        descs.push_back({std::string(t->name), t->type, t->n_dims, t->ne});
    const auto choices = choose_quant_types(options.ftype, model_shape(*src), descs);
    check_source(*src, order, choices);

    QuantizeResult res;
    res.file_bytes_in = src->size();
    for (const TensorInfo* t : order) res.tensor_bytes_in += t->nbytes;

    const int threads = options.num_threads > 0
                            ? options.num_threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    TempOutput file(out);
    {
        const auto header = header_bytes(*src, options.ftype, order, choices);
        file.write(header.data(), header.size());
        res.file_bytes_out = header.size();
    }

    QuantizeProgress prog;
    prog.num_tensors = order.size();
    prog.bytes_total = res.tensor_bytes_in;
    const auto report = [&] {
        if (options.progress) options.progress(prog);
    };
    const std::vector<uint8_t> zeros(src->alignment(), 0);
    std::vector<uint8_t> buf;
    for (size_t i = 0; i < order.size(); ++i) {
        const TensorInfo& t = *order[i];
        const QuantTensorChoice& c = choices[i];
        QuantizedTensorReport rep{
            std::string(t.name), t.type, c.type, c.fallback, t.num_elements(), t.nbytes, 0, 0, 0};
        prog.tensor_index = i;
        prog.name = t.name;
        prog.type = c.type;
        const int64_t n = t.ne[0];
        const int64_t rows = n > 0 ? t.num_elements() / n : 0;
        const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(n, 1));
        const size_t in_row = n > 0 ? dtype_row_size(t.type, n) : 0;
        const size_t out_row = n > 0 ? dtype_row_size(c.type, n) : 0;
        const bool measure = options.measure_error && is_float_type(t.type);
        for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
            if (options.cancel && options.cancel->load()) throw QuantizeError("cancelled");
            const int64_t r1 = std::min(rows, r0 + chunk_rows);
            std::vector<ErrAcc> acc(static_cast<size_t>(threads));
            if (c.quantize) {
                buf.resize(static_cast<size_t>(r1 - r0) * out_row);
                parallel_rows(r1 - r0, threads, [&](int64_t a, int64_t b, int ti) {
                    quantize_rows(t, c.type, r0 + a, r0 + b, buf.data() + a * out_row, measure,
                                  acc[ti]);
                });
                file.write(buf.data(), buf.size());
            } else {
                file.write(t.data + r0 * in_row, static_cast<size_t>(r1 - r0) * in_row);
                if (measure) {
                    parallel_rows(r1 - r0, threads, [&](int64_t a, int64_t b, int ti) {
                        acc[ti].ref2 += sum_squares(t, r0 + a, r0 + b);
                    });
                }
            }
            for (const auto& a : acc) {
                rep.err2 += a.err2;
                rep.ref2 += a.ref2;
            }
            prog.bytes_done += static_cast<uint64_t>(r1 - r0) * in_row;
            report();
        }
        rep.bytes_out = dtype_row_size(c.type, t.num_elements());
        const size_t pad = align_up(rep.bytes_out, src->alignment()) - rep.bytes_out;
        file.write(zeros.data(), pad);
        res.file_bytes_out += rep.bytes_out + pad;
        res.tensor_bytes_out += rep.bytes_out;
        res.num_weights += rep.num_elements;
        if (c.fallback) ++res.num_fallbacks;
        if (rows == 0) report();
        res.tensors.push_back(std::move(rep));
    }
    file.commit();

    double err2 = 0, ref2 = 0;
    for (const auto& r : res.tensors) {
        err2 += r.err2;
        ref2 += r.ref2;
    }
    res.relative_rms_error = ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0;
    res.bits_per_weight =
        res.num_weights > 0 ? static_cast<double>(res.tensor_bytes_out) * 8.0 / res.num_weights : 0;
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return res;
}

}  // namespace folio
