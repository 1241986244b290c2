#include "model/quant_mix.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace folio {
namespace {

struct MixInfo {
    QuantFtype ftype;
    std::string_view name;
    DType default_type;
};

constexpr MixInfo kMixes[] = {
    {QuantFtype::Q4_0, "Q4_0", DType::Q4_0},       {QuantFtype::Q4_1, "Q4_1", DType::Q4_1},
    {QuantFtype::Q5_0, "Q5_0", DType::Q5_0},       {QuantFtype::Q5_1, "Q5_1", DType::Q5_1},
    {QuantFtype::IQ4_NL, "IQ4_NL", DType::IQ4_NL}, {QuantFtype::Q2_K, "Q2_K", DType::Q2_K},
    {QuantFtype::Q3_K_S, "Q3_K_S", DType::Q3_K},   {QuantFtype::Q3_K_M, "Q3_K_M", DType::Q3_K},
    {QuantFtype::Q3_K_L, "Q3_K_L", DType::Q3_K},   {QuantFtype::Q4_K_S, "Q4_K_S", DType::Q4_K},
    {QuantFtype::Q4_K_M, "Q4_K_M", DType::Q4_K},   {QuantFtype::Q5_K_S, "Q5_K_S", DType::Q5_K},
    {QuantFtype::Q5_K_M, "Q5_K_M", DType::Q5_K},   {QuantFtype::Q6_K, "Q6_K", DType::Q6_K},
    {QuantFtype::Q8_0, "Q8_0", DType::Q8_0},
};

const MixInfo& mix_info(QuantFtype ftype) {
    for (const auto& m : kMixes)
        if (m.ftype == ftype) return m;
    throw std::invalid_argument("unknown quantization type");
}

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}

// The layer of "blk.N.*", or -1.
int layer_of(std::string_view name) {
    constexpr std::string_view prefix = "blk.";
    if (!name.starts_with(prefix)) return -1;
    int layer = -1;
    const char* first = name.data() + prefix.size();
    const auto [end, ec] = std::from_chars(first, name.data() + name.size(), layer);
    if (ec != std::errc() || end == first || end == name.data() + name.size() || *end != '.')
        return -1;
    return layer;
}

// ggml_n_dims: dimensions up to the last one larger than 1.
int effective_dims(const QuantTensorDesc& t) {
    int dims = 1;
    for (int d = 1; d < 4; ++d)
        if (t.ne[d] > 1) dims = d + 1;
    return dims;
}

// llama.cpp's rule for which tensors are quantized at all.
bool allows_quantization(const QuantTensorDesc& t) {
    const int dims = effective_dims(t);
    if (dims < 2) return false;
    const std::string_view n = t.name;
    if (!n.ends_with("weight")) return false;
    static constexpr std::string_view kKeep[] = {"_norm.weight",
                                                 "ffn_gate_inp.weight",
                                                 "altup",
                                                 "laurel",
                                                 "per_layer_model_proj",
                                                 "ssm_conv1d",
                                                 "shortconv.conv.weight",
                                                 "time_mix_first.weight",
                                                 "time_mix_w0.weight",
                                                 "time_mix_w1.weight",
                                                 "time_mix_w2.weight",
                                                 "time_mix_v0.weight",
                                                 "time_mix_v1.weight",
                                                 "time_mix_v2.weight",
                                                 "time_mix_a0.weight",
                                                 "time_mix_a1.weight",
                                                 "time_mix_a2.weight",
                                                 "time_mix_g1.weight",
                                                 "time_mix_g2.weight",
                                                 "time_mix_decay_w1.weight",
                                                 "time_mix_decay_w2.weight",
                                                 "time_mix_lerp_fused.weight",
                                                 "attn_rel_b.weight",
                                                 ".position_embd",
                                                 ".rel_pos",
                                                 ".patch_embd",
                                                 ".patch_merger"};
    for (std::string_view k : kKeep)
        if (contains(n, k)) return false;
    return n != "position_embd.weight" && n != "token_types.weight";
}

bool use_more_bits(int i_layer, int n_layers) {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 ||
           (i_layer - n_layers / 8) % 3 == 2;
}

