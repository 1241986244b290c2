// Tokenizers against llama.cpp's reference outputs: every .inp/.out pair in shared/vocab, the
// prompt tokens of every golden decode, special-token parsing, detokenization and streaming on real
// vocabularies.
#include <QtTest/QtTest>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "shared_data.h"
#include "tokenizer/vocab.h"

using folio::token_id;
using folio::Vocab;

namespace {

const char* const kVocabs[] = {
    "deepseek-coder", "falcon", "gpt-2",  "llama-bpe", "llama-spm", "mpt",
    "phi-3",          "qwen2",  "refact", "starcoder",
};

// Vocabularies whose detokenization is lossless in llama.cpp (no clean_up_tokenization_spaces).
const char* const kLosslessVocabs[] = {"deepseek-coder", "llama-spm", "phi-3", "qwen2"};

std::filesystem::path vocab_path(const std::string& name) {
    return folio::test::shared_path("vocab/ggml-vocab-" + name + ".gguf");
}

const Vocab& load_file(const std::filesystem::path& path) {
    static std::map<std::string, std::unique_ptr<Vocab>> cache;
    auto& slot = cache[path.string()];
    if (!slot) {
        const auto f = folio::gguf::GgufFile::open(path);
        slot = Vocab::from_gguf(*f);
    }
    return *slot;
}

const Vocab& vocab(const std::string& name) {
    return load_file(vocab_path(name));
}

// The test strings as llama.cpp's test-tokenizer-0 reads them: split on the separator line, each
// string excluding the newline before it.
std::vector<std::string> read_inputs(const std::string& name) {
    const std::string raw = folio::test::read_file(vocab_path(name).string() + ".inp");
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> out;
    size_t pos = 0;
    for (size_t hit; (hit = raw.find(sep, pos)) != std::string::npos; pos = hit + sep.size())
        out.push_back(raw.substr(pos, hit - pos));
    return out;
}

std::vector<std::vector<token_id>> read_outputs(const std::string& name) {
    std::istringstream in(folio::test::read_file(vocab_path(name).string() + ".out"));
    std::vector<std::vector<token_id>> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::vector<token_id> ids;
        for (token_id id; ls >> id;) ids.push_back(id);
        out.push_back(std::move(ids));
    }
    return out;
}

QString ids_string(const std::vector<token_id>& ids) {
    QStringList parts;
    for (token_id id : ids) parts << QString::number(id);
    return "[" + parts.join(' ') + "]";
}

QList<int> to_qlist(const std::vector<token_id>& ids) {
    return QList<int>(ids.begin(), ids.end());
}
std::vector<token_id> from_qlist(const QList<int>& ids) {
    return std::vector<token_id>(ids.begin(), ids.end());
}

bool is_valid_utf8(std::string_view s) {
    size_t consumed = 0;
    const std::string clean = folio::utf8_take_valid(s, true, consumed);
    return clean == s;
}

}  // namespace

class TestTokenizerVocab : public QObject {
    Q_OBJECT

  private slots:
    void vocabCases_data();
    void vocabCases();
    void roundTrip_data();
    void roundTrip();
    void piecesAreLossless_data();
    void piecesAreLossless();
    void goldenPrompts_data();
    void goldenPrompts();
    void specialTokenIds();
    void phi3SpecialParsing();
    void qwen2SpecialParsing();
    void userDefinedTokensAlwaysSplit();
    void detokenizeSpecial();
    void streamingSpmByteTokens();
    void streamingBpeSplitsCharacters();
    void metadata();
};

void TestTokenizerVocab::vocabCases_data() {
    QTest::addColumn<QString>("vocab");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QList<int>>("expected");
    for (const char* name : kVocabs) {
        const auto inputs = read_inputs(name);
        const auto outputs = read_outputs(name);
        QVERIFY2(inputs.size() == outputs.size() && !inputs.empty(), name);
        for (size_t i = 0; i < inputs.size(); ++i) {
            QTest::addRow("%s/%zu", name, i)
                << QString(name) << QByteArray::fromStdString(inputs[i]) << to_qlist(outputs[i]);
        }
    }
}

void TestTokenizerVocab::vocabCases() {
    QFETCH(QString, vocab);
    QFETCH(QByteArray, text);
    QFETCH(QList<int>, expected);
    const auto got = ::vocab(vocab.toStdString()).tokenize(text.toStdString(), false, false);
    const auto want = from_qlist(expected);
    QVERIFY2(got == want, qPrintable("text " + QString::fromUtf8(text).left(80) + "\nexpected " +
                                     ids_string(want) + "\n     got " + ids_string(got)));
}

