// Embedding requests (RequestSpec::return_embedding): the mean of the final normed hidden states
// over every prompt position, L2-normalized. Checked against the engine's own prompt logits
// (themselves checked against llama.cpp by test_golden_logits): logits are linear in the hidden
// state, so output_weight · embedding must point the same way as the mean of the prompt's logit
// rows. Chunked prefill, a warm prefix cache and concurrent generation must not change it.
#include <QtTest/QtTest>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "folio/engine.h"
#include "model/model.h"
#include "shared_data.h"
#include "tensor/quants.h"

using namespace folio;

namespace {

const char* kPrompt = "The quick brown fox jumps over the lazy dog. Once upon a time there was";

double norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s);
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
    return d;
}

}  // namespace

class TestEmbeddings : public QObject {
    Q_OBJECT

    std::shared_ptr<const Model> model_;

    std::unique_ptr<Engine> make_engine(int max_batched_tokens, bool prefix_caching = true) {
        EngineConfig c;
        c.num_threads = 2;
        c.num_kv_blocks = 64;
        c.max_model_len = 512;
        c.max_num_batched_tokens = max_batched_tokens;
        c.max_num_seqs = 8;
        c.enable_prefix_caching = prefix_caching;
        return Engine::create(model_, c);
    }

    static std::vector<float> embed(Engine& e, const std::string& text) {
        RequestSpec s;
        s.prompt = text;
        s.return_embedding = true;
        RequestOutput out = e.submit(s).collect();
        if (!out.error.empty()) throw std::runtime_error(out.error);
        return out.embedding;
    }

  private slots:
    void initTestCase() { model_ = Model::load(test::shared_path("models/micro-llama-F32.gguf")); }

    void embedding_is_the_pooled_normalized_hidden_state() {
        auto engine = make_engine(2048);
        const std::vector<float> emb = embed(*engine, kPrompt);
        const int64_t n_embd = model_->hparams().n_embd;
        QCOMPARE(static_cast<int64_t>(emb.size()), n_embd);
        QVERIFY(std::fabs(norm(emb) - 1.0) < 1e-5);

        // Mean of the prompt's logit rows.
        RequestSpec s;
        s.prompt = kPrompt;
        s.return_prompt_logits = true;
        RequestOutput scored = engine->submit(s).collect();
        const int64_t n_vocab = engine->info().n_vocab;
        const size_t rows = scored.prompt_logits.size() / static_cast<size_t>(n_vocab);
        QVERIFY(rows > 8);
        std::vector<double> mean_logits(static_cast<size_t>(n_vocab), 0.0);
        for (size_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < n_vocab; ++v)
                mean_logits[static_cast<size_t>(v)] += scored.prompt_logits[r * n_vocab + v];

        // output_weight · embedding, with the output matrix dequantized from the file.
        const gguf::TensorInfo& out_w = *model_->weights().output;
        QCOMPARE(out_w.ne[0], n_embd);
        const size_t row_bytes = dtype_row_size(out_w.type, n_embd);
        std::vector<float> w_row(static_cast<size_t>(n_embd));
        std::vector<double> projected(static_cast<size_t>(n_vocab), 0.0);
        for (int64_t v = 0; v < n_vocab; ++v) {
            dequantize_row(out_w.type, out_w.data + static_cast<size_t>(v) * row_bytes,
                           w_row.data(), n_embd);
            double dot = 0;
            for (int64_t k = 0; k < n_embd; ++k)
                dot += static_cast<double>(w_row[static_cast<size_t>(k)]) *
                       emb[static_cast<size_t>(k)];
            projected[static_cast<size_t>(v)] = dot;
        }
        const double c = cosine(projected, mean_logits);
        QVERIFY2(c > 0.9999, qPrintable(QString("cosine %1").arg(c, 0, 'g', 8)));

        // A different text gives a different direction.
        const std::vector<float> other = embed(*engine, "Completely unrelated words: 42, zebra!");
        QVERIFY(max_abs_diff(emb, other) > 1e-3);
    }

    void chunking_caching_and_batching_do_not_change_it() {
        auto reference = make_engine(2048, /*prefix_caching=*/false);
        const std::vector<float> expected = embed(*reference, kPrompt);

        // Prompt split over several steps (8 tokens per step).
        auto chunked = make_engine(8);
        QVERIFY(max_abs_diff(embed(*chunked, kPrompt), expected) < 1e-5);

        // A warm prefix cache: the embedding still pools every position.
        auto cached = make_engine(2048);
        RequestSpec gen;
        gen.prompt = kPrompt;
        gen.sampling.temperature = 0;
        gen.sampling.max_tokens = 4;
        cached->submit(gen).collect();
        QVERIFY(max_abs_diff(embed(*cached, kPrompt), expected) < 1e-5);

        // Alongside generating requests in the same steps.
        std::vector<RequestHandle> others;
        for (int i = 0; i < 4; ++i) {
            RequestSpec g = gen;
            g.prompt = "Request number " + std::to_string(i);
            g.sampling.max_tokens = 16;
            others.push_back(cached->submit(g));
        }
        QVERIFY(max_abs_diff(embed(*cached, kPrompt), expected) < 1e-4);
        for (auto& h : others) QVERIFY(h.collect().finished);
        QCOMPARE(cached->stats().kv_blocks_used, int64_t{0});
    }

    void invalid_combinations_are_refused() {
        auto engine = make_engine(2048);
        RequestSpec s;
        s.prompt = kPrompt;
        s.return_embedding = true;
        s.sampling.n = 2;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, engine->submit(s));
        s.sampling.n = 1;
        s.return_prompt_logits = true;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, engine->submit(s));
        // The engine keeps serving.
        QCOMPARE(static_cast<int64_t>(embed(*engine, "ok").size()), model_->hparams().n_embd);
    }
};

QTEST_GUILESS_MAIN(TestEmbeddings)
#include "test_embeddings.moc"
