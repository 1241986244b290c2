#include "model/model_weights.h"

#include <sstream>

namespace folio {
namespace {

std::string shape_string(const int64_t* ne, size_t n) {
    std::ostringstream s;
    s << '[';
    for (size_t i = 0; i < n; ++i) s << (i ? ", " : "") << ne[i];
    s << ']';
    return s.str();
}

}  // namespace

std::string WeightBinder::layer_name(int layer, const char* suffix) {
    return "blk." + std::to_string(layer) + "." + suffix;
}

void WeightBinder::check_shape(const gguf::TensorInfo& t, std::initializer_list<int64_t> ne) {
    bool ok = static_cast<int>(ne.size()) >= t.n_dims;
    size_t i = 0;
    for (int64_t want : ne) {
        if (t.ne[i] != want) ok = false;
        ++i;
    }
    for (; i < 4; ++i)
        if (t.ne[i] != 1) ok = false;
    if (!ok) {
        throw gguf::GgufError(m_file.path(), m_file.data_offset() + t.offset, std::string(t.name),
                              "tensor has shape " + shape_string(t.ne.data(), t.n_dims) +
                                  ", expected " + shape_string(ne.begin(), ne.size()));
    }
    if (!dtype_traits(t.type).supported) {
        throw gguf::GgufError(
            m_file.path(), m_file.data_offset() + t.offset, std::string(t.name),
            "tensor type " + std::string(dtype_name(t.type)) + " is not supported yet");
    }
}

void WeightBinder::bind_embeddings(ModelWeights& w) {
    w.tok_embd = require("token_embd.weight", {m_hp.n_embd, m_hp.n_vocab});
    w.output_norm = require("output_norm.weight", {m_hp.n_embd});
    w.output = optional("output.weight", {m_hp.n_embd, m_hp.n_vocab});
    if (!w.output) w.output = w.tok_embd;
}

const gguf::TensorInfo* WeightBinder::require(const std::string& name,
                                              std::initializer_list<int64_t> ne) {
    const auto* t = m_file.find_tensor(name);
    if (!t) throw gguf::GgufError(m_file.path(), 0, name, "missing required tensor");
    check_shape(*t, ne);
    return t;
}

const gguf::TensorInfo* WeightBinder::optional(const std::string& name,
                                               std::initializer_list<int64_t> ne) {
    const auto* t = m_file.find_tensor(name);
    if (t) check_shape(*t, ne);
    return t;
}

}  // namespace folio
