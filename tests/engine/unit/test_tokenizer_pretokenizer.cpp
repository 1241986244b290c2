// Unicode helpers and BPE pre-tokenization (regex sets, llama.cpp's custom splitters, the
// collapsed-category regex emulation), without any vocabulary.
#include <QtTest/QtTest>

#include <numeric>
#include <string>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace {

using Words = std::vector<std::string>;

Words split_words(const folio::PreTokenizer& pre, const std::string& text) {
    const auto cpts = folio::unicode::decode(text);
    const auto lengths = pre.split(cpts);
    Words words;
    size_t start = 0;
    for (size_t len : lengths) {
        std::string w;
        for (size_t i = start; i < start + len; ++i) folio::unicode::append_utf8(w, cpts[i]);
        words.push_back(w);
        start += len;
    }
    return words;
}

Words split_with(const std::string& pre_name, const std::string& text) {
    const folio::PreTokenizer pre(folio::bpe_pre_config(pre_name).regexes);
    return split_words(pre, text);
}

QString show(const Words& w) {
    QStringList parts;
    for (const auto& s : w) parts << "'" + QString::fromUtf8(s.data(), qsizetype(s.size())) + "'";
    return parts.join(", ");
}

// Strings that exercise whitespace runs, contractions, digits, mixed scripts and emoji.
const char* const kCorpus[] = {
    "Hello world",
    "   Hello\n\n  world  ",
    "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? "
    "We'Ve a'lL",
    "3 33 333 3333 33333 3.3 3..3 3...3",
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ 🦙🦙",
    "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
    "------======= нещо на Български ''''''```````\"\"\"\"......!!!!!!??????",
    "ied 4 ½ months Äpfel ⅷ ² ０１２",
    "\xe1\x9e\x80\xe1\x9e\xb6\xe1\x9e\x93\xe1\x9f\x8b",  // Khmer with combining marks
    "a\xc2\xa0"
    "b\xe3\x80\x80"
    "c\xe2\x80\xa8"
    "d",  // non-ASCII whitespace
    "tab\tand\rcarriage\r\nreturn",
    "x\xff\xfe"
    "y \xe2\x82 z",  // invalid UTF-8 becomes U+FFFD
    "",
};

}  // namespace

class TestTokenizerPretokenizer : public QObject {
    Q_OBJECT

  private slots:
    void decodeAndEncode();
    void categoryFlags();
    void byteLevelMapping();
    void utf8TakeValid();
    void gpt2Splitter();
    void qwen2Regex();
    void llama3Splitter();
    void customSplittersMatchRegexes_data();
    void customSplittersMatchRegexes();
    void deepseekCoderMixesRegexModes();
    void everyKnownPreCompiles();
    void unknownPreListsKnownNames();
};

void TestTokenizerPretokenizer::decodeAndEncode() {
    using namespace folio::unicode;
    QCOMPARE(decode("a\xc3\xa9\xe2\x82\xac\xf0\x9f\xa6\x99"),
             (std::vector<uint32_t>{'a', 0xE9, 0x20AC, 0x1F999}));
    // invalid and truncated sequences: one U+FFFD per byte, like llama.cpp
    QCOMPARE(decode("\xff"
                    "a\xe2\x82"),
             (std::vector<uint32_t>{0xFFFD, 'a', 0xFFFD, 0xFFFD}));
    QCOMPARE(QByteArray::fromStdString(encode(0x1F999)), QByteArray("\xf0\x9f\xa6\x99"));
    QCOMPARE(QByteArray::fromStdString(encode(0x20AC)), QByteArray("\xe2\x82\xac"));
    QCOMPARE(utf8_len(0xF0), size_t(4));
    QCOMPARE(utf8_len(0x80), size_t(1));
}

