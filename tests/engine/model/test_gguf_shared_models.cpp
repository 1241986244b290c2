// Opens every GGUF in ../shared/models and ../shared/vocab, checks what they hold, then feeds
// truncated and bit-flipped copies of each model to the reader: each must load or throw GgufError.
#include <QTest>
#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "shared_data.h"

using folio::DType;
using namespace folio::gguf;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> gguf_files(const std::string& folder) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(folio::test::shared_path(folder))) {
        if (e.path().extension() == ".gguf") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::set<std::string> type_names(const GgufFile& f) {
    std::set<std::string> out;
    for (const auto& t : f.tensors()) out.emplace(folio::dtype_name(t.type));
    return out;
}

// Touches everything a loaded file exposes, so a bad pointer or size shows up (under ASan too).
size_t exercise(const GgufFile& f) {
    size_t sum = 0;
    for (const auto& md : f.metadata()) sum += GgufFile::format_value(md.value, 4).size();
    for (const auto& t : f.tensors()) {
        const uint8_t* p = f.tensor_data(t);
        if (t.nbytes) sum += p[0] + p[t.nbytes - 1];
    }
    return sum;
}

enum class Outcome { Loaded, Rejected };

Outcome try_load(const uint8_t* data, size_t size) {
    try {
        const auto f = GgufFile::from_memory(data, size, "mutant.gguf");
        exercise(*f);
        return Outcome::Loaded;
    } catch (const GgufError&) {
        return Outcome::Rejected;
    }
}

}  // namespace

class TestGgufSharedModels : public QObject {
    Q_OBJECT

  private slots:
    void openEveryModel();
    void openEveryVocab();
    void microLlamaTypes_data();
    void microLlamaTypes();
    void stories260K();
    void tinyModels();
    void truncatedCopies();
    void bitFlippedCopies();
};

void TestGgufSharedModels::openEveryModel() {
    const auto files = gguf_files("models");
    QVERIFY(files.size() >= 19);
    for (const auto& path : files) {
        const auto f = GgufFile::open(path);
        QVERIFY2(f->version() == 2 || f->version() == 3, path.c_str());
        QCOMPARE(f->size(), fs::file_size(path));
        QVERIFY(!f->tensors().empty());
        QVERIFY(f->require_string("general.architecture").size() > 0);
        QVERIFY(f->get_string_array("tokenizer.ggml.tokens")->size() >= 512);
        const auto arch = std::string(f->require_string("general.architecture"));
        QVERIFY(f->require_int(arch + ".block_count") >= 1);
        QVERIFY(f->find_tensor("token_embd.weight"));
        uint64_t bytes = 0;
        for (const auto& t : f->tensors()) {
            QVERIFY(t.num_elements() > 0);
            QCOMPARE(t.data, f->tensor_data(t));
            QVERIFY(f->data_offset() + t.offset + t.nbytes <= f->size());
            bytes += t.nbytes;
        }
        QVERIFY(bytes <= f->size() - f->data_offset());
        QVERIFY(exercise(*f) > 0);
    }
}

void TestGgufSharedModels::openEveryVocab() {
    const auto files = gguf_files("vocab");
    QCOMPARE(files.size(), size_t{10});
    for (const auto& path : files) {
        const auto f = GgufFile::open(path);
        QVERIFY(f->tensors().empty());
        const auto model = f->require_string("tokenizer.ggml.model");
        QVERIFY2(model == "llama" || model == "gpt2", path.c_str());
        const auto tokens = *f->get_string_array("tokenizer.ggml.tokens");
        QVERIFY(tokens.size() >= 32000);
        if (model == "gpt2") QVERIFY(f->get_string_array("tokenizer.ggml.merges")->size() > 1000);
    }
}

