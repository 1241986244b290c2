#pragma once
// Quantization mixes (llama.cpp's "ftype": Q4_K_M, Q8_0, ...) and the per-tensor type choice
// llama.cpp's quantizer makes for them (llama-quant.cpp, llama_tensor_get_type, without imatrix,
// --pure or overrides): output / token embeddings, attn_v and ffn_down getting more bits in the
// _M mixes by layer, 1-D tensors and norms kept, fallbacks for rows that are not a multiple of
// the block size.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.h"

namespace folio {

// Values as llama.cpp's enum llama_ftype numbers them (stored as general.file_type).
enum class QuantFtype : uint32_t {
    Q4_0 = 2,
    Q4_1 = 3,
    Q8_0 = 7,
    Q5_0 = 8,
    Q5_1 = 9,
    Q2_K = 10,
    Q3_K_S = 11,
    Q3_K_M = 12,
    Q3_K_L = 13,
    Q4_K_S = 14,
    Q4_K_M = 15,
    Q5_K_S = 16,
    Q5_K_M = 17,
    Q6_K = 18,
    IQ4_NL = 25,
};

// "Q4_K_M", case-insensitive; nullopt for anything else.
std::optional<QuantFtype> parse_quant_ftype(std::string_view name);
// "Q4_K_M".
std::string_view quant_ftype_name(QuantFtype ftype);
// Every supported mix, in llama-quantize's listing order.
const std::vector<QuantFtype>& all_quant_ftypes();
// The type most tensors of the mix get (Q4_K for Q4_K_M).
DType quant_ftype_default_type(QuantFtype ftype);

// What the choice needs to know about the model (from "<arch>.*" metadata).
struct QuantModelShape {
    std::string arch;
    int64_t n_layer = 0;
    int64_t n_head = 1;
    int64_t n_head_kv = 1;
    int64_t n_expert = 0;
    bool is_70b = false;  // llama.cpp's LLM_TYPE_70B (llama, 80 layers)
    int64_t n_gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 1; }
};

struct QuantTensorDesc {
    std::string name;
    DType type;  // the source type
    int n_dims;
    std::array<int64_t, 4> ne;
};

struct QuantTensorChoice {
    DType type;     // the output type (the source type when not quantized)
    bool quantize;  // false: copied unchanged
    bool fallback;  // the mix's type did not fit the row size; a fallback type was used
    DType wanted;   // the type before the fallback (== type when !fallback)
};

// The output type of every tensor, given in the order they are written (llama.cpp counts attn_v
// and ffn_down occurrences in that order: sort with quant_tensor_order first). Throws
// std::runtime_error for a model whose layer count is unknown when it is needed.
std::vector<QuantTensorChoice> choose_quant_types(QuantFtype ftype, const QuantModelShape& shape,
                                                  const std::vector<QuantTensorDesc>& tensors);

// llama.cpp's tensor order (its loader's weight map): tensors outside blocks first, then block by
// block, by name within each group. True when a comes before b.
bool quant_tensor_order(std::string_view a, std::string_view b);

}  // namespace folio
