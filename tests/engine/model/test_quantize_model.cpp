// The local quantizer against llama.cpp's: quantizing micro-llama-F32.gguf must reproduce the
// shared micro-llama-{TYPE}.gguf files (tensor data for the legacy types, per-tensor types and an
// error no worse for the K-quant mixes), and the output must load and pass the golden-logit check.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "golden_logits.h"
#include "model/model.h"
#include "model/model_quantizer.h"
#include "model/quant_mix.h"
#include "runtime/generator.h"
#include "shared_data.h"
#include "tensor/quants.h"

using namespace folio;
namespace fs = std::filesystem;

namespace {

fs::path shared_model(const std::string& type) {
    return test::shared_path("models/micro-llama-" + type + ".gguf");
}

// Relative RMS error of `file`'s weights (dequantized) against the F32 model, over all tensors.
double file_error(const gguf::GgufFile& file, const gguf::GgufFile& f32) {
    double err2 = 0, ref2 = 0;
    std::vector<float> deq;
    for (const auto& t : file.tensors()) {
        const auto* ref_t = f32.find_tensor(t.name);
        if (!ref_t) return -1;
        const auto* ref = reinterpret_cast<const float*>(ref_t->data);
        deq.resize(static_cast<size_t>(t.num_elements()));
        dequantize_row(t.type, t.data, deq.data(), t.num_elements());
        for (size_t i = 0; i < deq.size(); ++i) {
            const double d = static_cast<double>(deq[i]) - ref[i];
            err2 += d * d;
            ref2 += static_cast<double>(ref[i]) * ref[i];
        }
    }
    return std::sqrt(err2 / ref2);
}

QuantizeResult quantize(const std::string& type, const fs::path& out, int threads = 2) {
    QuantizeOptions opts;
    opts.ftype = *parse_quant_ftype(type);
    opts.num_threads = threads;
    return quantize_model(shared_model("F32"), out, opts);
}

// The golden-logit comparison of test_golden_logits.cpp (tolerance for quantized models), on
// our file; returns the worst relative logit error, or -1 after a QVERIFY failure.
double golden_check(const fs::path& model_path, const std::string& golden_name) {
    constexpr double kTol = 4e-2;
    std::shared_ptr<const Model> model = Model::load(model_path);
    GeneratorOptions go;
    go.n_ctx = 256;
    go.num_threads = 2;
    Generator gen(model, go);
    const int64_t n_vocab = model->hparams().n_vocab;
    double worst = 0;
    int clear_steps = 0;
    for (const auto& row : test::load_golden(golden_name)) {
        std::vector<int32_t> seq = row.prompt_tokens;
        seq.insert(seq.end(), row.tokens.begin(), row.tokens.end());
        const auto logits = gen.evaluate(seq);
        for (size_t i = 0; i < row.top.size(); ++i) {
            const float* l = logits.data() + (row.prompt_tokens.size() - 1 + i) * n_vocab;
            const float scale = test::reference_scale(row.top[i]);
            for (const auto& [id, v] : row.top[i])
                worst = std::max<double>(worst, std::fabs(l[id] - v) / scale);
            if (test::clear_margin(row.top[i], kTol)) {
                if (std::max_element(l, l + n_vocab) - l != row.top[i][0].first) return -1;
                ++clear_steps;
            }
        }
    }
    if (worst > kTol || clear_steps < 8) return -1;
    return worst;
}

}  // namespace

class TestQuantizeModel : public QObject {
    Q_OBJECT

    std::unique_ptr<gguf::GgufFile> m_f32;
    fs::path m_dir;

  private slots:
    void initTestCase() {
        m_f32 = gguf::GgufFile::open(shared_model("F32"));
        m_dir = test::scratch_dir("quantize_model");
    }

