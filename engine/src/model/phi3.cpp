// phi3: fused qkv projection (rows q | k | v) and fused gate/up projection (rows gate | up),
// neox-style rope, untied output.
#include "model/architecture.h"

namespace folio {

ModelWeights bind_phi3(const gguf::GgufFile& file, const ModelHParams& hp) {
    WeightBinder b(file, hp);
    ModelWeights w;
    b.bind_embeddings(w);
    const int64_t n_qkv = hp.n_embd_q() + 2 * hp.n_embd_kv();
    for (int il = 0; il < hp.n_layer; ++il) {
        auto n = [il](const char* s) { return WeightBinder::layer_name(il, s); };
        LayerWeights l;
        l.attn_norm = b.require(n("attn_norm.weight"), {hp.n_embd});
        l.wqkv = b.optional(n("attn_qkv.weight"), {hp.n_embd, n_qkv});
        if (!l.wqkv) {
            l.wq = b.require(n("attn_q.weight"), {hp.n_embd, hp.n_embd_q()});
            l.wk = b.require(n("attn_k.weight"), {hp.n_embd, hp.n_embd_kv()});
            l.wv = b.require(n("attn_v.weight"), {hp.n_embd, hp.n_embd_kv()});
        }
        l.wo = b.require(n("attn_output.weight"), {hp.n_embd_q(), hp.n_embd});
        l.ffn_norm = b.require(n("ffn_norm.weight"), {hp.n_embd});
        l.w_gate_up = b.require(n("ffn_up.weight"), {hp.n_embd, 2 * hp.n_ff});
        l.w_down = b.require(n("ffn_down.weight"), {hp.n_ff, hp.n_embd});
        w.layers.push_back(l);
    }
    return w;
}

}  // namespace folio
