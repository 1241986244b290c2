// `folio pull`, `folio list`, `folio rm` against the fake hub (HF_ENDPOINT) in a temporary
// FOLIO_DATA_DIR, including a pull killed with SIGKILL and resumed.
#include <signal.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>
#include <filesystem>

#include "fake_hub.h"
#include "folio/store.h"
#include "folio_process.h"
#include "shared_data.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kRepo = "test/micro";
constexpr const char* kFile = "micro-llama-Q4_K_M.gguf";

}  // namespace

class TestCliPull : public QObject {
    Q_OBJECT

  private:
    std::unique_ptr<folio::test::FakeHub> m_hub;
    fs::path m_data;
    QProcessEnvironment m_env;

    folio::test::FolioRun folio(const QStringList& args) {
        return folio::test::run_folio(args, 60000, m_env);
    }
    // Starts `folio pull` slowly and returns once its .part holds some bytes.
    void start_slow_pull(QProcess& p, const QString& target, int64_t bytes_per_second = 100000) {
        folio::test::FakeHub::Fault slow;
        slow.bytes_per_second = bytes_per_second;
        m_hub->set_fault(kRepo, kFile, slow);
        p.setProcessEnvironment(m_env);
        p.start(QString::fromStdString(folio::test::folio_binary().string()), {"pull", target});
        QVERIFY(p.waitForStarted());
        const fs::path part = m_data / "models" / kRepo / (std::string(kFile) + ".part");
        QTRY_VERIFY_WITH_TIMEOUT(fs::exists(part) && fs::file_size(part) > 50000, 10000);
    }

  private slots:
    void initTestCase();
    void init();
    void pullListRemove();
    void choosesAndRefuses();
    void killedPullResumes();
    void interruptKeepsThePart();
    void concurrentPullsTransferOnce();
};

void TestCliPull::initTestCase() {
    m_hub = std::make_unique<folio::test::FakeHub>();
    m_hub->add_shared_model(kRepo, kFile);
    m_hub->add_shared_model(kRepo, "micro-llama-Q8_0.gguf");
    m_data = folio::test::scratch_dir("cli_pull");
    m_env = QProcessEnvironment::systemEnvironment();
    m_env.insert("HF_ENDPOINT", QString::fromStdString(m_hub->endpoint()));
    m_env.insert("FOLIO_DATA_DIR", QString::fromStdString(m_data.string()));
    m_env.remove("HF_TOKEN");
    m_env.remove("HF_HUB_OFFLINE");
}

void TestCliPull::init() {
    fs::remove_all(m_data);
    fs::create_directories(m_data);
    m_hub->clear_faults();
    m_hub->reset_counters();
}

