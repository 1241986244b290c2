#pragma once
// CPU kernel dispatch: one table of function pointers per instruction-set level, each entry
// falling back to the level below where no faster version exists. Tables are built once;
// kernel_table() picks the best level cpu_features() allows (FOLIO_CPU caps it).
//
// Formats: "weight" rows are GGUF rows (dtype_row_size bytes for n elements); activations for
// vec_dot are rows of vec_dot_type(weight) (see tensor/quants.h). n is always a multiple of the
// type's block size.
#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace folio::kern {

// kAvxVnni: AVX2 plus the VEX-encoded VNNI of Alder Lake and later client cores (no AVX-512).
// Preference: kAvx512Vnni > kAvx512 > kAvxVnni > kAvx2 > kGeneric.
enum class Isa : int { kGeneric = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Vnni = 3, kAvxVnni = 4 };
constexpr int kNumIsa = 5;
constexpr int kNumTypes = 40;  // DType values are < 40

// Dot product of n elements: a weight row with an activation row of vec_dot_type(weight).
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
// out[i*ldo + r] = dot(row r, activation i) for r < nr, i < na: rows at w + r*w_stride bytes,
// activations at a + i*a_stride bytes. Lets a kernel reuse loaded data across rows/tokens.
using VecDotTileFn = void (*)(int64_t n, const void* w, size_t w_stride, int nr, const void* a,
                              size_t a_stride, int na, float* out, int64_t ldo);
// f32 -> type (quantize or convert) of n elements.
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// type -> f32 of n elements.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);

// A repacked ("interleaved") weight layout with its own activation format and GEMM micro-kernel.
// Weight rows are grouped into panels of `panel_rows` rows (the last panel zero-padded).
struct RepackKernel {
    int panel_rows;
    // Bytes of one panel for `cols` input features (a multiple of 64).
    size_t (*panel_bytes)(int64_t cols);
    // Builds one panel from `nrows` (<= panel_rows) GGUF rows at src (row stride src_stride).
    void (*pack)(const void* src, size_t src_stride, int nrows, int64_t cols, void* panel);
    // Unpacks row r (< panel_rows) of a panel back to floats (dst: cols floats).
    void (*unpack_row)(const void* panel, int r, int64_t cols, float* dst);
    // Bytes of one activation row in this layout's format (a multiple of 64).
    size_t (*act_bytes)(int64_t cols);
    // Converts one row of cols floats to the activation format.
    void (*quantize_act)(const float* x, void* act, int64_t cols);
    // y[t*ldy + r] = dot(row r, activation t) for r < np*panel_rows, t < nt (any np, nt >= 1),
    // over np consecutive panels (panel_bytes(cols) apart) starting at `panels`.
    // Activation t is at act + t*act_stride bytes.
    void (*gemm)(const void* panels, int np, int64_t cols, const void* act, size_t act_stride,
                 int64_t nt, float* y, int64_t ldy);
};

// Prefill path for weights kept in GGUF layout (several tokens per call): a few weight rows at
// a time are converted into a panel that stays in cache while every token of the call is
// multiplied with it. Quantized types: int8 values (panel_rows rows interleaved) with a float
// scale, and optionally a float bias, per sub-block of 16 or 32 values; activations on the
// Q8_0 grid (32-value blocks). F32/F16/BF16: f32 values and f32 activations. Exact up to float
// rounding (no saturating int8 arithmetic anywhere).
struct ConvGemmKernel {
    int panel_rows;
    // Bytes of one converted panel (a multiple of 64).
    size_t (*panel_bytes)(int64_t cols);
    // Converts `nrows` (<= panel_rows) GGUF rows at src (stride src_stride) into a panel.
    void (*convert)(const void* src, size_t src_stride, int nrows, int64_t cols, void* panel);
    size_t (*act_bytes)(int64_t cols);
    void (*quantize_act)(const float* x, void* act, int64_t cols);
    // As RepackKernel::gemm, over np consecutive converted panels.
    void (*gemm)(const void* panels, int np, int64_t cols, const void* act, size_t act_stride,
                 int64_t nt, float* y, int64_t ldy);
};

