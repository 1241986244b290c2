// Paged attention on the CPU against a plain double-precision reference: several sequences
// with shuffled block tables, decode rows (one query: the in-place AVX2 path for f16/f32) and
// prefill tiles (the converting tile path), every KV dtype, grouped-query head ratios that do
// and do not divide into the kernel's head groups, and head sizes on both sides of its limits.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "backend/cpu/attention_decode.h"
#include "backend/cpu/cpu_attention.h"
#include "tensor/quants.h"

using namespace folio;

namespace {

struct Setup {
    int64_t n_head, n_kv_head, head_dim;
    DType dtype;
    int64_t block_size = 16;
};

// One sequence: `ctx` positions already in the cache, of which the last `rows` are queried.
struct SeqSpec {
    int32_t ctx, rows;
};

void run_case(const Setup& s, const std::vector<SeqSpec>& seqs) {
    const int64_t kBlock = s.block_size;
    std::mt19937 rng(static_cast<uint32_t>(s.n_head * 131 + s.head_dim * 7 + seqs.size()));
    std::normal_distribution<float> nd(0.0f, 1.0f);
    int64_t total_blocks = 0;
    for (const auto& sq : seqs) total_blocks += (sq.ctx + kBlock - 1) / kBlock;
    KvCacheShape shape;
    shape.n_layer = 2;
    shape.n_kv_head = s.n_kv_head;
    shape.head_dim = s.head_dim;
    shape.num_blocks = total_blocks + 3;
    shape.block_size = kBlock;
    shape.dtype = s.dtype;
    CpuKvCache cache(shape);
    const int64_t layer = 1;

    // Blocks handed out in a shuffled order, so no sequence is contiguous.
    std::vector<int32_t> free_ids(static_cast<size_t>(shape.num_blocks));
    std::iota(free_ids.begin(), free_ids.end(), 0);
    std::shuffle(free_ids.begin(), free_ids.end(), rng);
    std::vector<std::vector<int32_t>> tables(seqs.size());
    const int64_t kv_width = s.n_kv_head * s.head_dim, q_width = s.n_head * s.head_dim;
    // Reference K/V: what the cache holds after rounding to its dtype.
    std::vector<std::vector<float>> ref_k(seqs.size()), ref_v(seqs.size());
    std::vector<float> k(kv_width), v(kv_width), back(s.head_dim);
    std::vector<uint8_t> tmp(dtype_row_size(s.dtype, s.head_dim));
    size_t next_free = 0;
    for (size_t si = 0; si < seqs.size(); ++si) {
        const int32_t ctx = seqs[si].ctx;
        for (int64_t b = 0; b < (ctx + kBlock - 1) / kBlock; ++b)
            tables[si].push_back(free_ids[next_free++]);
        ref_k[si].resize(static_cast<size_t>(ctx * kv_width));
        ref_v[si].resize(static_cast<size_t>(ctx * kv_width));
        for (int32_t pos = 0; pos < ctx; ++pos) {
            for (auto& x : k) x = nd(rng);
            for (auto& x : v) x = nd(rng);
            const int64_t slot = tables[si][pos / kBlock] * kBlock + pos % kBlock;
            cache.store(layer, slot, k.data(), v.data());
            for (int64_t h = 0; h < s.n_kv_head; ++h) {
                for (auto [src, dst] : {std::pair{&k, &ref_k[si]}, std::pair{&v, &ref_v[si]}}) {
                    quantize_row_ref(s.dtype, src->data() + h * s.head_dim, tmp.data(), s.head_dim);
                    dequantize_row(s.dtype, tmp.data(), back.data(), s.head_dim);
                    std::copy(back.begin(), back.end(),
                              dst->begin() + pos * kv_width + h * s.head_dim);
                }
            }
        }
    }

    ForwardBatch batch;
    for (size_t si = 0; si < seqs.size(); ++si) {
        SeqBatchInfo info;
        info.token_begin = batch.num_tokens();
        info.num_tokens = seqs[si].rows;
        info.block_table = tables[si];
        for (int32_t r = 0; r < seqs[si].rows; ++r) {
            const int32_t pos = seqs[si].ctx - seqs[si].rows + r;
            batch.tokens.push_back(0);
            batch.positions.push_back(pos);
            batch.slot_mapping.push_back(tables[si][pos / kBlock] * kBlock + pos % kBlock);
        }
        batch.seqs.push_back(info);
    }
    const int64_t n_tok = batch.num_tokens();
    std::vector<float> q(static_cast<size_t>(n_tok * q_width)), out(q.size(), 99.0f);
    for (auto& x : q) x = nd(rng);
    AttentionShape as{s.n_head, s.n_kv_head, s.head_dim,
                      1.0f / std::sqrt(static_cast<float>(s.head_dim))};
    ThreadPool pool(2);
    paged_attention(batch, cache, layer, as, q.data(), out.data(), pool);

    const int64_t n_gqa = s.n_head / s.n_kv_head;
    for (size_t si = 0; si < seqs.size(); ++si) {
        for (int32_t r = 0; r < seqs[si].rows; ++r) {
            const int64_t row = batch.seqs[si].token_begin + r;
            const int64_t ctx = batch.positions[static_cast<size_t>(row)] + 1;
            for (int64_t h = 0; h < s.n_head; ++h) {
                const int64_t kvh = h / n_gqa;
                const float* qh = &q[row * q_width + h * s.head_dim];
                std::vector<double> p(static_cast<size_t>(ctx));
                double mx = -1e300;
                for (int64_t j = 0; j < ctx; ++j) {
                    double dot = 0;
                    for (int64_t d = 0; d < s.head_dim; ++d)
                        dot += double(qh[d]) * ref_k[si][j * kv_width + kvh * s.head_dim + d];
                    p[j] = dot * as.scale;
                    mx = std::max(mx, p[j]);
                }
                double sum = 0;
                for (auto& x : p) sum += (x = std::exp(x - mx));
                for (int64_t d = 0; d < s.head_dim; ++d) {
                    double want = 0;
                    for (int64_t j = 0; j < ctx; ++j)
                        want += p[j] / sum * ref_v[si][j * kv_width + kvh * s.head_dim + d];
                    const float got = out[row * q_width + h * s.head_dim + d];
                    QVERIFY2(std::fabs(got - want) <= 2e-4 + 2e-4 * std::fabs(want),
                             qPrintable(QString("%1 heads %2/%3 dim %4 seq %5 row %6 head %7 d %8: "
                                                "got %9 want %10")
                                            .arg(dtype_name(s.dtype).data())
                                            .arg(s.n_head)
                                            .arg(s.n_kv_head)
                                            .arg(s.head_dim)
                                            .arg(si)
                                            .arg(r)
                                            .arg(h)
                                            .arg(d)
                                            .arg(got)
                                            .arg(want)));
                }
            }
        }
    }
}

}  // namespace