void TestGgufSharedModels::microLlamaTypes_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("types");  // exactly the tensor types the file holds
    auto row = [](const char* quant, QStringList types) {
        QTest::addRow("%s", quant) << QString("models/micro-llama-%1.gguf").arg(quant) << types;
    };
    row("F32", {"f32"});
    row("F16", {"f16", "f32"});
    row("BF16", {"bf16", "f32"});
    row("Q8_0", {"f32", "q8_0"});
    row("Q4_0", {"f32", "q4_0", "q6_K"});
    row("Q4_1", {"f32", "q4_1", "q6_K"});
    row("Q5_0", {"f32", "q5_0", "q6_K"});
    row("Q5_1", {"f32", "q5_1", "q6_K"});
    row("Q2_K", {"f32", "q2_K", "q3_K", "q6_K"});
    row("Q3_K_M", {"f32", "q3_K", "q4_K", "q5_K", "q6_K"});
    row("Q4_K_M", {"f32", "q4_K", "q6_K"});
    row("Q5_K_M", {"f32", "q5_K", "q6_K"});
    row("Q6_K", {"f32", "q6_K"});
    row("IQ4_NL", {"f32", "iq4_nl", "q6_K"});
}

void TestGgufSharedModels::microLlamaTypes() {
    QFETCH(QString, file);
    QFETCH(QStringList, types);
    const auto f = GgufFile::open(folio::test::shared_path(file.toStdString()));
    QCOMPARE(f->tensors().size(), size_t{21});  // 2 layers x 9 + token_embd, output_norm, output
    QCOMPARE(f->require_int("llama.block_count"), 2);
    QCOMPARE(f->require_int("llama.embedding_length"), 256);
    std::set<std::string> expected;
    for (const auto& t : types) expected.insert(t.toStdString());
    QCOMPARE(type_names(*f), expected);
    for (const auto& t : f->tensors()) {
        if (t.n_dims == 1) QCOMPARE(t.type, DType::F32);  // norms stay f32
    }
}

