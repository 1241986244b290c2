// Unicode helpers and BPE pre-tokenization (regex sets, llama.cpp's custom splitters, the
// collapsed-category regex emulation), without any vocabulary.
#include <QtTest/QtTest>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>
#include <numeric>
#include <random>
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

// ---- independent oracle: the Hugging Face regexes, run by PCRE2 with full Unicode properties ----

// A sequence of regexes applied like a tokenizers.json Sequence of Split(Isolated) pre-tokenizers:
// each regex splits every piece of the previous step into its matches and the text between them.
class RegexOracle {
  public:
    explicit RegexOracle(const std::vector<std::string>& regexes) {
        for (const auto& re : regexes) {
            int err = 0;
            PCRE2_SIZE off = 0;
            pcre2_code* code =
                pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &off, nullptr);
            if (!code) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(err, msg, sizeof(msg));
                throw std::runtime_error("oracle regex '" + re +
                                         "': " + reinterpret_cast<const char*>(msg) + " at " +
                                         std::to_string(off));
            }
            pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
            m_codes.emplace_back(code, &pcre2_code_free);
        }
    }

    Words split(const std::string& text) const {
        Words pieces{text};
        for (const auto& code : m_codes) {
            Words next;
            for (const auto& piece : pieces) split_piece(code.get(), piece, next);
            pieces = std::move(next);
        }
        if (text.empty()) pieces.clear();
        return pieces;
    }

  private:
    static void split_piece(const pcre2_code* code, const std::string& piece, Words& out) {
        std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
            pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
        const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
        size_t last = 0, pos = 0;
        const auto push = [&](size_t a, size_t b) {
            if (b > a) out.push_back(piece.substr(a, b - a));
        };
        while (pos <= piece.size()) {
            const int rc = pcre2_match(code, subject, piece.size(), pos, 0, md.get(), nullptr);
            if (rc < 0) break;
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
            if (ov[1] == ov[0]) {  // empty match: not a piece; move on one character
                pos = ov[1] + 1;
                while (pos < piece.size() && (uint8_t(piece[pos]) & 0xC0) == 0x80) ++pos;
                continue;
            }
            push(last, ov[0]);
            push(ov[0], ov[1]);
            last = pos = ov[1];
        }
        push(last, piece.size());
    }

    std::vector<std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)>> m_codes;
};