void TestTokenizerPretokenizer::categoryFlags() {
    using folio::unicode::cpt_flags;
    QVERIFY(cpt_flags('a').is_letter());
    QVERIFY(cpt_flags(0x4E2D).is_letter());  // 中
    QVERIFY(cpt_flags('7').is_number());
    QVERIFY(cpt_flags(0xBD).is_number());  // ½
    QVERIFY(cpt_flags('!').is_punctuation());
    QVERIFY(cpt_flags('$').is_symbol());
    QVERIFY(cpt_flags(0x1F999).is_symbol());
    QVERIFY(cpt_flags(0x0301).is_accent_mark());
    QVERIFY(cpt_flags(0x200D).is_control());  // ZWJ is Cf
    QVERIFY(cpt_flags(0x3000).is_whitespace() && cpt_flags(0x3000).is_separator());
    QVERIFY(cpt_flags(0x85).is_whitespace());
    QVERIFY(cpt_flags('\n').is_whitespace());
    QVERIFY(!cpt_flags(0x200B).is_whitespace());
    QVERIFY(cpt_flags(0x0378).is_undefined());
    QCOMPARE(folio::unicode::to_lower('R'), uint32_t('r'));
    QCOMPARE(folio::unicode::to_lower(0xC4), uint32_t(0xE4));
}

void TestTokenizerPretokenizer::byteLevelMapping() {
    using namespace folio::unicode;
    QCOMPARE(QByteArray::fromStdString(byte_to_utf8(' ')), QByteArray("\xc4\xa0"));   // Ġ
    QCOMPARE(QByteArray::fromStdString(byte_to_utf8('\n')), QByteArray("\xc4\x8a"));  // Ċ
    QCOMPARE(QByteArray::fromStdString(byte_to_utf8('a')), QByteArray("a"));
    for (int b = 0; b < 256; ++b) QCOMPARE(utf8_to_byte(byte_to_utf8(uint8_t(b))), b);
    QCOMPARE(utf8_to_byte("ab"), -1);
    QCOMPARE(utf8_to_byte("\xe4\xb8\xad"), -1);
}

