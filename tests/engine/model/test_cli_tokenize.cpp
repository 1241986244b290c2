// Runs the built `folio tokenize` on tokenizer-only vocab files and models and compares its one
// line of ids with llama.cpp's.
#include <QProcess>
#include <QTest>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "folio_process.h"
#include "shared_data.h"

namespace {

using Result = folio::test::FolioRun;
using folio::test::run_folio;

QString vocab_file(const std::string& name) {
    return QString::fromStdString(
        folio::test::shared_path("vocab/ggml-vocab-" + name + ".gguf").string());
}

// Test strings and expected lines of a vocab's .inp/.out pair.
std::vector<std::pair<std::string, std::string>> cases(const std::string& name) {
    const auto base = folio::test::shared_path("vocab/ggml-vocab-" + name + ".gguf").string();
    const std::string inp = folio::test::read_file(base + ".inp");
    const std::string out = folio::test::read_file(base + ".out");
    std::vector<std::pair<std::string, std::string>> rows;
    const std::string sep = "\n__ggml_vocab_test__\n";
    size_t pos = 0, line_pos = 0;
    for (size_t hit; (hit = inp.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
        const size_t eol = out.find('\n', line_pos);
        std::string line = out.substr(line_pos, eol - line_pos);
        line_pos = eol + 1;
        // .out lines have a leading space before each id; folio prints "id id id"
        while (!line.empty() && line.front() == ' ') line.erase(0, 1);
        rows.emplace_back(inp.substr(pos, hit - pos), line);
    }
    return rows;
}

}  // namespace

class TestCliTokenize : public QObject {
    Q_OBJECT

  private slots:
    void fileInputMatchesReference_data();
    void fileInputMatchesReference();
    void promptAndSpecialFlags();
    void errors();
};

void TestCliTokenize::fileInputMatchesReference_data() {
    QTest::addColumn<QString>("vocab");
    QTest::addColumn<int>("index");
    // a spread of cases per tokenizer kind: spaces, newlines, emoji, CJK, the long mixed string
    static const std::string kNames[] = {"llama-spm", "qwen2", "llama-bpe", "gpt-2"};
    for (const std::string& name : kNames)
        for (int i : {0, 4, 8, 19, 32, 45})
            QTest::addRow("%s/%d", name.c_str(), i) << QString::fromStdString(name) << i;
}

void TestCliTokenize::fileInputMatchesReference() {
    QFETCH(QString, vocab);
    QFETCH(int, index);
    const auto rows = cases(vocab.toStdString());
    QVERIFY(index < int(rows.size()));
    const auto& [text, expected] = rows[index];
    const auto file = folio::test::scratch_dir("cli_tokenize") /
                      (vocab.toStdString() + "-" + std::to_string(index) + ".txt");
    std::ofstream(file, std::ios::binary) << text;
    const Result r = run_folio({"tokenize", "-m", vocab_file(vocab.toStdString()), "-f",
                                QString::fromStdString(file.string())});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(r.out, QByteArray::fromStdString(expected + "\n"));
    QVERIFY(r.err.isEmpty());
}

void TestCliTokenize::promptAndSpecialFlags() {
    const QString phi3 = vocab_file("phi-3");
    Result r = run_folio({"tokenize", "-m", phi3, "-p", "Hello world"});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out, QByteArray("15043 3186\n"));
    r = run_folio({"tokenize", "-m", phi3, "-p", "Hello world", "--add-special"});
    QCOMPARE(r.out, QByteArray("1 15043 3186\n"));
    r = run_folio({"tokenize", "-m", phi3, "--add-special", "--parse-special", "-p",
                   "<|user|>\nSYS\nHI<|end|>\n<|assistant|>\n"});
    QCOMPARE(r.out, QByteArray("1 32010 317 21554 13 17628 32007 32001\n"));
    // a full model file works the same way
    const QString model =
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string());
    r = run_folio({"tokenize", "-m", model, "-p", "Once upon a time", "--add-special"});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out, QByteArray("1 403 407 261 378\n"));
    // empty text: an empty line
    r = run_folio({"tokenize", "-m", phi3, "-p", ""});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out, QByteArray("\n"));
}

void TestCliTokenize::errors() {
    const auto dir = folio::test::scratch_dir("cli_tokenize");
    const QString missing = QString::fromStdString((dir / "missing.gguf").string());
    const QString phi3 = vocab_file("phi-3");
    const std::vector<std::pair<QStringList, QString>> runs = {
        {{"tokenize", "-m", missing, "-p", "x"}, "missing.gguf"},
        {{"tokenize", "-m", phi3}, "-p TEXT or -f FILE"},
        {{"tokenize", "-m", phi3, "-f", QString::fromStdString((dir / "nope.txt").string())},
         "nope.txt"},
    };
    for (const auto& [args, expected] : runs) {
        const Result r = run_folio(args);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.startsWith("folio: "), r.err.constData());
        QVERIFY2(QString::fromUtf8(r.err).contains(expected), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(r.out.isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestCliTokenize)
#include "test_cli_tokenize.moc"