// Row-wise float ops used by the model (see backend/cpu/cpu_ops.h for the contracts).
struct OpsTable {
    // Sum of squares of n floats (accumulated in double precision for n large).
    float (*sum_sq)(const float* x, int64_t n) = nullptr;
    // y = x * s * w (w may be null: y = x * s).
    void (*scale_mul)(const float* x, float s, const float* w, float* y, int64_t n) = nullptr;
    // x = exp(x - max) in place; returns the sum.
    float (*exp_sub_sum)(float* x, float max, int64_t n) = nullptr;
    float (*max)(const float* x, int64_t n) = nullptr;
    void (*scale)(float* x, float s, int64_t n) = nullptr;
    // out = silu(g) * u
    void (*silu_mul)(const float* g, const float* u, float* out, int64_t n) = nullptr;
    void (*add)(const float* a, const float* b, float* out, int64_t n) = nullptr;
    // Rotates pairs (x[i*s0], x[i*s0 + s1]) for i < m by angles with cos c[i], sin s[i]:
    // llama style has s0 = 2, s1 = 1; neox style s0 = 1, s1 = m.
    void (*rope_llama)(float* x, const float* c, const float* s, int64_t m) = nullptr;
    void (*rope_neox)(float* x, const float* c, const float* s, int64_t m) = nullptr;
    // One key block of online-softmax attention (flash attention) for nq query vectors:
    //   qt: the queries transposed and already scaled, hd rows of ldq floats (query i in
    //       column i); ldq >= nq is a multiple of 8.
    //   k, v: kb keys and kb values, hd floats each, row after row.
    //   valid[i]: query i sees keys j < valid[i] (0 <= valid[i] <= kb).
    //   m[i], l[i]: query i's running max and sum of exp (start: -inf and 0).
    //   ot: the running outputs, transposed like qt (start: 0). After the last block, query
    //       i's output is column i of ot divided by l[i].
    //   s: scratch of (kb + 1) * ldq floats.
    // valid, m and l hold ldq entries; those past nq are scratch (valid 0), as are the columns
    // of ot past nq. Keys a query does not see change nothing, so a query's result does not
    // depend on the other queries of the call.
    void (*attn_block)(const float* qt, int64_t ldq, int64_t nq, int64_t hd, const float* k,
                       const float* v, int64_t kb, const int32_t* valid, float* m, float* l,
                       float* ot, float* s) = nullptr;
};

// The int8 multiply-add instructions of a level's Q8_0 GEMM inner loop, run on registers only
// (no loads, no scales, independent accumulators): run(rounds) executes `rounds` rounds and
// returns the multiply-adds done. Its rate is this CPU's ceiling for that GEMM (`folio bench
// --matmul` prints it beside the GEMM figures).
struct MacPeakProbe {
    const char* sequence = nullptr;  // e.g. "vpmaddwd+vpaddd"
    int64_t (*run)(int64_t rounds) = nullptr;
};

struct KernelTable {
    Isa isa = Isa::kGeneric;
    MacPeakProbe mac_peak;  // x86 levels only
    VecDotFn vec_dot[kNumTypes] = {};
    VecDotTileFn vec_dot_tile[kNumTypes] = {};  // optional; else vec_dot per pair
    FromFloatFn from_float[kNumTypes] = {};  // activation types (Q8_0, Q8_1, Q8_K, F16, BF16, F32)
    ToFloatFn to_float[kNumTypes] = {};      // every supported type
    const RepackKernel* repack[kNumTypes] = {};
    const ConvGemmKernel* conv[kNumTypes] = {};
    OpsTable ops;
};

inline int type_index(DType t) {
    return static_cast<int>(t);
}

// True when this CPU (after the FOLIO_CPU cap) can run `isa`.
bool isa_supported(Isa isa);
// The best supported level.
Isa best_isa();
const char* isa_name(Isa isa);
// Table for a supported level (precondition: isa_supported(isa)).
const KernelTable& kernel_table(Isa isa);
// Table for best_isa().
const KernelTable& kernel_table();

// Registration hooks, one per level (each defined in that level's folder; each overrides
// entries of a table that already holds the level below).
void register_generic(KernelTable& t);
void register_generic_ops(KernelTable& t);
void register_avx2(KernelTable& t);
void register_avx_vnni(KernelTable& t);
void register_avx512(KernelTable& t);
void register_avx512_vnni(KernelTable& t);

}  // namespace folio::kern