void TestTokenizerPretokenizer::utf8TakeValid() {
    size_t used = 0;
    QCOMPARE(QByteArray::fromStdString(folio::utf8_take_valid("ab\xf0\x9f", false, used)),
             QByteArray("ab"));
    QCOMPARE(used, size_t(2));
    QCOMPARE(QByteArray::fromStdString(folio::utf8_take_valid("ab\xf0\x9f", true, used)),
             QByteArray("ab\xef\xbf\xbd"));
    QCOMPARE(used, size_t(4));
    // an ill-formed subpart is one U+FFFD, even mid-stream
    QCOMPARE(QByteArray::fromStdString(folio::utf8_take_valid("\xe2\x82x\xff", false, used)),
             QByteArray("\xef\xbf\xbdx\xef\xbf\xbd"));
    QCOMPARE(used, size_t(4));
    // overlong and surrogate encodings are not UTF-8
    QCOMPARE(QByteArray::fromStdString(folio::utf8_take_valid("\xc0\xaf", false, used)),
             QByteArray("\xef\xbf\xbd\xef\xbf\xbd"));
    QCOMPARE(QByteArray::fromStdString(folio::utf8_take_valid("\xed\xa0\x80", false, used)),
             QByteArray("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
}

void TestTokenizerPretokenizer::gpt2Splitter() {
    const Words got = split_with("gpt-2", "Hello world's  end!!\n\n 42x");
    const Words want = {"Hello", " world", "'s", " ", " end", "!!", "\n\n", " 42", "x"};
    QVERIFY2(got == want, qPrintable(show(got)));
    // contractions are case-sensitive in gpt-2
    const Words upper = split_with("gpt-2", "I'M");
    QVERIFY2((upper == Words{"I", "'", "M"}), qPrintable(show(upper)));
}

void TestTokenizerPretokenizer::qwen2Regex() {
    const Words got = split_with("qwen2", "I've 1234 apples\n\n  x");
    const Words want = {"I", "'ve", " ", "1", "2", "3", "4", " apples", "\n\n", " ", " x"};
    QVERIFY2(got == want, qPrintable(show(got)));
    const Words cjk = split_with("qwen2", "我想在apple工作");
    QVERIFY2((cjk == Words{"我想在apple工作"}), qPrintable(show(cjk)));
}

void TestTokenizerPretokenizer::llama3Splitter() {
    const Words got = split_with("llama-bpe", "I'M 1234567 ok?!\r\n\n  x");
    const Words want = {"I", "'M", " ", "123", "456", "7", " ok", "?!\r\n\n", " ", " x"};
    QVERIFY2(got == want, qPrintable(show(got)));
}

void TestTokenizerPretokenizer::customSplittersMatchRegexes_data() {
    QTest::addColumn<QByteArray>("text");
    int i = 0;
    for (const char* s : kCorpus) QTest::addRow("%d", i++) << QByteArray(s);
}

// The hand-written splitters agree with their regexes run through the generic engine (forced by
// wrapping the pattern in a group so that it is not recognised as a custom one).
void TestTokenizerPretokenizer::customSplittersMatchRegexes() {
    QFETCH(QByteArray, text);
    const std::string s = text.toStdString();
    const std::string gpt2 = folio::bpe_pre_config("gpt-2").regexes.at(0);
    const std::string llama3 = folio::bpe_pre_config("llama3").regexes.at(0);
    const folio::PreTokenizer custom_gpt2({gpt2});
    const folio::PreTokenizer regex_gpt2({"(?:" + gpt2 + ")|\\s+"});
    const folio::PreTokenizer custom_llama3({llama3});
    const folio::PreTokenizer regex_llama3({"(?:" + llama3 + ")"});
    const Words a = split_words(custom_gpt2, s), b = split_words(regex_gpt2, s);
    QVERIFY2(a == b, qPrintable(show(a) + "\n vs " + show(b)));
    const Words c = split_words(custom_llama3, s), d = split_words(regex_llama3, s);
    QVERIFY2(c == d, qPrintable(show(c) + "\n vs " + show(d)));
    std::string joined;
    for (const auto& w : c) joined += w;
    QCOMPARE(joined.size() >= s.size() || s.empty(), true);  // U+FFFD may lengthen invalid input
}

void TestTokenizerPretokenizer::deepseekCoderMixesRegexModes() {
    // "[\r\n]", "\s?\p{L}+", "\s?\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\p{N}"
    const Words got = split_with("deepseek-coder", "int x=42;\n// 中文注释 ok");
    const Words want = {"int", " x", "=", "4", "2", ";", "\n", "//", " ", "中文注释", " ok"};
    QVERIFY2(got == want, qPrintable(show(got)));
}

void TestTokenizerPretokenizer::everyKnownPreCompiles() {
    const auto names = folio::known_bpe_pre_names();
    for (const char* required :
         {"default",     "llama-bpe",      "llama3",       "qwen2",        "gpt-2",
          "falcon",      "deepseek-coder", "deepseek-llm", "starcoder",    "refact",
          "mpt",         "dbrx",           "smaug-bpe",    "command-r",    "olmo",
          "jais",        "stablelm2",      "poro-chat",    "viking",       "tekken",
          "chatglm-bpe", "gpt-4o",         "bloom",        "exaone",       "minerva-7b",
          "codeshell",   "jina-v2-es",     "jina-v2-de",   "jina-v2-code", "smollm",
          "chameleon"}) {
        QVERIFY2(std::find(names.begin(), names.end(), required) != names.end(), required);
    }
    const std::string sample = kCorpus[6];
    const size_t n = folio::unicode::decode(sample).size();
    for (const auto& name : names) {
        const auto cfg = folio::bpe_pre_config(name);
        const folio::PreTokenizer pre(cfg.regexes);
        const auto lengths = pre.split(folio::unicode::decode(sample));
        QCOMPARE(std::accumulate(lengths.begin(), lengths.end(), size_t(0)), n);
        QVERIFY2(std::find(lengths.begin(), lengths.end(), size_t(0)) == lengths.end(),
                 name.c_str());
    }
    QVERIFY(folio::bpe_pre_config("llama-bpe").ignore_merges);
    QVERIFY(folio::bpe_pre_config("llama-bpe").add_bos);
    QVERIFY(!folio::bpe_pre_config("qwen2").clean_spaces);
    QVERIFY(folio::bpe_pre_config("gpt-2").clean_spaces);
    QCOMPARE(folio::bpe_pre_config("").name, std::string("default"));
}

void TestTokenizerPretokenizer::unknownPreListsKnownNames() {
    try {
        folio::bpe_pre_config("no-such-pre");
        QFAIL("expected an exception");
    } catch (const std::runtime_error& e) {
        const QString msg = e.what();
        QVERIFY2(msg.contains("'no-such-pre'"), e.what());
        QVERIFY2(msg.contains("qwen2") && msg.contains("llama-bpe") && msg.contains("gpt-2"),
                 e.what());
    }
}

QTEST_GUILESS_MAIN(TestTokenizerPretokenizer)
#include "test_tokenizer_pretokenizer.moc"