// Random strings over a mixed alphabet: ASCII words (all cases), contractions, punctuation, spaces
// and newlines, accented Latin (precomposed and with combining marks), Cyrillic, Han, kana, Hangul,
// Thai (with its vowel marks), emoji (with ZWJ / variation selector), non-ASCII whitespace and
// digit runs of every length up to 14 (ASCII and Arabic-Indic). Han stays within U+4E00-U+9FFF,
// where \p{Han} and llama.cpp's fixed Han ranges agree.
std::string random_text(std::mt19937& rng) {
    static const char* const kAtoms[] = {
        "Hello",
        "world",
        "WORLD",
        "camelCase",
        "HTTPServer",
        "x",
        "I",
        "a",
        "'s",
        "'S",
        "'ll",
        "'VE",
        "'t",
        "'re",
        "'d",
        "'m",
        "'",
        "don't",
        "\"",
        "!",
        "?",
        ".",
        ",",
        "-",
        "--",
        "/",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "$",
        "+",
        "<",
        "=",
        ">",
        "^",
        "`",
        "|",
        "~",
        "_",
        "@",
        "#",
        "%",
        "&",
        "*",
        "\\",
        ":",
        ";",
        " ",
        " ",
        " ",
        "  ",
        "   ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        " \n",
        "\xc2\xa0",
        "\xe3\x80\x80",
        "caf\xc3\xa9",
        "\xc3\x9c"
        "ber",
        "Espa\xc3\xb1"
        "a",
        "e\xcc\x81",
        "\xcc\x81",
        "n\xcc\x83o",
        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
        "\xd0\xbc\xd0\xb8\xd1\x80",
        "\xe4\xb8\xad\xe6\x96\x87",
        "\xe4\xb8\x96\xe7\x95\x8c",
        "\xe4\xba\xba",
        "\xe3\x81\xb2\xe3\x82\x89\xe3\x81\x8c\xe3\x81\xaa",
        "\xe3\x82\xab\xe3\x82\xbf\xe3\x82\xab\xe3\x83\x8a",
        "\xe3\x83\xbc",
        "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
        "\xe0\xb8\xa0\xe0\xb8\xb2\xe0\xb8\xa9\xe0\xb8\xb2",
        "\xe0\xb9\x84\xe0\xb8\x97\xe0\xb8\xa2",
        "\xe0\xb8\x81\xe0\xb8\xb4\xe0\xb8\x99",
        "\xe0\xb9\x80",
        "\xe3\x80\x82",
        "\xe3\x80\x81",
        "\xef\xbc\x8c",
        "\xe2\x80\xa6",
        "\xe2\x80\x9c",
        "\xf0\x9f\x98\x80",
        "\xf0\x9f\x9a\x80",
        "\xe2\x9c\x85",
        "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb",
        "\xe2\x9d\xa4\xef\xb8\x8f",
        "\xe2\x80\x8d",
        "\xc2\xbd",
        "\xd9\xa3\xd9\xa4",
    };
    std::uniform_int_distribution<size_t> atom(0, std::size(kAtoms) - 1);
    std::uniform_int_distribution<int> num_atoms(1, 24), kind(0, 5), digits(1, 14), digit(0, 9);
    std::string s;
    for (int i = num_atoms(rng); i > 0; --i) {
        if (kind(rng) == 0) {
            for (int d = digits(rng); d > 0; --d) s += char('0' + digit(rng));
        } else {
            s += kAtoms[atom(rng)];
        }
    }
    return s;
}

// The regexes (as quoted from tokenizer.json in llama.cpp) that an oracle runs for a pre type.
struct OracleCase {
    const char* pre;
    std::vector<std::string> regexes;
};

const char* const kHfQwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// DeepSeek-V3's main Split regex (also AFMoE's), and its Han/kana class.
const char* const kHfDeepseek3Main =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}"
    "\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// llama.cpp's AFMoE / tiny_aya digit splitter as a regex: digit runs grouped by three from the
// right (head of length mod 3) -- and, a llama.cpp quirk kept on purpose, the text before a run
// glued to the run's first group. (tiny_aya's tokenizer.json has \d{1,3}(?=(?:\d{3})*\b); llama.cpp
// deliberately runs this splitter for it instead.)
const char* const kLlamaCppDigitGroups = "\\P{N}*\\p{N}{1,3}(?=(?:\\p{N}{3})*(?!\\p{N}))";