void TestGgufSharedModels::stories260K() {
    const auto f = GgufFile::open(folio::test::shared_path("models/stories260K.gguf"));
    QCOMPARE(f->version(), 3u);
    QCOMPARE(f->tensors().size(), size_t{48});
    QCOMPARE(f->require_string("general.architecture"), std::string_view("llama"));
    QCOMPARE(f->require_int("llama.block_count"), 5);
    QCOMPARE(f->require_int("llama.embedding_length"), 64);
    QCOMPARE(f->require_int("llama.attention.head_count"), 8);
    QCOMPARE(f->require_int("llama.attention.head_count_kv"), 4);
    QCOMPARE(f->require_int("llama.feed_forward_length"), 172);
    QCOMPARE(static_cast<float>(f->require_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
    const auto tokens = *f->get_string_array("tokenizer.ggml.tokens");
    QCOMPARE(tokens.size(), size_t{512});
    QCOMPARE(tokens[0], std::string_view("<unk>"));
    QCOMPARE(tokens[1], std::string_view("<s>"));
    QCOMPARE(f->get_f32_array("tokenizer.ggml.scores")->size(), size_t{512});
    QCOMPARE(f->get_int_array("tokenizer.ggml.token_type")->size(), size_t{512});
    QCOMPARE(f->require_int("tokenizer.ggml.bos_token_id"), 1);
    const TensorInfo* embd = f->find_tensor("token_embd.weight");
    QVERIFY(embd);
    QCOMPARE(embd->type, DType::F32);
    QCOMPARE(embd->ne, (std::array<int64_t, 4>{64, 512, 1, 1}));
    QCOMPARE(f->find_tensor("blk.0.ffn_down.weight")->ne[0], int64_t{172});
    // Trained norm weights: finite, not all zero.
    const TensorInfo* norm = f->find_tensor("output_norm.weight");
    const auto* w = reinterpret_cast<const float*>(f->tensor_data(*norm));
    float sum = 0;
    for (int i = 0; i < 64; ++i) {
        QVERIFY(std::isfinite(w[i]));
        sum += std::abs(w[i]);
    }
    QVERIFY(sum > 1.0f);
}

void TestGgufSharedModels::tinyModels() {
    using folio::test::shared_path;
    const auto llama3 = GgufFile::open(shared_path("models/tiny-llama3-Q8_0.gguf"));
    QCOMPARE(llama3->get_string_array("tokenizer.ggml.tokens")->size(), size_t{128256});
    QVERIFY(llama3->find_tensor("rope_freqs.weight"));
    const auto qwen2 = GgufFile::open(shared_path("models/tiny-qwen2-Q8_0.gguf"));
    QCOMPARE(qwen2->require_string("general.architecture"), std::string_view("qwen2"));
    QCOMPARE(qwen2->get_string_array("tokenizer.ggml.tokens")->size(), size_t{151936});
    QVERIFY(qwen2->find_tensor("blk.0.attn_q.bias"));
    const auto phi3 = GgufFile::open(shared_path("models/tiny-phi3-Q8_0.gguf"));
    QVERIFY(phi3->require_string("tokenizer.chat_template").find("<|assistant|>") !=
            std::string_view::npos);
    QVERIFY(phi3->find_tensor("blk.0.attn_qkv.weight"));
    const auto llama2 = GgufFile::open(shared_path("models/tiny-llama2-Q4_K_M.gguf"));
    QCOMPARE(type_names(*llama2), (std::set<std::string>{"f32", "q4_K", "q6_K"}));
    QVERIFY(!llama2->find_tensor("output.weight"));  // tied embeddings
}

void TestGgufSharedModels::truncatedCopies() {
    std::mt19937_64 rng(20241121);
    for (const auto& path : gguf_files("models")) {
        const std::string bytes = folio::test::read_file(path);
        const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
        const auto f = GgufFile::from_memory(data, bytes.size(), path.string());
        uint64_t data_end = 0;  // end of the last tensor's data
        for (const auto& t : f->tensors()) data_end = std::max(data_end, t.offset + t.nbytes);
        data_end += f->data_offset();

        // Every section boundary and its neighbourhood, then random cuts.
        std::set<uint64_t> cuts = {0, 1, 3, 4, 5, 8, 12, 16, 20, 23, 24, 25};
        auto around = [&](uint64_t at) {
            for (int d = -3; d <= 3; ++d) {
                if (at + d < bytes.size()) cuts.insert(at + d);
            }
        };
        for (const auto& md : f->metadata()) around(md.offset);
        around(f->data_offset());
        for (const auto& t : f->tensors()) around(f->data_offset() + t.offset);
        around(data_end);
        std::uniform_int_distribution<uint64_t> header(0, f->data_offset());
        std::uniform_int_distribution<uint64_t> anywhere(0, bytes.size() - 1);
        while (cuts.size() < 200) cuts.insert(cuts.size() % 2 ? header(rng) : anywhere(rng));

        for (uint64_t cut : cuts) {
            const Outcome o = try_load(data, cut);
            if (cut < data_end) {
                QVERIFY2(o == Outcome::Rejected,
                         qPrintable(QString("%1 cut at %2 loaded")
                                        .arg(QString::fromStdString(path.filename().string()))
                                        .arg(cut)));
            }
        }
    }
}

void TestGgufSharedModels::bitFlippedCopies() {
    std::mt19937_64 rng(1234567);
    size_t loaded = 0, rejected = 0;
    for (const auto& path : gguf_files("models")) {
        std::string bytes = folio::test::read_file(path);
        auto* data = reinterpret_cast<uint8_t*>(bytes.data());
        const uint64_t header_size =
            GgufFile::from_memory(data, bytes.size(), path.string())->data_offset();
        std::uniform_int_distribution<uint64_t> in_header(0, header_size - 1);
        std::uniform_int_distribution<uint64_t> anywhere(0, bytes.size() - 1);
        std::uniform_int_distribution<int> bit(0, 7), num_flips(1, 3);
        for (int i = 0; i < 300; ++i) {
            std::vector<std::pair<uint64_t, uint8_t>> flips;  // restored afterwards
            for (int k = num_flips(rng); k > 0; --k) {
                const uint64_t at = i % 4 ? in_header(rng) : anywhere(rng);
                flips.emplace_back(at, data[at]);
                data[at] ^= static_cast<uint8_t>(1u << bit(rng));
            }
            (try_load(data, bytes.size()) == Outcome::Loaded ? loaded : rejected) += 1;
            for (auto it = flips.rbegin(); it != flips.rend(); ++it) data[it->first] = it->second;
        }
    }
    qInfo("bit flips: %zu loaded, %zu rejected", loaded, rejected);
    QVERIFY(rejected > 0);
    QVERIFY(loaded > 0);
}

QTEST_GUILESS_MAIN(TestGgufSharedModels)
#include "test_gguf_shared_models.moc"
