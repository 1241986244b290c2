// llama: separate q/k/v/o and gate/up/down projections, RMSNorm, rope on (2i, 2i+1) pairs,
// grouped-query attention, output tied to the token embedding when output.weight is absent,
// optional llama-3 rope frequency factors (rope_freqs.weight).
#include "model/architecture.h"

namespace folio {

ModelWeights bind_llama(const gguf::GgufFile& file, const ModelHParams& hp) {
    WeightBinder b(file, hp);
    ModelWeights w;
    b.bind_embeddings(w);
    w.rope_freqs = b.optional("rope_freqs.weight", {hp.n_rot / 2});
    for (int il = 0; il < hp.n_layer; ++il) {
        auto n = [il](const char* s) { return WeightBinder::layer_name(il, s); };
        LayerWeights l;
        l.attn_norm = b.require(n("attn_norm.weight"), {hp.n_embd});
        l.wq = b.require(n("attn_q.weight"), {hp.n_embd, hp.n_embd_q()});
        l.wk = b.require(n("attn_k.weight"), {hp.n_embd, hp.n_embd_kv()});
        l.wv = b.require(n("attn_v.weight"), {hp.n_embd, hp.n_embd_kv()});
        l.bq = b.optional(n("attn_q.bias"), {hp.n_embd_q()});
        l.bk = b.optional(n("attn_k.bias"), {hp.n_embd_kv()});
        l.bv = b.optional(n("attn_v.bias"), {hp.n_embd_kv()});
        l.wo = b.require(n("attn_output.weight"), {hp.n_embd_q(), hp.n_embd});
        l.ffn_norm = b.require(n("ffn_norm.weight"), {hp.n_embd});
        l.w_gate = b.require(n("ffn_gate.weight"), {hp.n_embd, hp.n_ff});
        l.w_up = b.require(n("ffn_up.weight"), {hp.n_embd, hp.n_ff});
        l.w_down = b.require(n("ffn_down.weight"), {hp.n_ff, hp.n_embd});
        w.layers.push_back(l);
    }
    return w;
}

}  // namespace folio
