#pragma once
// Quantizes an F32/F16/BF16 GGUF model to one of llama.cpp's mixes (quant_mix.h), as
// `llama-quantize IN OUT TYPE` does: same per-tensor types, same tensor order and metadata
// (general.file_type, general.quantization_version), bit-identical block data.
//
// Streams tensor by tensor (the input is memory-mapped, the output written in bounded chunks of
// rows), so models larger than RAM quantize. The output is written to a temporary file beside
// OUT and renamed over it at the end; on any error or cancellation nothing is left behind.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/quant_mix.h"
#include "tensor/dtype.h"

namespace folio {

// Thrown for a request that cannot be carried out (already quantized source, same path for the
// input and the output, unsupported tensor type). I/O and format errors throw gguf::GgufError or
// std::system_error.
class QuantizeError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct QuantizeProgress {
    size_t tensor_index = 0;  // 0-based index of the tensor being written
    size_t num_tensors = 0;
    std::string_view name;  // valid during the callback only
    DType type = DType::F32;
    uint64_t bytes_done = 0;   // input bytes processed so far (all tensors)
    uint64_t bytes_total = 0;  // input bytes of all tensors
};

struct QuantizeOptions {
    QuantFtype ftype = QuantFtype::Q4_K_M;
    int num_threads = 0;  // 0: std::thread::hardware_concurrency()
    // Also dequantize each output row and accumulate the error against the source values.
    bool measure_error = true;
    // Called from the calling thread after each chunk of rows and once per tensor at its end.
    std::function<void(const QuantizeProgress&)> progress;
    // When set and becoming true, quantization stops and throws QuantizeError("cancelled").
    const std::atomic<bool>* cancel = nullptr;
};

struct QuantizedTensorReport {
    std::string name;
    DType from, to;
    bool fallback = false;
    int64_t num_elements = 0;
    uint64_t bytes_in = 0, bytes_out = 0;
    double err2 = 0, ref2 = 0;  // sum of squared (output - source) and of squared source values
};

struct QuantizeResult {
    uint64_t file_bytes_in = 0, file_bytes_out = 0;
    uint64_t tensor_bytes_in = 0, tensor_bytes_out = 0;
    int64_t num_weights = 0;     // elements of all tensors
    double bits_per_weight = 0;  // tensor_bytes_out * 8 / num_weights
    // sqrt(sum err2 / sum ref2) over all tensors (0 when measure_error is off).
    double relative_rms_error = 0;
    double seconds = 0;
    int num_fallbacks = 0;
    std::vector<QuantizedTensorReport> tensors;  // in output order
};

// Quantizes `in` to `out`. Precondition-style failures throw QuantizeError; see above.
QuantizeResult quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options);

}  // namespace folio