bool is_falcon(const QuantModelShape& s) {
    return s.arch == "falcon";
}

// Counters llama.cpp keeps while it walks the tensors.
struct MixState {
    int n_attention_wv = 0, i_attention_wv = 0;
    int n_layer = 0, i_ffn_down = 0, i_ffn_gate = 0, i_ffn_up = 0;
    bool has_output = false;
};

// With several experts per layer the layer comes from the name, not from the running count.
int layer_index(const QuantModelShape& shape, const MixState& st, int counter,
                const std::string& name) {
    if (shape.n_expert <= 1) return counter;
    const int layer = layer_of(name);
    if (layer < 0 || layer >= st.n_layer)
        throw std::runtime_error("cannot determine the layer of tensor " + name);
    return layer;
}

DType choose_one(QuantFtype f, const QuantModelShape& shape, MixState& st, const QuantTensorDesc& t,
                 DType new_type) {
    using F = QuantFtype;
    const std::string& name = t.name;
    const bool falcon = is_falcon(shape);
    if (name == "output.weight" || (!st.has_output && name == "token_embd.weight")) {
        const int64_t qk = dtype_traits(new_type).block_size;
        if (falcon || t.ne[0] % qk != 0) {
            new_type = DType::Q8_0;
        } else if (new_type != DType::Q8_0) {
            new_type = DType::Q6_K;
        }
    } else if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
        // No change for the mixes Folio offers (the IQ mixes only).
    } else if (contains(name, "attn_v.weight")) {
        const int64_t gqa = shape.n_gqa();
        if (f == F::Q2_K) {
            new_type = gqa >= 4 ? DType::Q4_K : DType::Q3_K;
        } else if (f == F::Q3_K_M) {
            new_type = st.i_attention_wv < 2 ? DType::Q5_K : DType::Q4_K;
        } else if (f == F::Q3_K_L) {
            new_type = DType::Q5_K;
        } else if (f == F::IQ4_NL && gqa >= 4) {
            new_type = DType::Q5_K;
        } else if ((f == F::Q4_K_M || f == F::Q5_K_M) &&
                   use_more_bits(st.i_attention_wv, st.n_attention_wv)) {
            new_type = DType::Q6_K;
        } else if (f == F::Q4_K_S && st.i_attention_wv < 4) {
            new_type = DType::Q5_K;
        }
        if (shape.is_70b && (new_type == DType::Q3_K || new_type == DType::Q4_K))
            new_type = DType::Q5_K;
        if (shape.n_expert == 8) new_type = DType::Q8_0;
        ++st.i_attention_wv;
    } else if (contains(name, "attn_k.weight")) {
        if (shape.n_expert == 8) new_type = DType::Q8_0;
    } else if (contains(name, "attn_q.weight")) {
        // Only the IQ3 mixes change attn_q.
    } else if (contains(name, "ffn_down")) {
        const int i_layer = layer_index(shape, st, st.i_ffn_down, name);
        const int n_layer = st.n_layer;
        if (f == F::Q2_K) {
            new_type = DType::Q3_K;
        } else if (f == F::Q3_K_M) {
            new_type = i_layer < n_layer / 16                       ? DType::Q5_K
                       : !falcon || use_more_bits(i_layer, n_layer) ? DType::Q4_K
                                                                    : DType::Q3_K;
        } else if (f == F::Q3_K_L) {
            new_type = falcon ? DType::Q4_K : DType::Q5_K;
        } else if (f == F::Q4_K_M) {
            if (falcon) {
                new_type = i_layer < n_layer / 16            ? DType::Q6_K
                           : use_more_bits(i_layer, n_layer) ? DType::Q5_K
                                                             : DType::Q4_K;
            } else if (use_more_bits(i_layer, n_layer)) {
                new_type = DType::Q6_K;
            }
        } else if (i_layer < n_layer / 8 && f == F::IQ4_NL) {
            new_type = DType::Q5_K;
        } else if (f == F::Q5_K_M && use_more_bits(i_layer, n_layer)) {
            new_type = DType::Q6_K;
        } else if (f == F::Q4_K_S && !falcon && i_layer < n_layer / 8) {
            new_type = DType::Q5_K;
        }
        ++st.i_ffn_down;
    } else if (contains(name, "attn_output.weight")) {
        if (!falcon) {
            if (shape.n_expert == 8) {
                if (f == F::Q2_K || f == F::Q3_K_S || f == F::Q3_K_M || f == F::IQ4_NL ||
                    f == F::Q4_K_S || f == F::Q4_K_M)
                    new_type = DType::Q5_K;
            } else {
                if (f == F::Q2_K)
                    new_type = DType::Q3_K;
                else if (f == F::Q3_K_M)
                    new_type = DType::Q4_K;
                else if (f == F::Q3_K_L)
                    new_type = DType::Q5_K;
            }
        } else if (f == F::Q3_K_L) {
            new_type = DType::Q4_K;
        }
    } else if (contains(name, "attn_qkv.weight")) {
        if (f == F::Q3_K_M || f == F::Q3_K_L)
            new_type = DType::Q4_K;
        else if (f == F::Q4_K_M)
            new_type = DType::Q5_K;
        else if (f == F::Q5_K_M)
            new_type = DType::Q6_K;
    } else if (contains(name, "ffn_gate")) {
        ++st.i_ffn_gate;  // only the IQ3_XS mix uses it
    } else if (contains(name, "ffn_up")) {
        ++st.i_ffn_up;
    }
    return new_type;
}

