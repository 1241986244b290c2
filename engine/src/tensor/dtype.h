#pragma once
// Tensor element types as GGUF numbers them, and the byte layout of each quantized block.
// Layouts are bit-exact with GGUF files (the same structs llama.cpp/ggml write).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace folio {

using fp16_t = uint16_t;  // IEEE half, raw bits
using bf16_t = uint16_t;  // bfloat16, raw bits

enum class DType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
};

struct DTypeTraits {
    std::string_view name;  // as llama.cpp prints it: "f32", "q4_K", ...
    int64_t block_size;     // elements per block (1 for plain types)
    size_t type_size;       // bytes per block
    bool quantized;
    bool supported;  // Folio can compute with it (dequantize / dot products)
};

// True when `raw` is a type number GGUF defines (supported or not).
bool dtype_is_known(uint32_t raw);
// Traits of a known type; precondition: dtype_is_known.
const DTypeTraits& dtype_traits(DType type);
std::string_view dtype_name(DType type);
// Bytes of a row of n elements; precondition: n % block_size == 0.
size_t dtype_row_size(DType type, int64_t n);

constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32;
constexpr int QK4_NL = 32;
constexpr int QK_K = 256;
constexpr int K_SCALE_SIZE = 12;

#pragma pack(push, 1)
struct block_q4_0 {
    fp16_t d;
    uint8_t qs[QK4_0 / 2];
};
struct block_q4_1 {
    fp16_t d, m;
    uint8_t qs[QK4_1 / 2];
};
struct block_q5_0 {
    fp16_t d;
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
};
struct block_q5_1 {
    fp16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
};
struct block_q8_0 {
    fp16_t d;
    int8_t qs[QK8_0];
};
struct block_q8_1 {
    fp16_t d;  // delta
    fp16_t s;  // d * sum(qs)
    int8_t qs[QK8_1];
};
struct block_q2_K {
    uint8_t scales[QK_K / 16];  // 4-bit scales and mins
    uint8_t qs[QK_K / 4];
    fp16_t d, dmin;
};
struct block_q3_K {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    fp16_t d;
};
struct block_q4_K {
    fp16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];  // 6-bit scales and mins
    uint8_t qs[QK_K / 2];
};
struct block_q5_K {
    fp16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};
struct block_q6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    fp16_t d;
};
// Activation format for K-quant dot products (never stored in files).
struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];  // sums of groups of 16
};
struct block_iq4_nl {
    fp16_t d;
    uint8_t qs[QK4_NL / 2];
};
#pragma pack(pop)

static_assert(sizeof(block_q4_0) == 18);
static_assert(sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q5_0) == 22);
static_assert(sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q2_K) == 84);
static_assert(sizeof(block_q3_K) == 110);
static_assert(sizeof(block_q4_K) == 144);
static_assert(sizeof(block_q5_K) == 176);
static_assert(sizeof(block_q6_K) == 210);
static_assert(sizeof(block_q8_K) == 292);
static_assert(sizeof(block_iq4_nl) == 18);

// IQ4_NL's non-linear 4-bit code book.
inline constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                             1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace folio
