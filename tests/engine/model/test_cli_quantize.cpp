// Runs the built `folio quantize`: the summary and progress contract, and the one-line errors
// that leave no output file behind.
#include <QTest>
#include <filesystem>

#include "folio_process.h"
#include "shared_data.h"

namespace fs = std::filesystem;

namespace {

QString qpath(const fs::path& p) {
    return QString::fromStdString(p.string());
}

QString f32_model() {
    return qpath(folio::test::shared_path("models/micro-llama-F32.gguf"));
}

}  // namespace

class TestCliQuantize : public QObject {
    Q_OBJECT

    fs::path m_dir;

  private slots:
    void initTestCase() { m_dir = folio::test::scratch_dir("cli_quantize"); }

    void quantizes_with_summary() {
        const fs::path out = m_dir / "out-q4_k_m.gguf";
        fs::remove(out);
        const auto r =
            folio::test::run_folio({"quantize", f32_model(), qpath(out), "q4_k_m", "-t", "2"});
        const QString so = QString::fromUtf8(r.out), se = QString::fromUtf8(r.err);
        QVERIFY2(r.exit_code == 0, qPrintable(se));
        QVERIFY(fs::exists(out));
        QVERIFY(!fs::exists(out.string() + ".tmp"));
        // Not a terminal: one progress line per tensor.
        QCOMPARE(se.count('\n'), 21);
        QVERIFY(se.contains("[1/21] output.weight -> q6_K\n"));
        QVERIFY(so.contains("(Q4_K_M)"));
        QVERIFY(so.contains(QRegularExpression(R"(size: +5\.5 MiB -> 883\.7 KiB)")));
        QVERIFY(so.contains(QRegularExpression(R"(bits per weight: +32\.00 -> \d\.\d\d)")));
        QVERIFY(so.contains("q4_K 13, q6_K 3; 5 kept, 0 fallbacks"));
        QVERIFY(so.contains(QRegularExpression(R"(error vs source: +\d\.\d+e-0\d relative RMS)")));
        qInfo("%s", qPrintable(so));
        // The result is what `folio info` reads as a Q4_K_M model.
        const auto info = folio::test::run_folio({"info", qpath(out)});
        QCOMPARE(info.exit_code, 0);
        QVERIFY(QString::fromUtf8(info.out).contains(
            QRegularExpression(R"(general\.file_type +u32 +15)")));
        // Overwriting an existing output is allowed.
        const auto again = folio::test::run_folio({"quantize", f32_model(), qpath(out), "Q8_0"});
        QCOMPARE(again.exit_code, 0);
    }

    void errors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QString out = qpath(m_dir / "err.gguf");
        QTest::newRow("unknown type") << QStringList{"quantize", f32_model(), out, "Q4_K_X"}
                                      << "unknown quantization type 'Q4_K_X' (valid: Q4_0, Q4_1";
        QTest::newRow("already quantized")
            << QStringList{"quantize",
                           qpath(folio::test::shared_path("models/micro-llama-Q4_0.gguf")), out,
                           "Q4_K_M"}
            << "is already quantized";
        QTest::newRow("missing input")
            << QStringList{"quantize", qpath(m_dir / "missing.gguf"), out, "Q8_0"}
            << "missing.gguf";
        QTest::newRow("same path") << QStringList{"quantize", qpath(m_dir / "same.gguf"),
                                                  qpath(m_dir / "same.gguf"), "Q8_0"}
                                   << "the input and the output are the same file";
        QTest::newRow("bad output dir")
            << QStringList{"quantize", f32_model(), qpath(m_dir / "no-dir" / "x.gguf"), "Q8_0"}
            << "cannot create";
    }

    void errors() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        fs::copy_file(folio::test::shared_path("models/micro-llama-F32.gguf"), m_dir / "same.gguf",
                      fs::copy_options::overwrite_existing);
        fs::remove(m_dir / "err.gguf");
        const auto r = folio::test::run_folio(args);
        const QString se = QString::fromUtf8(r.err);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(se.startsWith("folio: ") && se.endsWith('\n') && se.count('\n') == 1,
                 qPrintable(se));
        QVERIFY2(se.contains(message), qPrintable(se));
        QVERIFY(r.out.isEmpty());
        QVERIFY(!fs::exists(m_dir / "err.gguf"));
        QVERIFY(!fs::exists(m_dir / "err.gguf.tmp"));
        QCOMPARE(fs::file_size(m_dir / "same.gguf"),
                 fs::file_size(folio::test::shared_path("models/micro-llama-F32.gguf")));
    }
};

QTEST_GUILESS_MAIN(TestCliQuantize)
#include "test_cli_quantize.moc"
