// Runs the built `folio info` on a real model and on corrupt files.
#include <QProcess>
#include <QTest>
#include <filesystem>
#include <fstream>

#include "folio_process.h"
#include "shared_data.h"

namespace {

struct Result {
    int exit_code = -1;
    QString out, err;
};

Result run_folio(const QStringList& args) {
    const folio::test::FolioRun r = folio::test::run_folio(args);
    return {r.exit_code, QString::fromUtf8(r.out), QString::fromUtf8(r.err)};
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

class TestCliInfo : public QObject {
    Q_OBJECT

  private slots:
    void showsStories260K();
    void rejectsCorruptFiles();
};

void TestCliInfo::showsStories260K() {
    const auto model = folio::test::shared_path("models/stories260K.gguf");
    const Result r = run_folio({"info", QString::fromStdString(model.string())});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.err.isEmpty(), qPrintable(r.err));
    const QStringList lines = r.out.split('\n');
    QVERIFY(lines.value(0).startsWith("file: " + QString::fromStdString(model.string())));
    QCOMPARE(lines.value(1), QString("GGUF version: 3"));
    QVERIFY(r.out.contains("tensor count: 48\n"));
    QVERIFY(r.out.contains(QRegularExpression(R"(llama\.block_count +u32 +5\n)")));
    QVERIFY(r.out.contains(QRegularExpression(
        R"(tokenizer\.ggml\.tokens +arr\[str,512\] +\["<unk>", "<s>", .* \.\.\. 512 items\])")));
    QVERIFY(r.out.contains(QRegularExpression(R"(general\.architecture +str +"llama")")));
    QVERIFY(r.out.contains("f32: 48 tensors, 1.1 MiB"));
    QVERIFY(r.out.contains(QRegularExpression(R"(token_embd\.weight +f32 +\[64, 512\])")));
}

void TestCliInfo::rejectsCorruptFiles() {
    const auto dir = folio::test::scratch_dir("cli_info");
    const std::string model =
        folio::test::read_file(folio::test::shared_path("models/stories260K.gguf"));
    const auto truncated = dir / "truncated.gguf";
    write_bytes(truncated, model.substr(0, 5000));
    const auto bad_magic = dir / "bad_magic.gguf";
    write_bytes(bad_magic, "GGUX" + model.substr(4, 100));
    const auto missing = dir / "missing.gguf";

    const std::pair<std::filesystem::path, QString> cases[] = {
        {truncated, "truncated file"},
        {bad_magic, "bad magic 'GGUX'"},
        {missing, "cannot open"},
    };
    for (const auto& [path, expected] : cases) {
        const Result r = run_folio({"info", QString::fromStdString(path.string())});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.startsWith("folio: "), qPrintable(r.err));
        QVERIFY2(r.err.contains(expected), qPrintable(r.err));
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(r.err.endsWith('\n'));
    }
}

QTEST_GUILESS_MAIN(TestCliInfo)
#include "test_cli_info.moc"