void TestTokenizerVocab::roundTrip_data() {
    QTest::addColumn<QString>("vocab");
    QTest::addColumn<QByteArray>("text");
    for (const char* name : kLosslessVocabs) {
        const auto inputs = read_inputs(name);
        for (size_t i = 0; i < inputs.size(); ++i)
            QTest::addRow("%s/%zu", name, i)
                << QString(name) << QByteArray::fromStdString(inputs[i]);
    }
}

void TestTokenizerVocab::roundTrip() {
    QFETCH(QString, vocab);
    QFETCH(QByteArray, text);
    const Vocab& v = ::vocab(vocab.toStdString());
    QVERIFY(!v.clean_spaces());
    const std::string s = text.toStdString();
    const std::string back = v.detokenize(v.tokenize(s, false, false), false, false);
    QCOMPARE(QByteArray::fromStdString(back), text);
    // remove_special drops the BOS added by add_special; like llama.cpp it then keeps the SPM
    // prefix space (only a text that starts the token list loses it)
    const std::string back2 = v.detokenize(v.tokenize(s, true, false), true, false);
    const bool keeps_space = v.add_bos() && v.add_space_prefix() && !s.empty();
    QCOMPARE(QByteArray::fromStdString(back2), keeps_space ? " " + text : text);
}

void TestTokenizerVocab::piecesAreLossless_data() {
    QTest::addColumn<QString>("vocab");
    for (const char* name : kVocabs) QTest::addRow("%s", name) << QString(name);
}

// Raw pieces never lose bytes, even where detokenize cleans spaces: byte-level BPE gives the text
// back exactly, SPM with its prefix space.
void TestTokenizerVocab::piecesAreLossless() {
    QFETCH(QString, vocab);
    const Vocab& v = ::vocab(vocab.toStdString());
    for (const std::string& s : read_inputs(vocab.toStdString())) {
        std::string joined;
        for (token_id id : v.tokenize(s, false, false)) joined += v.token_to_piece(id, false);
        const std::string want = (v.type() == folio::VocabType::Spm && !s.empty()) ? " " + s : s;
        QCOMPARE(QByteArray::fromStdString(joined), QByteArray::fromStdString(want));
    }
}

void TestTokenizerVocab::goldenPrompts_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QByteArray>("prompt");
    QTest::addColumn<QList<int>>("expected");
    const auto dir = folio::test::shared_path("golden/logits");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".jsonl") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    QVERIFY(files.size() >= 6);
    for (const auto& file : files) {
        const std::string model = file.stem().string();
        std::istringstream in(folio::test::read_file(file));
        int row = 0;
        for (std::string line; std::getline(in, line);) {
            if (line.empty()) continue;
            const auto j = nlohmann::json::parse(line);
            QTest::addRow("%s/%d", model.c_str(), row++)
                << QString::fromStdString(model)
                << QByteArray::fromStdString(j["prompt"].get<std::string>())
                << to_qlist(j["prompt_tokens"].get<std::vector<token_id>>());
        }
    }
}

void TestTokenizerVocab::goldenPrompts() {
    QFETCH(QString, model);
    QFETCH(QByteArray, prompt);
    QFETCH(QList<int>, expected);
    const Vocab& v = load_file(folio::test::shared_path("models/" + model.toStdString() + ".gguf"));
    const auto got = v.tokenize(prompt.toStdString(), true, false);
    const auto want = from_qlist(expected);
    QVERIFY2(got == want, qPrintable("prompt " + QString::fromUtf8(prompt) + "\nexpected " +
                                     ids_string(want) + "\n     got " + ids_string(got)));
}

void TestTokenizerVocab::specialTokenIds() {
    const Vocab& spm = vocab("llama-spm");
    QCOMPARE(spm.bos(), 1);
    QCOMPARE(spm.eos(), 2);
    QVERIFY(spm.add_bos());
    QVERIFY(!spm.add_eos());
    QVERIFY(spm.is_eog(2));
    QVERIFY(!spm.is_eog(1));

    const Vocab& llama3 = vocab("llama-bpe");
    QCOMPARE(llama3.bos(), 128000);
    QCOMPARE(llama3.eos(), 128001);
    QCOMPARE(llama3.eot(), 128009);  // <|eot_id|>, found by its text
    QVERIFY(llama3.add_bos());       // llama-bpe default, no add_bos_token key in the file
    QVERIFY(llama3.is_eog(128001) && llama3.is_eog(128009));
    QVERIFY(!llama3.is_eog(128006));

    const Vocab& qwen2 = vocab("qwen2");
    QCOMPARE(qwen2.eos(), 151643);
    QCOMPARE(qwen2.eot(), 151645);  // <|im_end|>
    QVERIFY(!qwen2.add_bos());
    QVERIFY(qwen2.is_eog(151643) && qwen2.is_eog(151645));
    QVERIFY(!qwen2.is_eog(151644));

    const Vocab& phi3 = vocab("phi-3");
    QCOMPARE(phi3.eos(), 32000);
    QCOMPARE(phi3.eot(), 32007);  // <|end|>
    QVERIFY(phi3.is_eog(32000) && phi3.is_eog(32007));
    QVERIFY(!phi3.is_eog(32010));
    QVERIFY(!phi3.is_eog(-1));
}

