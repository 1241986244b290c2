#include "backend/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "backend/cpu/cpu_attention.h"
#include "backend/cpu/cpu_ops.h"
#include "common/check.h"
#include "gguf/mapped_file.h"
#include "tensor/quants.h"

namespace folio {

struct CpuBackend::Layer {
    std::vector<float> attn_norm, ffn_norm, bq, bk, bv;
    std::unique_ptr<CpuWeight> wq, wk, wv, wqkv, wo, w_gate, w_up, w_gate_up, w_down;
    // Row-concatenated copies of separate projections (q|k|v, gate|up) that a fused weight
    // still reads; empty when the fused weight holds its own repacked copy.
    std::vector<uint8_t> qkv_rows, gate_up_rows;
};

// Activation buffers, grown to the largest batch seen.
struct CpuBackend::Buffers {
    int64_t capacity = 0;
    std::vector<float> x, h, q, k, v, qkv, attn, gate, up, gate_up;
    std::vector<float> rope_cos_sin;  // [n_tokens][n_rot] (cos, sin) pairs

    void reserve(const ModelHParams& hp, int64_t n) {
        if (n <= capacity) return;
        capacity = n;
        auto grow = [n](std::vector<float>& b, int64_t width) {
            b.assign(static_cast<size_t>(n * width), 0.0f);
        };
        grow(x, hp.n_embd);
        grow(h, hp.n_embd);
        grow(q, hp.n_embd_q());
        grow(k, hp.n_embd_kv());
        grow(v, hp.n_embd_kv());
        grow(qkv, hp.n_embd_q() + 2 * hp.n_embd_kv());
        grow(attn, hp.n_embd_q());
        grow(gate, hp.n_ff);
        grow(up, hp.n_ff);
        grow(gate_up, 2 * hp.n_ff);
        grow(rope_cos_sin, hp.n_rot);
    }
};

namespace {

std::vector<float> tensor_to_f32(const gguf::TensorInfo* t) {
    if (!t) return {};
    std::vector<float> out(static_cast<size_t>(t->num_elements()));
    dequantize_row(t->type, t->data, out.data(), t->num_elements());
    return out;
}

// A weight for products, repacked (on the pool's threads) where its type has a repacked
// layout. The file pages of a repacked weight are released unless `keep_source` (a tied
// output, whose rows the embedding lookup still reads).
std::unique_ptr<CpuWeight> prepare(WeightArena& arena, ThreadPool& pool, const gguf::TensorInfo* t,
                                   bool keep_source = false) {
    if (!t) return nullptr;
    auto w = CpuWeight::create(t->type, t->ne[1], t->ne[0], t->data,
                               CpuWeightOptions{CpuIsa::kAuto, true, &arena, &pool});
    if (w->repacked() && !keep_source) gguf::release_mapped_pages(t->data, t->nbytes);
    return w;
}

// One weight whose rows are the rows of `parts` in order (e.g. q|k|v), so a layer issues one
// product instead of several (fewer thread hand-offs per token in decode). nullptr when the
// parts differ in type or width. `rows` receives the concatenated bytes when the result still
// reads them (no repacked copy).
std::unique_ptr<CpuWeight> prepare_fused(WeightArena& arena, ThreadPool& pool,
                                         std::initializer_list<const gguf::TensorInfo*> parts,
                                         std::vector<uint8_t>& rows) {
    const gguf::TensorInfo* first = *parts.begin();
    int64_t total_rows = 0;
    size_t total_bytes = 0;
    for (const auto* t : parts) {
        if (t->type != first->type || t->ne[0] != first->ne[0]) return nullptr;
        total_rows += t->ne[1];
        total_bytes += t->nbytes;
    }
    rows.resize(total_bytes);
    size_t offset = 0;
    for (const auto* t : parts) {
        std::memcpy(rows.data() + offset, t->data, t->nbytes);
        gguf::release_mapped_pages(t->data, t->nbytes);  // only the copy is read from now on
        offset += t->nbytes;
    }
    auto w = CpuWeight::create(first->type, total_rows, first->ne[0], rows.data(),
                               CpuWeightOptions{CpuIsa::kAuto, true, &arena, &pool});
    if (w->repacked()) std::vector<uint8_t>().swap(rows);
    return w;
}

// Runs fn(begin, end) over the batch's tokens: on the pool for batches big enough to pay for
// the hand-off, inline otherwise (decode). Keeps the elementwise steps between the products
// from running on one core while the others wait.
template <typename Fn>
void for_tokens(ThreadPool& pool, int64_t n, const Fn& fn) {
    // A grain of n keeps a small batch on the caller (parallel_for does not split it).
    pool.parallel_for(n, n < 8 ? n : 4, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

}  // namespace

CpuBackend::CpuBackend(const Model& model, const CpuBackendOptions& options)
    : m_model(model), m_pool(options.num_threads), m_buf(std::make_unique<Buffers>()) {
    const auto& hp = model.hparams();
    KvCacheShape shape;
    shape.n_layer = hp.n_layer;
    shape.n_kv_head = hp.n_head_kv;
    shape.head_dim = hp.head_dim;
    shape.num_blocks = options.kv_num_blocks;
    shape.block_size = options.kv_block_size;
    shape.dtype = options.kv_dtype;
    m_kv = std::make_unique<CpuKvCache>(shape, options.commit_kv_memory);
    prepare_weights();
}

CpuBackend::~CpuBackend() = default;

std::string CpuBackend::name() const {
    return std::string("cpu (") + cpu_isa_name(cpu_isa_best()) + ", " +
           std::to_string(m_pool.num_threads()) + " threads)";
}

void CpuBackend::prepare_weights() {
    const auto& w = m_model.weights();
    const auto& hp = m_model.hparams();
    // The embedding is read a row at a time; keep it in the file's layout.
    m_tok_embd = CpuWeight::create(w.tok_embd->type, w.tok_embd->ne[1], w.tok_embd->ne[0],
                                   w.tok_embd->data, CpuWeightOptions{CpuIsa::kAuto, false});
    // A tied output gets its own prepared copy: products want a repacked layout, lookups not.
    m_output = prepare(m_arena, m_pool, w.output, w.output == w.tok_embd);
    m_output_norm = tensor_to_f32(w.output_norm);
    m_rope_freq_factors = tensor_to_f32(w.rope_freqs);
    m_rope.n_dims = hp.n_rot;
    m_rope.freq_base = hp.rope_freq_base;
    m_rope.freq_scale = hp.rope_freq_scale;
    m_rope.freq_factors = m_rope_freq_factors.empty() ? nullptr : m_rope_freq_factors.data();
    m_rope.neox = hp.rope_type == RopeType::Neox;
    m_layers.resize(w.layers.size());
    for (size_t il = 0; il < w.layers.size(); ++il) {
        const auto& src = w.layers[il];
        auto& l = m_layers[il];
        l.attn_norm = tensor_to_f32(src.attn_norm);
        l.ffn_norm = tensor_to_f32(src.ffn_norm);
        l.bq = tensor_to_f32(src.bq);
        l.bk = tensor_to_f32(src.bk);
        l.bv = tensor_to_f32(src.bv);
        l.wqkv = src.wqkv ? prepare(m_arena, m_pool, src.wqkv)
                          : prepare_fused(m_arena, m_pool, {src.wq, src.wk, src.wv}, l.qkv_rows);
        if (!l.wqkv) {
            l.wq = prepare(m_arena, m_pool, src.wq);
            l.wk = prepare(m_arena, m_pool, src.wk);
            l.wv = prepare(m_arena, m_pool, src.wv);
        }
        l.wo = prepare(m_arena, m_pool, src.wo);
        l.w_gate_up = src.w_gate_up
                          ? prepare(m_arena, m_pool, src.w_gate_up)
                          : prepare_fused(m_arena, m_pool, {src.w_gate, src.w_up}, l.gate_up_rows);
        if (!l.w_gate_up) {
            l.w_gate = prepare(m_arena, m_pool, src.w_gate);
            l.w_up = prepare(m_arena, m_pool, src.w_up);
        }
        l.w_down = prepare(m_arena, m_pool, src.w_down);
    }
}

void CpuBackend::run_layer(size_t il, const ForwardBatch& batch, Buffers& b) {
    const auto& hp = m_model.hparams();
    const auto& l = m_layers[il];
    const int64_t n = batch.num_tokens();
    const int64_t n_embd = hp.n_embd, n_q = hp.n_embd_q(), n_kv = hp.n_embd_kv();

    // Attention block.
    for_tokens(m_pool, n, [&](int64_t t0, int64_t t1) {
        rms_norm_rows(b.x.data() + t0 * n_embd, n_embd, l.attn_norm.data(),
                      b.h.data() + t0 * n_embd, n_embd, n_embd, t1 - t0, hp.rms_eps);
    });
    const int64_t n_qkv = n_q + 2 * n_kv;
    if (l.wqkv) {
        matmul(*l.wqkv, b.h.data(), n_embd, n, b.qkv.data(), n_qkv, m_pool);
    } else {
        matmul(*l.wq, b.h.data(), n_embd, n, b.q.data(), n_q, m_pool);
        matmul(*l.wk, b.h.data(), n_embd, n, b.k.data(), n_kv, m_pool);
        matmul(*l.wv, b.h.data(), n_embd, n, b.v.data(), n_kv, m_pool);
    }
    // Per token: split q|k|v, biases, rotary embedding, K/V into the token's cache slot.
    for_tokens(m_pool, n, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            float* q = b.q.data() + t * n_q;
            float* k = b.k.data() + t * n_kv;
            float* v = b.v.data() + t * n_kv;
            if (l.wqkv) {
                const float* src = b.qkv.data() + t * n_qkv;
                std::memcpy(q, src, sizeof(float) * n_q);
                std::memcpy(k, src + n_q, sizeof(float) * n_kv);
                std::memcpy(v, src + n_q + n_kv, sizeof(float) * n_kv);
            }
            if (!l.bq.empty()) add(q, l.bq.data(), q, n_q);
            if (!l.bk.empty()) add(k, l.bk.data(), k, n_kv);
            if (!l.bv.empty()) add(v, l.bv.data(), v, n_kv);
            const float* cs = b.rope_cos_sin.data() + t * hp.n_rot;
            rope_apply(q, hp.n_head, hp.head_dim, cs, m_rope);
            rope_apply(k, hp.n_head_kv, hp.head_dim, cs, m_rope);
            m_kv->store(static_cast<int64_t>(il), batch.slot_mapping[static_cast<size_t>(t)], k, v);
        }
    });