void TestCliPull::pullListRemove() {
    auto r = folio({"pull", QString("%1:Q4_K_M").arg(kRepo)});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const fs::path expected = m_data / "models" / kRepo / kFile;
    QCOMPARE(QString::fromUtf8(r.out).trimmed(), QString::fromStdString(expected.string()));
    QCOMPARE(folio::store::sha256_file(expected), m_hub->sha256_of(kRepo, kFile));

    r = folio({"list", "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonArray list = QJsonDocument::fromJson(r.out).array();
    QCOMPARE(list.size(), 1);
    const QJsonObject m = list[0].toObject();
    QCOMPARE(m["path"].toString(), QString::fromStdString(expected.string()));
    QCOMPARE(m["weight_type"].toString(), QString("Q4_K_M"));
    QCOMPARE(m["architecture"].toString(), QString("llama"));
    QCOMPARE(m["sha256"].toString(), QString::fromStdString(m_hub->sha256_of(kRepo, kFile)));
    QCOMPARE(m["size"].toInteger(), static_cast<qint64>(fs::file_size(expected)));

    r = folio({"list"});
    QCOMPARE(r.exit_code, 0);
    QVERIFY(r.out.contains("Q4_K_M"));

    r = folio({"rm", "99"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("no model with id 99"), r.err.constData());

    r = folio({"rm", QString::number(m["id"].toInteger())});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY(!fs::exists(expected));
    r = folio({"list", "--json"});
    QCOMPARE(QJsonDocument::fromJson(r.out).array().size(), 0);

    // By path, and an exact file name.
    r = folio({"pull", QString("%1:micro-llama-Q8_0.gguf@main").arg(kRepo)});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    r = folio({"rm", QString::fromUtf8(r.out).trimmed()});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(QJsonDocument::fromJson(folio({"list", "--json"}).out).array().size(), 0);
}

void TestCliPull::choosesAndRefuses() {
    auto r = folio({"pull", QString("%1:Q3_K_S").arg(kRepo)});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("has no quantization Q3_K_S") && r.err.contains("Q4_K_M") &&
                 r.err.contains("Q8_0"),
             r.err.constData());
    // No suffix: the best quantization that fits in memory, else a refusal listing the choices.
    const QProcessEnvironment saved = m_env;
    m_env.insert("FOLIO_MEM_AVAILABLE", "1000");
    r = folio({"pull", kRepo});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("several quantizations") && r.err.contains("Q4_K_M"),
             r.err.constData());
    m_env.insert("FOLIO_MEM_AVAILABLE", "64000000000");
    r = folio({"pull", kRepo});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY(r.out.trimmed().endsWith("micro-llama-Q8_0.gguf"));
    // A repo whose best option has an unreadable header: that option is skipped with a
    // warning and the next best that fits is pulled.
    const std::string corrupt = std::string("GGUF") + std::string(4092, '\xff');
    m_hub->add_file_bytes("test/half-broken", "micro-llama-F16.gguf", corrupt);
    m_hub->add_shared_model("test/half-broken", "micro-llama-Q8_0.gguf");
    r = folio({"pull", "test/half-broken"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.err.contains("warning: cannot read the GGUF header of") &&
                 r.err.contains("micro-llama-F16.gguf"),
             r.err.constData());
    QVERIFY(r.out.trimmed().endsWith("micro-llama-Q8_0.gguf"));
    m_env = saved;
    r = folio({"pull", "test/nope:Q4_K_M"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("not found"), r.err.constData());
    r = folio({"pull", "not-a-repo"});
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(r.err.contains("owner/name"), r.err.constData());
}

void TestCliPull::killedPullResumes() {
    QProcess p;
    start_slow_pull(p, QString("%1:Q4_K_M").arg(kRepo));
    p.kill();  // SIGKILL: no chance to clean up
    QVERIFY(p.waitForFinished(5000));
    const fs::path part = m_data / "models" / kRepo / (std::string(kFile) + ".part");
    QVERIFY(fs::exists(part));
    const auto kept = static_cast<int64_t>(fs::file_size(part));
    QCOMPARE(QJsonDocument::fromJson(folio({"list", "--json"}).out).array().size(), 0);

    m_hub->clear_faults();
    m_hub->reset_counters();
    const auto r = folio({"pull", QString("%1:Q4_K_M").arg(kRepo)});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    // One request, a ranged one answered 206 (else the downloader would have started over).
    QVERIFY2(r.err.contains("resumed"), r.err.constData());
    QCOMPARE(m_hub->download_count(kRepo, kFile), 1);
    // The killed process's lock died with it; the request really asked for the rest.
    const auto ranges = m_hub->range_headers(std::string("/cdn/") + kRepo + "/main/" + kFile);
    QCOMPARE(ranges.size(), size_t{1});
    QCOMPARE(QString::fromStdString(ranges[0]), QString("bytes=%1-").arg(kept));
    const fs::path file = m_data / "models" / kRepo / kFile;
    QCOMPARE(folio::store::sha256_file(file), m_hub->sha256_of(kRepo, kFile));
    QVERIFY(!fs::exists(part));
    QCOMPARE(QJsonDocument::fromJson(folio({"list", "--json"}).out).array().size(), 1);
}

void TestCliPull::interruptKeepsThePart() {
    QProcess p;
    start_slow_pull(p, QString("%1:Q4_K_M").arg(kRepo));
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(5000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 1);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("again to resume"), err.constData());
    const fs::path part = m_data / "models" / kRepo / (std::string(kFile) + ".part");
    QVERIFY(fs::exists(part));
    folio::store::Library lib(m_data);
    QCOMPARE(lib.downloads().size(), size_t{1});
    QCOMPARE(lib.downloads()[0].state, folio::store::DownloadState::Paused);
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestCliPull::concurrentPullsTransferOnce() {
    const QString target = QString("%1:Q4_K_M").arg(kRepo);
    QProcess first;
    start_slow_pull(first, target, 400000);  // returns once the first one is writing
    QProcess second;
    second.setProcessEnvironment(m_env);
    second.start(QString::fromStdString(folio::test::folio_binary().string()), {"pull", target});
    QVERIFY(second.waitForStarted());
    QVERIFY(first.waitForFinished(30000));
    QVERIFY(second.waitForFinished(30000));
    const QByteArray err1 = first.readAllStandardError(), err2 = second.readAllStandardError();
    QVERIFY2(first.exitCode() == 0, err1.constData());
    QVERIFY2(second.exitCode() == 0, err2.constData());
    QVERIFY2(
        err2.contains(
            QString("folio: waiting for another folio pulling %1/%2").arg(kRepo, kFile).toUtf8()),
        err2.constData());
    const fs::path file = m_data / "models" / kRepo / kFile;
    QCOMPARE(first.readAllStandardOutput().trimmed(), QByteArray(file.c_str()));
    QCOMPARE(second.readAllStandardOutput().trimmed(), QByteArray(file.c_str()));
    QCOMPARE(m_hub->download_count(kRepo, kFile), 1);
    QCOMPARE(folio::store::sha256_file(file), m_hub->sha256_of(kRepo, kFile));
    QVERIFY(!fs::exists(file.string() + ".part.lock"));
    folio::store::Library lib(m_data);
    QCOMPARE(lib.models().size(), size_t{1});
    QVERIFY(lib.downloads().empty());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

QTEST_GUILESS_MAIN(TestCliPull)
#include "test_cli_pull.moc"