void TestTokenizerVocab::phi3SpecialParsing() {
    const Vocab& v = vocab("phi-3");
    const std::string chat = "<|user|>\nSYS\nHI<|end|>\n<|assistant|>\n";
    // llama.cpp: phi-3's special tokens strip the whitespace after them (keyed on general.name)
    const std::vector<token_id> want = {1, 32010, 317, 21554, 13, 17628, 32007, 32001};
    const auto got = v.tokenize(chat, true, true);
    QVERIFY2(got == want, qPrintable(ids_string(got)));
    // without parse_special the markers are plain text
    const auto plain = v.tokenize(chat, false, false);
    for (token_id id : plain) QVERIFY(id < 32000);
    QCOMPARE(QByteArray::fromStdString(v.detokenize(plain, false, false)),
             QByteArray::fromStdString(chat));
    QCOMPARE(QByteArray::fromStdString(v.detokenize(got, true, true)),
             QByteArray("<|user|> SYS\nHI<|end|><|assistant|>"));
}

void TestTokenizerVocab::qwen2SpecialParsing() {
    const Vocab& v = vocab("qwen2");
    const std::string chat = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
    const auto got = v.tokenize(chat, true, true);
    std::vector<token_id> want = {151644};
    for (token_id id : v.tokenize("user\nHello", false, false)) want.push_back(id);
    want.push_back(151645);
    for (token_id id : v.tokenize("\n", false, false)) want.push_back(id);
    want.push_back(151644);
    for (token_id id : v.tokenize("assistant\n", false, false)) want.push_back(id);
    QVERIFY2(got == want, qPrintable(ids_string(got) + " vs " + ids_string(want)));
    QCOMPARE(QByteArray::fromStdString(v.detokenize(got, false, true)),
             QByteArray::fromStdString(chat));
    QCOMPARE(QByteArray::fromStdString(v.detokenize(got, false, false)),
             QByteArray("user\nHello\nassistant\n"));

    const auto plain = v.tokenize(chat, false, false);
    QVERIFY(std::find(plain.begin(), plain.end(), 151644) == plain.end());
    QCOMPARE(QByteArray::fromStdString(v.detokenize(plain, false, false)),
             QByteArray::fromStdString(chat));
}

// User-defined tokens (qwen2's [PAD...], mpt's runs of spaces) are split out even without
// parse_special, as llama.cpp and HF tokenizers do.
void TestTokenizerVocab::userDefinedTokensAlwaysSplit() {
    const Vocab& q = vocab("qwen2");
    QCOMPARE(q.token_type(151650), folio::TokenType::UserDefined);
    const auto ids = q.tokenize("a[PAD151650]b", false, false);
    QVERIFY2(ids.size() == 3 && ids[1] == 151650, qPrintable(ids_string(ids)));
}

void TestTokenizerVocab::detokenizeSpecial() {
    const Vocab& v = vocab("llama-spm");
    const auto ids = v.tokenize("Hello world", true, false);
    QCOMPARE(ids.front(), 1);
    // as in llama.cpp, only the first token loses its prefix space: after a BOS (removed or
    // rendered as "") the space stays
    QCOMPARE(QByteArray::fromStdString(v.detokenize(ids, false, false)),
             QByteArray(" Hello world"));
    QCOMPARE(QByteArray::fromStdString(v.detokenize(ids, true, false)), QByteArray(" Hello world"));
    QCOMPARE(QByteArray::fromStdString(
                 v.detokenize(std::vector<token_id>(ids.begin() + 1, ids.end()), true, false)),
             QByteArray("Hello world"));
    QCOMPARE(QByteArray::fromStdString(v.detokenize(ids, false, true)),
             QByteArray("<s> Hello world"));
    QCOMPARE(QByteArray::fromStdString(v.token_to_piece(1, false)), QByteArray());
    QCOMPARE(QByteArray::fromStdString(v.token_to_piece(1, true)), QByteArray("<s>"));
    QCOMPARE(QByteArray::fromStdString(v.token_to_piece(15043, false)), QByteArray(" Hello"));
    QCOMPARE(QByteArray::fromStdString(v.token_to_piece(13, false)), QByteArray("\n"));  // <0x0A>
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, v.token_to_piece(v.n_tokens(), false));
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, v.token_to_piece(-1, false));
}