class TestCpuAttention : public QObject {
    Q_OBJECT

  private slots:
    void matches_reference_data() {
        QTest::addColumn<int>("n_head");
        QTest::addColumn<int>("n_kv_head");
        QTest::addColumn<int>("head_dim");
        QTest::addColumn<int>("dtype");
        for (DType dt : {DType::F16, DType::F32, DType::Q8_0}) {
            // (heads, kv heads, head dim): no GQA, GQA 4, GQA 3 and 7 (uneven head groups),
            // a head size the one-query path does not take (40) and one at its limit (256).
            for (auto [h, kvh, hd] :
                 {std::tuple{4, 4, 64}, std::tuple{16, 4, 64}, std::tuple{12, 4, 32},
                  std::tuple{14, 2, 64}, std::tuple{4, 2, 40}, std::tuple{2, 1, 256}}) {
                if (dt == DType::Q8_0 && hd % 32 != 0) continue;
                QTest::addRow("%s/%d-%d-%d", dtype_name(dt).data(), h, kvh, hd)
                    << h << kvh << hd << static_cast<int>(dt);
            }
        }
    }
    void matches_reference() {
        QFETCH(int, n_head);
        QFETCH(int, n_kv_head);
        QFETCH(int, head_dim);
        QFETCH(int, dtype);
        const Setup s{n_head, n_kv_head, head_dim, static_cast<DType>(dtype)};
        // Decode rows at block edges and inside blocks, a first token, and prefill tiles
        // (more rows than one query tile) mixed in the same batch.
        run_case(s, {{1, 1}, {16, 1}, {17, 1}, {45, 1}, {40, 20}, {7, 3}, {33, 1}});
    }

    // Block sizes other than the default: several blocks per kernel call, or one block that
    // fills a call; long prefills of many query tiles.
    void other_block_sizes() {
        for (int64_t bs : {1, 8, 64}) {
            const Setup s{16, 4, 64, DType::F16, bs};
            run_case(s, {{150, 100}, {3, 1}, {70, 9}});
            if (QTest::currentTestFailed()) QFAIL(qPrintable(QString("block size %1").arg(bs)));
        }
    }

    void one_query_path_covers_the_common_caches() {
        KvCacheShape shape;
        shape.head_dim = 128;
        shape.dtype = DType::F16;
        const bool avx2 = attend_one_query_supported(shape);
        shape.dtype = DType::Q8_0;
        QVERIFY(!attend_one_query_supported(shape));
        shape.dtype = DType::F32;
        shape.head_dim = 40;
        QVERIFY(!attend_one_query_supported(shape));
        if (!avx2) QSKIP("no AVX2: every case takes the tile path");
    }
};

QTEST_GUILESS_MAIN(TestCpuAttention)
#include "test_cpu_attention.moc"
