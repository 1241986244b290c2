#include "backend/cpu/cpu_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/attention_decode.h"
#include "backend/cpu/cpu_ops.h"
#include "common/aligned_vector.h"
#include "common/check.h"
#include "kernels/cpu/kernels.h"

namespace folio {
namespace {

// Query vectors (rows x query heads of one KV head) handled together: each K/V block is
// converted once per tile, and the tile's queries, outputs and scores stay in L1/L2.
constexpr int64_t kTileQueries = 32;
// Keys per kernel call: consecutive blocks are converted side by side, so that the kernel's
// per-call work (loading and storing the running outputs) is spread over more keys.
constexpr int64_t kKeysPerCall = 64;

// ---- one task: a tile of query rows of one sequence, one KV head ----------------------------

struct Scratch {
    AlignedVector<float> qt;      // the tile's queries, scaled and transposed: [head_dim][ldq]
    AlignedVector<float> ot;      // running outputs, transposed like qt
    AlignedVector<float> m, l;    // running max and sum per query: [ldq]
    AlignedVector<int32_t> seen;  // keys of the current call each query sees: [ldq]
    AlignedVector<float> s;       // scores of one call: [keys + 1][ldq]
    AlignedVector<float> k, v;    // the call's K and V blocks as f32: [keys][head_dim]
    std::vector<float> decode;    // attend_one_query's scores
};

// Flash attention over the tile's key blocks (kern::OpsTable::attn_block): scores, softmax and
// the weighted sum of values a few blocks at a time, with a running max and sum per query, so no
// context-long score rows and no second pass.
void attend_tile(const ForwardBatch& batch, const SeqBatchInfo& seq, int32_t row0, int32_t rows,
                 const CpuKvCache& cache, int64_t layer, int64_t kvh, const AttentionShape& s,
                 const float* q, float* out, Scratch& sc) {
    const auto& cs = cache.shape();
    const int64_t n_gqa = s.n_head / s.n_kv_head, hd = s.head_dim, bs = cs.block_size;
    const int64_t qstride = s.n_head * hd;
    const int64_t nq = rows * n_gqa, ldq = (nq + 7) / 8 * 8;
    // Rows of a sequence have consecutive positions, so the last row sees the longest context.
    const int64_t ctx_max = batch.positions[static_cast<size_t>(row0 + rows - 1)] + 1;
    const int64_t n_blocks = (ctx_max + bs - 1) / bs;
    FOLIO_CHECK(n_blocks <= static_cast<int64_t>(seq.block_table.size()));
    auto ctx_of = [&](int64_t i) {  // context of query i (row i / n_gqa)
        return batch.positions[static_cast<size_t>(row0 + i / n_gqa)] + 1;
    };
    auto head_offset = [&](int64_t i) {  // where query i's head lies in q and out
        return (row0 + i / n_gqa) * qstride + (kvh * n_gqa + i % n_gqa) * hd;
    };

    sc.qt.assign(static_cast<size_t>(hd * ldq), 0.0f);
    sc.ot.assign(static_cast<size_t>(hd * ldq), 0.0f);
    sc.m.assign(static_cast<size_t>(ldq), -INFINITY);
    sc.l.assign(static_cast<size_t>(ldq), 0.0f);
    sc.seen.assign(static_cast<size_t>(ldq), 0);
    const int64_t per_call = std::max<int64_t>(1, kKeysPerCall / bs);  // blocks per call
    sc.s.resize(static_cast<size_t>((per_call * bs + 1) * ldq));
    sc.k.resize(static_cast<size_t>(per_call * bs * hd));
    sc.v.resize(static_cast<size_t>(per_call * bs * hd));
    for (int64_t i = 0; i < nq; ++i) {
        const float* qi = q + head_offset(i);
        for (int64_t d = 0; d < hd; ++d) sc.qt[d * ldq + i] = qi[d] * s.scale;
    }
    const auto& ops = kern::kernel_table().ops;
    for (int64_t b0 = 0; b0 < n_blocks; b0 += per_call) {
        const int64_t base = b0 * bs;
        int64_t n = 0;  // keys of this call
        for (int64_t b = b0; b < std::min(n_blocks, b0 + per_call); ++b) {
            const int64_t nb = std::min(bs, ctx_max - b * bs);
            const int32_t block = seq.block_table[static_cast<size_t>(b)];
            dequantize_row_fast(cs.dtype, cache.k_head(layer, block, kvh), sc.k.data() + n * hd,
                                nb * hd);
            dequantize_row_fast(cs.dtype, cache.v_head(layer, block, kvh), sc.v.data() + n * hd,
                                nb * hd);
            n += nb;
        }
        for (int64_t i = 0; i < nq; ++i)
            sc.seen[i] = static_cast<int32_t>(std::clamp<int64_t>(ctx_of(i) - base, 0, n));
        ops.attn_block(sc.qt.data(), ldq, nq, hd, sc.k.data(), sc.v.data(), n, sc.seen.data(),
                       sc.m.data(), sc.l.data(), sc.ot.data(), sc.s.data());
    }
    for (int64_t i = 0; i < nq; ++i) {
        float* dst = out + head_offset(i);
        const float inv = 1.0f / sc.l[i];
        for (int64_t d = 0; d < hd; ++d) dst[d] = sc.ot[d * ldq + i] * inv;
    }
}

struct Task {
    int32_t seq, row0, rows;
    int64_t kvh;
};

}  // namespace

void paged_attention(const ForwardBatch& batch, const CpuKvCache& cache, int64_t layer,
                     const AttentionShape& shape, const float* q, float* out, ThreadPool& pool) {
    FOLIO_CHECK(shape.n_head % shape.n_kv_head == 0);
    FOLIO_CHECK(cache.shape().n_kv_head == shape.n_kv_head &&
                cache.shape().head_dim == shape.head_dim);
    FOLIO_CHECK(cache.shape().block_size <= 64);
    // Tasks: (sequence, query tile, kv head); long prefills split into many tiles.
    const int64_t tile_rows = std::max<int64_t>(1, kTileQueries / (shape.n_head / shape.n_kv_head));
    std::vector<Task> tasks;
    for (size_t si = 0; si < batch.seqs.size(); ++si) {
        const auto& sq = batch.seqs[si];
        for (int32_t r = 0; r < sq.num_tokens; r += tile_rows) {
            const auto rows = static_cast<int32_t>(std::min<int64_t>(tile_rows, sq.num_tokens - r));
            for (int64_t h = 0; h < shape.n_kv_head; ++h)
                tasks.push_back(Task{static_cast<int32_t>(si), sq.token_begin + r, rows, h});
        }
    }
    // Later tiles see longer contexts: hand them out first for better balance.
    std::reverse(tasks.begin(), tasks.end());
    const bool one_query_path = attend_one_query_supported(cache.shape());
    const int64_t n_gqa = shape.n_head / shape.n_kv_head, qstride = shape.n_head * shape.head_dim;
    pool.parallel_for(static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end, int) {
        thread_local Scratch scratch;
        for (int64_t i = begin; i < end; ++i) {
            const Task& t = tasks[static_cast<size_t>(i)];
            const SeqBatchInfo& seq = batch.seqs[static_cast<size_t>(t.seq)];
            if (t.rows == 1 && one_query_path) {
                DecodeAttentionArgs a;
                a.cache = &cache;
                a.block_table = seq.block_table;
                a.ctx = batch.positions[static_cast<size_t>(t.row0)] + 1;
                a.layer = layer;
                a.kv_head = t.kvh;
                a.n_gqa = n_gqa;
                a.scale = shape.scale;
                const int64_t head0 = t.row0 * qstride + t.kvh * n_gqa * shape.head_dim;
                a.q = q + head0;
                a.out = out + head0;
                attend_one_query(a, scratch.decode);
                continue;
            }
            attend_tile(batch, seq, t.row0, t.rows, cache, layer, t.kvh, shape, q, out, scratch);
        }
    });
}

}  // namespace folio
