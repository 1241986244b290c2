#pragma once
// Matrix products of GGUF weights with f32 activations on the CPU: the op every linear layer
// of a model calls (decode, prefill, batched decode). Kernels are chosen once per weight from
// cpu_features() (generic, AVX2, AVX-512, AVX-512 VNNI).
//
// Shapes: a weight has `rows` output features and `cols` input features (GGUF ne[1] x ne[0]);
// row r holds cols elements stored as dtype_row_size(type, cols) bytes. Activations are n_tok
// rows of cols floats; the result is n_tok rows of `rows` floats.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "backend/cpu/thread_pool.h"
#include "backend/cpu/weight_arena.h"
#include "tensor/dtype.h"

namespace folio {

// Which kernel family a weight runs on. kAuto picks the best the CPU has (capped by FOLIO_CPU).
// Tests pass a lower level to cover the slower paths; a level the CPU lacks is a precondition
// violation (check cpu_isa_supported first).
enum class CpuIsa { kAuto, kGeneric, kAvx2, kAvx512, kAvx512Vnni, kAvxVnni };
bool cpu_isa_supported(CpuIsa isa);
CpuIsa cpu_isa_best();
const char* cpu_isa_name(CpuIsa isa);

struct CpuWeightOptions {
    CpuIsa isa = CpuIsa::kAuto;
    // Allow a repacked copy (interleaved rows for register-blocked GEMM; same size as the
    // original). When false, or for a type without a repacked layout, the weight keeps
    // pointing at `data`.
    bool allow_repack = true;
    // Where a repacked copy lives (huge pages, shared with the model's other weights); it must
    // outlive the weight. Null: the weight makes its own allocation.
    WeightArena* arena = nullptr;
    // Packs the repacked copy on these threads (first-touch page faults of fresh memory are
    // most of a model's load time); null: on the calling thread.
    ThreadPool* pool = nullptr;
};

// A weight matrix prepared for fast products. Immutable after create(), so one weight may be
// used by several threads at once. When not repacked it borrows `data` (e.g. the mmapped GGUF
// file), which must outlive it; when repacked() the original bytes are no longer read and the
// caller may release them.
class CpuWeight {
  public:
    // Supported types: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q2_K, Q3_K, Q4_K,
    // Q5_K, Q6_K. cols must be a multiple of the type's block size. Throws std::invalid_argument
    // for an unsupported type or shape.
    static std::unique_ptr<CpuWeight> create(DType type, int64_t rows, int64_t cols,
                                             const void* data, const CpuWeightOptions& opts = {});
    ~CpuWeight();
    CpuWeight(const CpuWeight&) = delete;
    CpuWeight& operator=(const CpuWeight&) = delete;

    DType type() const { return m_type; }
    int64_t rows() const { return m_rows; }
    int64_t cols() const { return m_cols; }
    CpuIsa isa() const { return m_isa; }
    bool repacked() const { return m_layout != 0; }
    // Bytes of weight data the products read (the repacked copy or the original).
    size_t bytes() const { return m_bytes; }

    // Row r as float (dequantized), for embedding lookups and tests. dst has cols() floats.
    void get_row(int64_t r, float* dst) const;

    // Implementation details used by matmul().
    const uint8_t* data() const { return m_data; }
    int layout() const { return m_layout; }

  private:
    CpuWeight() = default;
    DType m_type = DType::F32;
    int64_t m_rows = 0, m_cols = 0;
    CpuIsa m_isa = CpuIsa::kGeneric;
    int m_layout = 0;  // 0: GGUF rows; otherwise a kernel-specific interleaved layout
    const uint8_t* m_data = nullptr;
    size_t m_bytes = 0;
    void* m_owned = nullptr;  // own allocation holding the repacked copy (no arena given)
};

// y[t*ldy + r] = sum_c W[r][c] * x[t*ldx + c] for t < n_tok, r < w.rows().
// x: n_tok rows of w.cols() floats (row stride ldx >= cols); y: n_tok rows (ldy >= rows).
// x and y must not overlap. Activations are quantized once per call to the weight's
// vec_dot_type into a reused per-thread scratch buffer, then rows (and, for n_tok > 1, token
// tiles) are split over pool's threads. Call from the pool's owning thread only.
void matmul(const CpuWeight& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy,
            ThreadPool& pool);

// Same, single-threaded, on the calling thread (for callers that parallelize themselves).
void matmul_st(const CpuWeight& w, const float* x, int64_t ldx, int64_t n_tok, float* y,
               int64_t ldy);

}  // namespace folio
