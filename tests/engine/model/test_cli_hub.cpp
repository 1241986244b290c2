// `folio search` and `folio quants` against the fake hub (HF_ENDPOINT), with a fixed available
// memory (FOLIO_MEM_AVAILABLE) so the fit column and the recommendation are deterministic.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "fake_hub.h"
#include "folio_process.h"

using folio::test::FakeHub;

namespace {

struct Result {
    int exit_code = -1;
    QString out, err;
};

Result run(const FakeHub& hub, const QStringList& args,
           const QList<QPair<QString, QString>>& extra = {}) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HF_ENDPOINT", QString::fromStdString(hub.endpoint()));
    env.remove("HF_TOKEN");
    env.remove("HF_HUB_OFFLINE");
    // micro-llama at --ctx 1024 needs ~22-25 MB: Q4_K_M (23,056,096 B) is the best that fits in
    // 80% of 29,000,000 B; Q8_0 and F16 are tight.
    env.insert("FOLIO_MEM_AVAILABLE", "29000000");
    for (const auto& [k, v] : extra) env.insert(k, v);
    const folio::test::FolioRun r = folio::test::run_folio(args, 60000, env);
    return {r.exit_code, QString::fromUtf8(r.out), QString::fromUtf8(r.err)};
}

void expect_one_line_error(const Result& r, const QString& needle) {
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.startsWith("folio: "), qPrintable(r.err));
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains(needle), qPrintable(r.err));
}

void add_micro_repo(FakeHub& hub) {
    FakeHub::RepoMeta meta;
    meta.downloads = 4321;
    meta.likes = 12;
    hub.add_repo("acme/micro-llama-GGUF", meta);
    for (const char* q : {"Q2_K", "Q4_K_M", "Q8_0", "F16"}) {
        hub.add_shared_model("acme/micro-llama-GGUF", std::string("micro-llama-") + q + ".gguf");
    }
    hub.add_file_bytes("acme/micro-llama-GGUF", "README.md", "# micro\n", false);
}

}  // namespace

class TestCliHub : public QObject {
    Q_OBJECT

  private slots:
    void search_prints_a_table_and_json() {
        FakeHub hub;
        add_micro_repo(hub);
        FakeHub::RepoMeta other;
        other.downloads = 99;
        other.likes = 1;
        other.last_modified = "2023-02-03T04:05:06.000Z";
        hub.add_repo("someone/Micro-Chat-GGUF", other);
        const Result r = run(hub, {"search", "micro"});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("acme/micro-llama-GGUF"));
        QVERIFY(r.out.contains("4321"));
        QVERIFY(r.out.contains("2023-02-03"));
        QVERIFY(r.out.indexOf("acme/micro-llama-GGUF") < r.out.indexOf("someone/Micro-Chat-GGUF"));

