#include "tensor/dtype.h"

#include <array>
#include <cassert>

namespace folio {
namespace {

constexpr size_t kMaxType = 40;

constexpr std::array<DTypeTraits, kMaxType> make_table() {
    std::array<DTypeTraits, kMaxType> t{};
    auto set = [&](DType d, std::string_view name, int64_t bs, size_t ts, bool q, bool sup) {
        t[static_cast<size_t>(d)] = DTypeTraits{name, bs, ts, q, sup};
    };
    set(DType::F32, "f32", 1, 4, false, true);
    set(DType::F16, "f16", 1, 2, false, true);
    set(DType::Q4_0, "q4_0", QK4_0, sizeof(block_q4_0), true, true);
    set(DType::Q4_1, "q4_1", QK4_1, sizeof(block_q4_1), true, true);
    set(DType::Q5_0, "q5_0", QK5_0, sizeof(block_q5_0), true, true);
    set(DType::Q5_1, "q5_1", QK5_1, sizeof(block_q5_1), true, true);
    set(DType::Q8_0, "q8_0", QK8_0, sizeof(block_q8_0), true, true);
    set(DType::Q8_1, "q8_1", QK8_1, sizeof(block_q8_1), true, true);
    set(DType::Q2_K, "q2_K", QK_K, sizeof(block_q2_K), true, true);
    set(DType::Q3_K, "q3_K", QK_K, sizeof(block_q3_K), true, true);
    set(DType::Q4_K, "q4_K", QK_K, sizeof(block_q4_K), true, true);
    set(DType::Q5_K, "q5_K", QK_K, sizeof(block_q5_K), true, true);
    set(DType::Q6_K, "q6_K", QK_K, sizeof(block_q6_K), true, true);
    set(DType::Q8_K, "q8_K", QK_K, sizeof(block_q8_K), true, true);
    set(DType::IQ2_XXS, "iq2_xxs", QK_K, 66, true, false);
    set(DType::IQ2_XS, "iq2_xs", QK_K, 74, true, false);
    set(DType::IQ3_XXS, "iq3_xxs", QK_K, 98, true, false);
    set(DType::IQ1_S, "iq1_s", QK_K, 50, true, false);
    set(DType::IQ4_NL, "iq4_nl", QK4_NL, sizeof(block_iq4_nl), true, true);
    set(DType::IQ3_S, "iq3_s", QK_K, 110, true, false);
    set(DType::IQ2_S, "iq2_s", QK_K, 82, true, false);
    set(DType::IQ4_XS, "iq4_xs", QK_K, 136, true, false);
    set(DType::I8, "i8", 1, 1, false, false);
    set(DType::I16, "i16", 1, 2, false, false);
    set(DType::I32, "i32", 1, 4, false, false);
    set(DType::I64, "i64", 1, 8, false, false);
    set(DType::F64, "f64", 1, 8, false, false);
    set(DType::IQ1_M, "iq1_m", QK_K, 56, true, false);
    set(DType::BF16, "bf16", 1, 2, false, true);
    set(DType::TQ1_0, "tq1_0", QK_K, 54, true, false);
    set(DType::TQ2_0, "tq2_0", QK_K, 66, true, false);
    set(DType::MXFP4, "mxfp4", 32, 17, true, false);
    return t;
}

constexpr auto kTable = make_table();

}  // namespace

bool dtype_is_known(uint32_t raw) {
    return raw < kMaxType && kTable[raw].block_size != 0;
}

const DTypeTraits& dtype_traits(DType type) {
    assert(dtype_is_known(static_cast<uint32_t>(type)));
    return kTable[static_cast<size_t>(type)];
}

std::string_view dtype_name(DType type) {
    return dtype_traits(type).name;
}

size_t dtype_row_size(DType type, int64_t n) {
    const auto& t = dtype_traits(type);
    return static_cast<size_t>(n / t.block_size) * t.type_size;
}

}  // namespace folio