void TestTokenizerVocab::streamingSpmByteTokens() {
    const Vocab& v = vocab("llama-spm");
    const std::string text = "🦙 and 😀😀 or Ünïcödé ✅ \xe4\xb8\xad\xe6\x96\x87!";
    const auto ids = v.tokenize(text, false, false);
    // the llama emoji has no token: four byte tokens <0xF0><0x9F><0xA6><0x99>
    const token_id llama_bytes[] = {243, 162, 169, 156};
    QVERIFY(std::search(ids.begin(), ids.end(), std::begin(llama_bytes), std::end(llama_bytes)) !=
            ids.end());
    for (bool strip : {false, true}) {
        folio::StreamingDetokenizer stream(v, false, strip);
        std::string joined;
        int empty_pushes = 0;
        for (token_id id : ids) {
            const std::string part = stream.push(id);
            QVERIFY2(is_valid_utf8(part),
                     qPrintable("partial UTF-8 after token " + QString::number(id)));
            if (part.empty()) ++empty_pushes;
            joined += part;
        }
        joined += stream.flush();
        QVERIFY(empty_pushes >= 3);  // held back while a character was incomplete
        const std::string want = strip ? v.detokenize(ids, false, false) : " " + text;
        QCOMPARE(QByteArray::fromStdString(joined), QByteArray::fromStdString(want));
    }
    QCOMPARE(QByteArray::fromStdString(v.detokenize(ids, false, false)),
             QByteArray::fromStdString(text));
}

void TestTokenizerVocab::streamingBpeSplitsCharacters() {
    const Vocab& v = vocab("qwen2");
    const std::string text =
        "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～ 🦙🦙";
    const auto ids = v.tokenize(text, false, false);
    folio::StreamingDetokenizer stream(v);
    std::string joined;
    bool held_back = false;
    for (token_id id : ids) {
        const std::string piece = v.token_to_piece(id, false);
        const std::string part = stream.push(id);
        QVERIFY(is_valid_utf8(part));
        if (!is_valid_utf8(piece)) held_back = true;  // a token that is part of a character
        joined += part;
    }
    joined += stream.flush();
    QVERIFY(held_back);
    QCOMPARE(QByteArray::fromStdString(joined),
             QByteArray::fromStdString(v.detokenize(ids, false, false)));
    QCOMPARE(QByteArray::fromStdString(joined), QByteArray::fromStdString(text));

    // an incomplete character at the end is replaced on flush
    folio::StreamingDetokenizer cut(v);
    const auto emoji = v.tokenize("\xf0\xa0\x80\x80", false, false);  // U+20000: 3 tokens
    QVERIFY(emoji.size() >= 2);
    std::string partial;
    for (size_t i = 0; i + 1 < emoji.size(); ++i) partial += cut.push(emoji[i]);
    QCOMPARE(QByteArray::fromStdString(partial), QByteArray());
    QCOMPARE(QByteArray::fromStdString(cut.flush()), QByteArray("\xEF\xBF\xBD"));
}

void TestTokenizerVocab::metadata() {
    QCOMPARE(vocab("qwen2").n_tokens(), 151936);
    QCOMPARE(vocab("qwen2").type(), folio::VocabType::Bpe);
    QCOMPARE(vocab("phi-3").type(), folio::VocabType::Spm);
    QCOMPARE(QString::fromStdString(vocab("falcon").pre()), QString("falcon"));
    QCOMPARE(vocab("llama-spm").token_text(15043), std::string_view("\xe2\x96\x81Hello"));
    QCOMPARE(vocab("llama-spm").find_token("\xe2\x96\x81Hello"), 15043);
    QCOMPARE(vocab("llama-spm").find_token("no such token"), folio::kNoToken);
    QVERIFY(vocab("gpt-2").merge_rank("\xc4\xa0", "t") == 0);  // first merge "Ġ t"
    QCOMPARE(vocab("gpt-2").merge_rank("t", "\xc4\xa0"), -1);
    QVERIFY(vocab("gpt-2").clean_spaces());
    QVERIFY(!vocab("qwen2").clean_spaces());
}

QTEST_GUILESS_MAIN(TestTokenizerVocab)
#include "test_tokenizer_vocab.moc"