        const Result j = run(hub, {"search", "micro", "--limit", "1", "--json"});
        QVERIFY2(j.exit_code == 0, qPrintable(j.err));
        const QJsonArray arr = QJsonDocument::fromJson(j.out.toUtf8()).array();
        QCOMPARE(arr.size(), 1);
        QCOMPARE(arr[0].toObject()["id"].toString(), QString("acme/micro-llama-GGUF"));
        QCOMPARE(arr[0].toObject()["downloads"].toInt(), 4321);
        QCOMPARE(arr[0].toObject()["likes"].toInt(), 12);
        QVERIFY(arr[0].toObject().contains("last_modified"));
    }

    void quants_table_marks_the_recommendation() {
        FakeHub hub;
        add_micro_repo(hub);
        const Result r = run(hub, {"quants", "acme/micro-llama-GGUF", "--ctx", "1024"});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        for (const char* q : {"Q2_K", "Q4_K_M", "Q8_0", "F16"}) QVERIFY(r.out.contains(q));
        QVERIFY2(r.out.contains("llama"), qPrintable(r.out));
        QVERIFY(r.out.contains("883.7 KiB"));  // Q4_K_M: 904,928 bytes
        QVERIFY(r.out.contains("2.8 MiB"));    // F16: 2,901,472 bytes
        QVERIFY(r.out.contains("tight"));
        QVERIFY(r.out.contains("fits"));
        QVERIFY2(r.out.contains("recommended: Q4_K_M (micro-llama-Q4_K_M.gguf)"),
                 qPrintable(r.out));
        QVERIFY(r.out.contains("* Q4_K_M"));
        QVERIFY(!r.out.contains("kv      = "));

        const Result v =
            run(hub, {"quants", "acme/micro-llama-GGUF@main", "--ctx", "1024", "--verbose"});
        QVERIFY2(v.exit_code == 0, qPrintable(v.err));
        QVERIFY2(
            v.out.contains("kv      = 2 x n_layer x ctx x n_head_kv x head_dim x 2 B = 2 x 2 x "
                           "1024 x 2 x 64 x 2 = 1048576 B"),
            qPrintable(v.out));
        QVERIFY(v.out.contains("total   = 23056096 B"));
    }

    void quants_json_shape() {
        FakeHub hub;
        add_micro_repo(hub);
        const Result r = run(hub, {"quants", "acme/micro-llama-GGUF", "--ctx", "1024", "--json"});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(o["repo"].toString(), QString("acme/micro-llama-GGUF"));
        QCOMPARE(o["revision"].toString(), QString("main"));
        QCOMPARE(o["context_length"].toInt(), 1024);
        QCOMPARE(o["recommended"].toString(), QString("Q4_K_M"));
        QCOMPARE(o["header"].toObject()["architecture"].toString(), QString("llama"));
        QVERIFY(o["header"].toObject()["parameter_count"].toDouble() > 0);
        const QJsonArray opts = o["options"].toArray();
        QCOMPARE(opts.size(), 4);
        QCOMPARE(opts[0].toObject()["quant"].toString(), QString("F16"));  // best quality first
        QCOMPARE(opts[0].toObject()["fit"].toString(), QString("tight"));
        for (const auto& v : opts) {
            const QJsonObject opt = v.toObject();
            if (opt["quant"].toString() != "Q4_K_M") continue;
            QCOMPARE(opt["size"].toInteger(), 904928);
            QCOMPARE(opt["fit"].toString(), QString("fits"));
            QVERIFY(opt["recommended"].toBool());
            QCOMPARE(opt["memory"].toObject()["total"].toInteger(), 23056096);
            QCOMPARE(opt["files"].toArray()[0].toObject()["sha256"].toString().size(), 64);
        }
    }

    void errors_are_one_line_and_exit_1() {
        FakeHub hub;
        add_micro_repo(hub);
        hub.add_shared_model("acme/gated", "stories260K.gguf");
        hub.set_gated("acme/gated", "secret");
        hub.add_file_bytes("acme/no-gguf", "README.md", "hi", false);
        expect_one_line_error(run(hub, {"quants", "acme/missing"}), "not found");
        expect_one_line_error(run(hub, {"quants", "acme/gated"}), "HF_TOKEN");
        expect_one_line_error(run(hub, {"quants", "acme/no-gguf"}), "no GGUF files");
        expect_one_line_error(run(hub, {"search", "x"}, {{"HF_HUB_OFFLINE", "1"}}),
                              "HF_HUB_OFFLINE");
        QCOMPARE(hub.request_count("/api/models"), 0);
        const Result ok = run(hub, {"quants", "acme/gated"}, {{"HF_TOKEN", "secret"}});
        QVERIFY2(ok.exit_code == 0, qPrintable(ok.err));
        QVERIFY(ok.out.contains("recommended"));
    }

    void quants_survive_corrupt_headers() {
        FakeHub hub;
        add_micro_repo(hub);
        // F16 (the best quality, whose header is read first) has a corrupt header.
        const std::string corrupt = std::string("GGUF") + std::string(4092, '\xff');
        hub.add_file_bytes("acme/micro-llama-GGUF", "micro-llama-F16.gguf", corrupt);
        Result r = run(hub, {"quants", "acme/micro-llama-GGUF", "--ctx", "1024"});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        QVERIFY2(r.err.startsWith("folio: warning: cannot read the GGUF header of") &&
                     r.err.contains("micro-llama-F16.gguf"),
                 qPrintable(r.err));
        QVERIFY2(r.out.contains("recommended: Q4_K_M (micro-llama-Q4_K_M.gguf)"),
                 qPrintable(r.out));
        QVERIFY(r.out.contains("883.7 KiB"));
        QVERIFY(r.out.contains("4.0 KiB"));  // F16's size is still shown
        bool f16_unknown = false;
        for (const QString& line : r.out.split('\n')) {
            if (line.contains(" F16 ")) f16_unknown = line.contains("?");
        }
        QVERIFY2(f16_unknown, qPrintable(r.out));

        const Result j = run(hub, {"quants", "acme/micro-llama-GGUF", "--ctx", "1024", "--json"});
        QVERIFY2(j.exit_code == 0, qPrintable(j.err));
        const QJsonObject o = QJsonDocument::fromJson(j.out.toUtf8()).object();
        QCOMPARE(o["recommended"].toString(), QString("Q4_K_M"));
        QCOMPARE(o["warnings"].toArray().size(), 1);
        const QJsonObject f16 = o["options"].toArray()[0].toObject();
        QCOMPARE(f16["quant"].toString(), QString("F16"));
        QCOMPARE(f16["fit"].toString(), QString("unknown"));
        QVERIFY(f16["memory"].isNull());
        QCOMPARE(f16["size"].toInteger(), 4096);

        // No header readable at all: sizes, "?" everywhere, no recommendation.
        hub.add_file_bytes("acme/broken", "broken-Q4_K_M.gguf", "not a gguf at all");
        hub.add_file_bytes("acme/broken", "broken-Q8_0.gguf", corrupt);
        r = run(hub, {"quants", "acme/broken"});
        QVERIFY2(r.exit_code == 0, qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 1);  // one warning per file
        QVERIFY(r.err.contains("broken-Q4_K_M.gguf") && r.err.contains("broken-Q8_0.gguf"));
        QVERIFY2(r.out.contains("recommended: none; no quantization's memory can be estimated"),
                 qPrintable(r.out));
        QVERIFY(!r.out.contains("<- recommended"));
    }
};

QTEST_GUILESS_MAIN(TestCliHub)
#include "test_cli_hub.moc"