    AttentionShape shape{hp.n_head, hp.n_head_kv, hp.head_dim,
                         1.0f / std::sqrt(static_cast<float>(hp.head_dim))};
    paged_attention(batch, *m_kv, static_cast<int64_t>(il), shape, b.q.data(), b.attn.data(),
                    m_pool);
    matmul(*l.wo, b.attn.data(), n_q, n, b.h.data(), n_embd, m_pool);

    // Residual, then the feed-forward block (SwiGLU).
    for_tokens(m_pool, n, [&](int64_t t0, int64_t t1) {
        float* x = b.x.data() + t0 * n_embd;
        add(x, b.h.data() + t0 * n_embd, x, (t1 - t0) * n_embd);
        rms_norm_rows(x, n_embd, l.ffn_norm.data(), b.h.data() + t0 * n_embd, n_embd, n_embd,
                      t1 - t0, hp.rms_eps);
    });
    const int64_t n_ff = hp.n_ff;
    if (l.w_gate_up) {
        matmul(*l.w_gate_up, b.h.data(), n_embd, n, b.gate_up.data(), 2 * n_ff, m_pool);
    } else {
        matmul(*l.w_gate, b.h.data(), n_embd, n, b.gate.data(), n_ff, m_pool);
        matmul(*l.w_up, b.h.data(), n_embd, n, b.up.data(), n_ff, m_pool);
    }
    for_tokens(m_pool, n, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            float* gate = b.gate.data() + t * n_ff;
            if (l.w_gate_up) {
                const float* gu = b.gate_up.data() + t * 2 * n_ff;
                silu_mul(gu, gu + n_ff, gate, n_ff);
            } else {
                silu_mul(gate, b.up.data() + t * n_ff, gate, n_ff);
            }
        }
    });
    matmul(*l.w_down, b.gate.data(), n_ff, n, b.h.data(), n_embd, m_pool);
    for_tokens(m_pool, n, [&](int64_t t0, int64_t t1) {
        float* x = b.x.data() + t0 * n_embd;
        add(x, b.h.data() + t0 * n_embd, x, (t1 - t0) * n_embd);
    });
}