// llama.cpp's fallback for a row size that is not a multiple of the chosen type's block size;
// F16 where llama.cpp has none (it would refuse the model).
DType fallback_type(DType wanted, int64_t ncols) {
    DType t = DType::F16;
    switch (wanted) {
        case DType::Q2_K:
        case DType::Q3_K:
            t = DType::Q4_0;
            break;
        case DType::Q4_K:
            t = DType::Q5_0;
            break;
        case DType::Q5_K:
            t = DType::Q5_1;
            break;
        case DType::Q6_K:
            t = DType::Q8_0;
            break;
        default:
            break;
    }
    return ncols % dtype_traits(t).block_size == 0 ? t : DType::F16;
}

}  // namespace

std::optional<QuantFtype> parse_quant_ftype(std::string_view name) {
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& m : kMixes)
        if (m.name == upper) return m.ftype;
    return std::nullopt;
}

std::string_view quant_ftype_name(QuantFtype ftype) {
    return mix_info(ftype).name;
}

const std::vector<QuantFtype>& all_quant_ftypes() {
    static const std::vector<QuantFtype> all = [] {
        std::vector<QuantFtype> v;
        for (const auto& m : kMixes) v.push_back(m.ftype);
        return v;
    }();
    return all;
}

DType quant_ftype_default_type(QuantFtype ftype) {
    return mix_info(ftype).default_type;
}

bool quant_tensor_order(std::string_view a, std::string_view b) {
    const int la = layer_of(a), lb = layer_of(b);
    if (la != lb) return la < lb;
    return a < b;
}

std::vector<QuantTensorChoice> choose_quant_types(QuantFtype ftype, const QuantModelShape& shape,
                                                  const std::vector<QuantTensorDesc>& tensors) {
    MixState st;
    st.n_layer = static_cast<int>(shape.n_layer);
    for (const auto& t : tensors) {
        if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight") ||
            contains(t.name, "attn_kv_b.weight"))
            ++st.n_attention_wv;
        if (t.name == "output.weight") st.has_output = true;
    }
    const DType default_type = quant_ftype_default_type(ftype);
    std::vector<QuantTensorChoice> out;
    out.reserve(tensors.size());
    for (const auto& t : tensors) {
        QuantTensorChoice c{t.type, false, false, t.type};
        if (allows_quantization(t)) {
            const DType wanted = choose_one(ftype, shape, st, t, default_type);
            DType type = wanted;
            if (t.ne[0] % dtype_traits(wanted).block_size != 0) {
                type = fallback_type(wanted, t.ne[0]);
                c.fallback = true;
            }
            c.wanted = wanted;
            c.type = type;
            c.quantize = type != t.type;
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace folio