    void legacy_types_match_llama_cpp_data() {
        QTest::addColumn<QString>("type");
        for (const char* t : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
            QTest::newRow(t) << QString(t);
    }

    // Same tensors, order, types and bytes as llama-quantize's files; in fact the same file.
    void legacy_types_match_llama_cpp() {
        QFETCH(QString, type);
        const std::string t = type.toStdString();
        const fs::path out = m_dir / ("legacy-" + t + ".gguf");
        const auto res = quantize(t, out);
        const auto ours = gguf::GgufFile::open(out);
        const auto ref = gguf::GgufFile::open(shared_model(t));
        QCOMPARE(ours->tensors().size(), ref->tensors().size());
        for (size_t i = 0; i < ref->tensors().size(); ++i) {
            const auto& a = ours->tensors()[i];
            const auto& b = ref->tensors()[i];
            QCOMPARE(std::string(a.name), std::string(b.name));
            QCOMPARE(a.type, b.type);
            QCOMPARE(a.ne, b.ne);
            QCOMPARE(a.nbytes, b.nbytes);
            QVERIFY2(std::memcmp(a.data, b.data, a.nbytes) == 0, a.name.data());
        }
        QCOMPARE(ours->get_int("general.file_type"), ref->get_int("general.file_type"));
        QCOMPARE(ours->get_int("general.quantization_version"), int64_t{2});
        QVERIFY(test::read_file(out) == test::read_file(shared_model(t)));
        qInfo("%s: identical to llama.cpp's file; error %.4e (llama.cpp %.4e), %.3f s", t.c_str(),
              res.relative_rms_error, file_error(*ref, *m_f32), res.seconds);
    }

    void k_quant_mixes_data() {
        QTest::addColumn<QString>("type");
        for (const char* t : {"Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_NL"})
            QTest::newRow(t) << QString(t);
    }

    // llama.cpp's per-tensor types, an error no worse than its file's, and golden logits.
    void k_quant_mixes() {
        QFETCH(QString, type);
        const std::string t = type.toStdString();
        const fs::path out = m_dir / ("mix-" + t + ".gguf");
        const auto res = quantize(t, out);
        const auto ours = gguf::GgufFile::open(out);
        const auto ref = gguf::GgufFile::open(shared_model(t));
        QCOMPARE(ours->tensors().size(), ref->tensors().size());
        int identical = 0;
        for (const auto& b : ref->tensors()) {
            const auto* a = ours->find_tensor(b.name);
            QVERIFY(a);
            QCOMPARE(dtype_name(a->type), dtype_name(b.type));
            if (std::memcmp(a->data, b.data, a->nbytes) == 0) ++identical;
        }
        QCOMPARE(ours->get_int("general.file_type"), ref->get_int("general.file_type"));
        const double ours_err = file_error(*ours, *m_f32), ref_err = file_error(*ref, *m_f32);
        QVERIFY(std::fabs(ours_err - res.relative_rms_error) < 1e-6);
        qInfo(
            "%s: error %.4e (llama.cpp's file %.4e), %d/%zu tensors bit-identical, %.2f bpw, %.3f "
            "s",
            t.c_str(), ours_err, ref_err, identical, ref->tensors().size(), res.bits_per_weight,
            res.seconds);
        QVERIFY(ours_err <= ref_err * (1 + 1e-9));
        // With the reference quantizers bit-exact (test_quants_models), the whole file matches.
        QVERIFY(test::read_file(out) == test::read_file(shared_model(t)));
        const double worst = golden_check(out, "micro-llama-" + t);
        QVERIFY2(worst >= 0, "golden-logit check failed");
        qInfo("%s: golden logits within %.2e (tolerance 4e-2)", t.c_str(), worst);
    }

    // The legacy outputs pass the golden-logit check too (one representative).
    void q4_0_golden_logits() {
        const fs::path out = m_dir / "golden-Q4_0.gguf";
        quantize("Q4_0", out);
        QVERIFY(golden_check(out, "micro-llama-Q4_0") >= 0);
    }

    // Mixes without a shared file: sane types and errors, and the file loads.
    void small_mixes() {
        for (const char* t : {"Q4_K_S", "Q5_K_S", "Q3_K_S", "Q3_K_L"}) {
            const fs::path out = m_dir / (std::string("mix-") + t + ".gguf");
            const auto res = quantize(t, out);
            qInfo("%s: error %.4e, %.2f bpw", t, res.relative_rms_error, res.bits_per_weight);
            QVERIFY(res.relative_rms_error > 0 && res.relative_rms_error < 0.2);
            QVERIFY(Model::load(out) != nullptr);
        }
    }

    // Thread count does not change a byte; F16/BF16 sources work.
    void threads_and_sources() {
        const fs::path a = m_dir / "t1.gguf", b = m_dir / "t3.gguf";
        quantize("Q4_K_M", a, 1);
        quantize("Q4_K_M", b, 3);
        QVERIFY(test::read_file(a) == test::read_file(b));
        for (const char* src : {"F16", "BF16"}) {
            QuantizeOptions opts;
            opts.ftype = QuantFtype::Q8_0;
            const auto res = quantize_model(shared_model(src), m_dir / "from16.gguf", opts);
            QVERIFY(res.relative_rms_error > 0 && res.relative_rms_error < 1e-2);
        }
    }

    void rejects_bad_requests() {
        QuantizeOptions opts;
        const fs::path out = m_dir / "never.gguf";
        fs::remove(out);
        QVERIFY_THROWS_EXCEPTION(QuantizeError, quantize_model(shared_model("Q4_0"), out, opts));
        QVERIFY(!fs::exists(out));
        QVERIFY(!fs::exists(out.string() + ".tmp"));
        const fs::path copy = m_dir / "same.gguf";
        fs::copy_file(shared_model("F32"), copy, fs::copy_options::overwrite_existing);
        QVERIFY_THROWS_EXCEPTION(QuantizeError, quantize_model(copy, copy, opts));
        QCOMPARE(fs::file_size(copy), fs::file_size(shared_model("F32")));
        std::atomic<bool> cancel{true};
        opts.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(QuantizeError, quantize_model(copy, out, opts));
        QVERIFY(!fs::exists(out) && !fs::exists(out.string() + ".tmp"));
    }

    // llama.cpp's choices on shapes micro-llama lacks: 32 layers, odd row sizes, tied output.
    void mix_rules() {
        QuantModelShape shape{"llama", 32, 32, 8, 0, false};
        std::vector<QuantTensorDesc> ts;
        ts.push_back({"token_embd.weight", DType::F32, 2, {4096, 1000, 1, 1}});
        for (int l = 0; l < 32; ++l) {
            const std::string p = "blk." + std::to_string(l) + ".";
            ts.push_back({p + "attn_norm.weight", DType::F32, 1, {4096, 1, 1, 1}});
            ts.push_back({p + "attn_v.weight", DType::F32, 2, {4096, 1024, 1, 1}});
            ts.push_back({p + "ffn_down.weight", DType::F32, 2, {8000, 4096, 1, 1}});
        }
        const auto c = choose_quant_types(QuantFtype::Q4_K_M, shape, ts);
        QCOMPARE(c[0].type, DType::Q6_K);  // tied embeddings: treated as the output
        QVERIFY(!c[1].quantize);           // norm
        for (int l = 0; l < 32; ++l) {
            const bool more = l < 4 || l >= 28 || (l - 4) % 3 == 2;
            QCOMPARE(c[2 + 3 * l].type, more ? DType::Q6_K : DType::Q4_K);
            // 8000 % 256 != 0: Q4_K falls back to Q5_0, Q6_K to Q8_0.
            QCOMPARE(c[3 + 3 * l].type, more ? DType::Q8_0 : DType::Q5_0);
            QVERIFY(c[3 + 3 * l].fallback);
        }
        const std::vector<QuantTensorDesc> odd{
            {"output.weight", DType::F32, 2, {48, 10, 1, 1}},
            {"blk.0.ffn_up.weight", DType::F32, 2, {48, 10, 1, 1}}};
        const auto o = choose_quant_types(QuantFtype::Q4_0, {"llama", 1, 1, 1, 0, false}, odd);
        QCOMPARE(o[0].type, DType::F16);  // Q8_0 for a row that fits no block size, then F16
        QCOMPARE(o[1].type, DType::F16);
        QCOMPARE(parse_quant_ftype("q4_k_m"), std::optional(QuantFtype::Q4_K_M));
        QVERIFY(!parse_quant_ftype("q4_k_x"));
    }
};

QTEST_GUILESS_MAIN(TestQuantizeModel)
#include "test_quantize_model.moc"