void CpuBackend::forward(const ForwardBatch& batch, float* logits, float* hidden) {
    const auto& hp = m_model.hparams();
    const int64_t n = batch.num_tokens();
    FOLIO_CHECK(n > 0);
    FOLIO_CHECK(batch.positions.size() == batch.tokens.size());
    FOLIO_CHECK(batch.slot_mapping.size() == batch.tokens.size());
    auto& b = *m_buf;
    b.reserve(hp, n);

    for (int64_t t = 0; t < n; ++t) {
        const int32_t tok = batch.tokens[static_cast<size_t>(t)];
        FOLIO_CHECK(tok >= 0 && tok < hp.n_vocab);
        m_tok_embd->get_row(tok, b.x.data() + t * hp.n_embd);
    }
    for (int64_t t = 0; t < n; ++t)
        rope_cos_sin(batch.positions[static_cast<size_t>(t)], m_rope,
                     b.rope_cos_sin.data() + t * hp.n_rot);
    for (size_t il = 0; il < m_layers.size(); ++il) run_layer(il, batch, b);

    for (size_t i = 0; i < batch.hidden_rows.size(); ++i) {
        const int32_t r = batch.hidden_rows[i];
        FOLIO_CHECK(hidden != nullptr && r >= 0 && r < n);
        rms_norm(b.x.data() + r * hp.n_embd, m_output_norm.data(),
                 hidden + static_cast<int64_t>(i) * hp.n_embd, hp.n_embd, hp.rms_eps);
    }
    const auto n_out = static_cast<int64_t>(batch.logits_rows.size());
    if (n_out == 0) return;
    // Final norm only for the rows whose logits are wanted.
    std::vector<float>& rows = b.h;  // free again after the last layer
    for (int64_t i = 0; i < n_out; ++i) {
        const int32_t r = batch.logits_rows[static_cast<size_t>(i)];
        FOLIO_CHECK(r >= 0 && r < n);
        rms_norm(b.x.data() + r * hp.n_embd, m_output_norm.data(), rows.data() + i * hp.n_embd,
                 hp.n_embd, hp.rms_eps);
    }
    matmul(*m_output, rows.data(), hp.n_embd, n_out, logits, hp.n_vocab, m_pool);
}

}  // namespace folio