std::vector<OracleCase> oracle_cases() {
    return {
        {"qwen35",
         {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| "
          "?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        {"solar-open", {kHfQwen2}},
        {"hunyuan", {kHfQwen2}},
        {"grok-2", {kHfQwen2}},
        {"joyai-llm",
         {"\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
          kHfDeepseek3Main}},
        {"hunyuan-dense",
         {"\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
          kHfDeepseek3Main}},
        // tokenization_kimi.py's pat_str is
        //   [\p{Han}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*
        //   [\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?
        //   [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*
        //   (?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}|
        //   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
        // llama.cpp's custom splitter deliberately simplifies both letter branches to one run of
        // non-Han letters, without the case split and without \p{M}; the oracle follows it. The
        // class intersection [A&&[^\p{Han}]] is written (?:(?!\p{Han})A) for PCRE2, and \p{Han} as
        // \p{sc:Han}: PCRE2 alone also matches script extensions (e.g. the ideographic comma);
        // llama.cpp takes the Han script only.
        {"kimi-k2",
         {"[\\p{sc:Han}]+|[^\\r\\n\\p{L}\\p{N}]?(?:(?!\\p{sc:Han})\\p{L})+(?i:'s|'t|'re|'ve|'m|'ll|"
          "'d)?|"
          "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        {"afmoe",
         {kLlamaCppDigitGroups,
          "[\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{F900}-\\x{FAFF}\\x{3040}-\\x{309F}\\x{30A0}-"
          "\\x{30FF}\\x{FF65}-\\x{FF9F}\\x{2F00}-\\x{2FDF}\\x{0E40}-\\x{0E7F}\\x{0E80}-\\x{0EFF}"
          "\\x{1780}-\\x{17FF}\\x{1000}-\\x{109F}\\x{AA60}-\\x{AA7F}\\x{A9E0}-\\x{A9FF}\\x{AC00}-"
          "\\x{D7AF}\\x{1100}-\\x{11FF}]+",
          kHfDeepseek3Main}},
        // tokenizer.json: gpt-4o's regex. llama.cpp collapses \p{Lu} \p{Ll} \p{Lt} \p{Lm} \p{Lo} to
        // \p{L}, so both case classes become [\p{L}\p{M}] (no upper/lower split); the oracle
        // follows.
        {"tiny_aya",
         {kLlamaCppDigitGroups,
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]*[\\p{L}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
          "[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+[\\p{L}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
          "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        {"exaone-moe",
         {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: "
          "\\p{L}\\p{M}*)*)+|"
          "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
        {"jais-2",
         {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
          "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|"
          "\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|"
          "\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}"}},
        {"minicpm5",
         {"\\p{N}{1,3}",
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| "
          "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        {"laguna", {"[^\\n]+|[\\n]+", kHfQwen2}},
        {"ufakzeka",
         {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
          "\\s+(?!\\S)|\\s+"}},
        {"gemma4", {"[^\\n]+|[\\n]+"}},
        {"sarvam-moe", {"[^\\n]+|[\\n]+"}},
        {"whitespace", {"\\S+"}},
    };
}

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
    void newPresMatchRegexOracle_data();
    void newPresMatchRegexOracle();
    void kimiK2Splitter();
    void afmoeDigitGrouping();
    void preNameMappings();
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
          "chameleon",   "qwen35",         "kimi-k2",      "afmoe",        "solar-open",
          "joyai-llm",   "tiny_aya",       "gemma4",       "sarvam-moe",   "hunyuan-dense",
          "minimax-m2",  "grok-2",         "deepseek-v3",  "hunyuan",      "laguna"}) {
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

void TestTokenizerPretokenizer::newPresMatchRegexOracle_data() {
    QTest::addColumn<int>("index");
    const auto cases = oracle_cases();
    for (size_t i = 0; i < cases.size(); ++i) QTest::addRow("%s", cases[i].pre) << int(i);
}

// Our splitter (collapsed-category PCRE2, custom splitters) against the tokenizer.json regexes run
// by PCRE2 with real Unicode properties, on hand-written and a few thousand random strings.
void TestTokenizerPretokenizer::newPresMatchRegexOracle() {
    QFETCH(int, index);
    const OracleCase c = oracle_cases().at(size_t(index));
    const folio::PreTokenizer pre(folio::bpe_pre_config(c.pre).regexes);
    const RegexOracle oracle(c.regexes);
    std::vector<std::string> texts = {
        "Hello\xe4\xb8\x96\xe7\x95\x8c"
        "world's 12345",
        "1234567 x1234 12 123 abc123def 4567890123",
        "HelloWorld don't I'LL 'sup \xe4\xb8\xad\xe6\x96\x87"
        "abc \xe4\xb8\xad"
        "1",
        "  leading\n\n  trailing  \r\n\tmixed \xc2\xa0nbsp\xe3\x80\x80ideo ",
        "\xe0\xb8\xa0\xe0\xb8\xb2\xe0\xb8\xa9\xe0\xb8\xb2\xe0\xb9\x84\xe0\xb8\x97\xe0\xb8\xa2 "
        "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xe3\x81\xb2\xe3\x82\x89",
        "e\xcc\x81t\xcc\x81 \xcc\x81x \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb 99~~ a-b"};
    std::mt19937 rng(1234u + unsigned(index));
    for (int i = 0; i < 3000; ++i) texts.push_back(random_text(rng));
    for (const auto& t : texts) {
        const Words got = split_words(pre, t), want = oracle.split(t);
        if (got != want)
            QFAIL(qPrintable(QString("%1 on '%2':\n ours:   %3\n oracle: %4")
                                 .arg(c.pre, QString::fromStdString(t), show(got), show(want))));
    }
}

void TestTokenizerPretokenizer::kimiK2Splitter() {
    const Words got = split_with("kimi-k2",
                                 "Hello\xe4\xb8\x96\xe7\x95\x8c"
                                 "world's 12345 HelloWorld");
    // llama.cpp keeps a mixed-case word whole (the tiktoken regex would split Hello|World)
    const Words want = {"Hello",      "\xe4\xb8\x96\xe7\x95\x8c", "world's", " ", "123", "45",
                        " HelloWorld"};
    QVERIFY2(got == want, qPrintable(show(got)));
    QVERIFY(folio::is_han(0x4E2D) && folio::is_han(0x20000) && !folio::is_han(0x3042));
}

void TestTokenizerPretokenizer::afmoeDigitGrouping() {
    const Words digits = split_with("afmoe", "1234567");
    QVERIFY2((digits == Words{"1", "234", "567"}), qPrintable(show(digits)));
    const Words mixed = split_with("afmoe", "ab 12345 xyz");
    QVERIFY2((mixed == Words{"ab", " ", "12", "345", " xyz"}), qPrintable(show(mixed)));
    // the bare digit splitter glues preceding text to the first group, like llama.cpp
    const auto cpts = folio::unicode::decode("ab1234c");
    QCOMPARE(folio::split_afmoe_digits(cpts, {cpts.size()}), (std::vector<size_t>{3, 3, 1}));
    const Words aya = split_with("tiny_aya", "x 1234567 ok");
    QVERIFY2((aya == Words{"x", " ", "1", "234", "567", " ok"}), qPrintable(show(aya)));
}

void TestTokenizerPretokenizer::preNameMappings() {
    const auto same_regexes = [](const char* a, const char* b) {
        return folio::bpe_pre_config(a).regexes == folio::bpe_pre_config(b).regexes;
    };
    QVERIFY(same_regexes("hunyuan", "qwen2"));
    QVERIFY(same_regexes("solar-open", "qwen2"));
    QVERIFY(same_regexes("grok-2", "qwen2"));
    QVERIFY(same_regexes("hunyuan-dense", "deepseek-v3"));
    QVERIFY(same_regexes("joyai-llm", "deepseek-v3"));
    QVERIFY(same_regexes("minimax-m2", "gpt-4o"));
    QVERIFY(same_regexes("mellum2", "starcoder"));
    QVERIFY(same_regexes("jina-v5-nano", "llama-bpe"));
    QVERIFY(!same_regexes("qwen35", "qwen2"));
    for (const char* name : {"qwen35", "kimi-k2", "afmoe", "solar-open", "joyai-llm", "tiny_aya",
                             "gemma4", "sarvam-moe", "hunyuan", "grok-2", "minimax-m2"})
        QVERIFY2(!folio::bpe_pre_config(name).clean_spaces || std::string(name) == "gemma4", name);
    QVERIFY(folio::bpe_pre_config("gemma4").escape_whitespaces);
    QVERIFY(!folio::bpe_pre_config("gemma4").byte_encode);
    QVERIFY(!folio::bpe_pre_config("sarvam-moe").byte_encode);
    QVERIFY(folio::bpe_pre_config("afmoe").byte_encode);
    QVERIFY(folio::bpe_pre_config("minicpm5").ignore_merges);
    QVERIFY(folio::bpe_pre_config("youtu").ignore_merges);
}

QTEST_GUILESS_MAIN(TestTokenizerPretokenizer)
#include "test_tokenizer_pretokenizer.moc"
