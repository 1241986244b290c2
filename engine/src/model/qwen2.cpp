// qwen2: the llama layout plus q/k/v biases (required), neox-style rope, usually tied output.
#include "model/architecture.h"

namespace folio {

ModelWeights bind_qwen2(const gguf::GgufFile& file, const ModelHParams& hp) {
    ModelWeights w = bind_llama(file, hp);
    WeightBinder b(file, hp);
    for (int il = 0; il < hp.n_layer; ++il) {
        auto n = [il](const char* s) { return WeightBinder::layer_name(il, s); };
        auto& l = w.layers[static_cast<size_t>(il)];
        l.bq = b.require(n("attn_q.bias"), {hp.n_embd_q()});
        l.bk = b.require(n("attn_k.bias"), {hp.n_embd_kv()});
        l.bv = b.require(n("attn_v.bias"), {hp.n_embd_kv()});
    }
    return w;
}

}  // namespace folio
