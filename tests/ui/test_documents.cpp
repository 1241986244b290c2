// The Documents page's DocumentProcessor and DocumentListModel against stories260K with a small
// context (max_model_len 256): a document of several chunks is summarized with every chunk
// submitted at once, the result stored in the library and exported as Markdown; a cancelled run
// leaves no request behind.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <fstream>
#include <memory>

#include "document_processor.h"
#include "engine_client.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using Tester = QAbstractItemModelTester;

class TestDocuments : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void refusesBadInput();
    void summarizesInChunks();
    void cancelLeavesNothingRunning();
    void cleanupTestCase();

  private:
    fs::path writeDocument(const std::string& name, int sentences);

    fs::path m_dir;
    std::unique_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::DocumentStore> m_docs;
    std::unique_ptr<EngineClient> m_client;
    std::unique_ptr<DocumentProcessor> m_processor;
};

fs::path TestDocuments::writeDocument(const std::string& name, int sentences) {
    const char* who[] = {"Lily", "Tom", "the cat", "a little bird", "Mom"};
    const char* what[] = {"found a red ball", "went to the park", "saw a big tree", "ate an apple",
                          "played in the sun"};
    const fs::path path = m_dir / name;
    std::ofstream out(path);
    for (int i = 0; i < sentences; ++i) {
        out << "One day " << who[i % 5] << " " << what[(i * 3) % 5] << " and was happy. ";
        if (i % 6 == 5) out << "\n\n";
    }
    return path;
}

void TestDocuments::initTestCase() {
    m_dir = folio::test::scratch_dir("ui_documents");
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    m_library = std::make_unique<folio::store::Library>(m_dir / "data");
    m_docs = std::make_shared<folio::store::DocumentStore>(*m_library);
    m_client = std::make_unique<EngineClient>(
        std::make_shared<folio::store::ConversationStore>(*m_library));
    m_client->setEngineConfigurator([](folio::EngineConfig& c) {
        c.max_model_len = 256;
        c.num_threads = 2;
    });
    QSignalSpy loaded(m_client.get(), &EngineClient::modelLoaded);
    m_client->loadModel(
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
    QCOMPARE(m_client->engine()->info().max_model_len, int64_t{256});
    m_processor = std::make_unique<DocumentProcessor>(m_client.get(), m_docs);
    m_processor->setAnswerTokens(48);
}

void TestDocuments::refusesBadInput() {
    EngineClient noModel(std::make_shared<folio::store::ConversationStore>(*m_library));
    DocumentProcessor idle(&noModel, m_docs);
    QCOMPARE(idle.process("/tmp/x.txt", "summarize"), -1);
    QCOMPARE(m_processor->process("/tmp/x.txt", "translate"), -1);
    QCOMPARE(m_processor->process("/tmp/x.txt", "ask", "  "), -1);
    // A missing file ends in "error".
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    const int id =
        m_processor->process(QString::fromStdString((m_dir / "missing.txt").string()), "summarize");
    QVERIFY(id > 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(finished[0][1].toString(), QStringLiteral("error"));
    QVERIFY(!m_processor->jobs()->find(id)->error.isEmpty());
}

void TestDocuments::summarizesInChunks() {
    DocumentListModel* jobs = m_processor->jobs();
    Tester tester(jobs, Tester::FailureReportingMode::QtTest);
    const fs::path doc = writeDocument("story.md", 80);  // ~4000 characters
    QVERIFY(fs::file_size(doc) > 3000);

    QSignalSpy submitted(m_processor.get(), &DocumentProcessor::chunksSubmitted);
    QSignalSpy progress(m_processor.get(), &DocumentProcessor::progress);
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    // Every progress signal must come after all chunks were submitted.
    bool progressBeforeSubmit = false;
    connect(m_processor.get(), &DocumentProcessor::progress, this,
            [&] { progressBeforeSubmit |= submitted.isEmpty(); });

    const int id = m_processor->process(QString::fromStdString(doc.string()), "summarize");
    QVERIFY(id > 0);
    const int row = jobs->rowOf(id);
    QVERIFY(row >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const DocumentJob* job = jobs->find(id);
    QVERIFY2(finished[0][1].toString() == QStringLiteral("done"), qPrintable(job->error));

    QCOMPARE(submitted.count(), 1);
    const int total = submitted[0][1].toInt();
    QVERIFY2(total > 1, qPrintable(QString::number(total)));
    QVERIFY(!progressBeforeSubmit);
    // One signal per poll that saw chunks finish: done counts rise to the total.
    QVERIFY(progress.count() >= 1 && progress.count() <= total);
    for (int i = 1; i < progress.count(); ++i) {
        QVERIFY(progress[i][1].toInt() > progress[i - 1][1].toInt());
    }
    QCOMPARE(progress.last()[1].toInt(), total);
    QCOMPARE(job->chunksTotal, total);
    QCOMPARE(job->chunksDone, total);
    QVERIFY(job->batched);  // the last chunk arrived before the first one finished
    QCOMPARE(jobs->index(row).data(DocumentListModel::ProgressRole).toDouble(), 1.0);
    QCOMPARE(jobs->index(row).data(DocumentListModel::StateRole).toString(),
             QStringLiteral("done"));
    QCOMPARE(jobs->index(row).data(DocumentListModel::TitleRole).toString(),
             QStringLiteral("story"));
    QVERIFY(!job->result.trimmed().isEmpty());

    // Stored in the library.
    QVERIFY(job->documentId > 0);
    const auto stored = m_docs->results(job->documentId);
    QCOMPARE(stored.size(), size_t{1});
    QCOMPARE(stored[0].task, std::string("summarize"));
    QCOMPARE(QString::fromStdString(stored[0].result), job->result);
    QCOMPARE(m_docs->find_document(job->documentId)->sha256, folio::store::sha256_file(doc));

    // Exported as Markdown.
    const QString md = QString::fromStdString((m_dir / "story.summary.md").string());
    QVERIFY(m_processor->exportMarkdown(id, md));
    QFile file(md);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    QVERIFY(text.startsWith(QStringLiteral("# Summary: story")));
    QVERIFY(text.contains(job->result.trimmed()));
    QVERIFY(!m_processor->exportMarkdown(9999, md));

    const auto stats = m_client->engine()->stats();
    QCOMPARE(stats.num_running, 0);
    QCOMPARE(stats.kv_blocks_used, int64_t{0});
}

void TestDocuments::cancelLeavesNothingRunning() {
    DocumentListModel* jobs = m_processor->jobs();
    Tester tester(jobs, Tester::FailureReportingMode::QtTest);
    const fs::path doc = writeDocument("long.txt", 400);
    m_processor->setAnswerTokens(200);  // long answers: the run is still going when cancelled
    QSignalSpy submitted(m_processor.get(), &DocumentProcessor::chunksSubmitted);
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    const int id =
        m_processor->process(QString::fromStdString(doc.string()), "ask", "Who found the ball?");
    QVERIFY(id > 0);
    QTRY_COMPARE_WITH_TIMEOUT(submitted.count(), 1, 30000);
    m_processor->cancel(id);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    m_processor->setAnswerTokens(48);
    QCOMPARE(finished[0][1].toString(), QStringLiteral("cancelled"));
    QCOMPARE(jobs->find(id)->state, QStringLiteral("cancelled"));
    QVERIFY(jobs->find(id)->result.isEmpty());
    QVERIFY(!m_processor->exportMarkdown(id, QString::fromStdString((m_dir / "x.md").string())));
    QTRY_COMPARE_WITH_TIMEOUT(m_client->engine()->stats().num_running, 0, 10000);
    const auto stats = m_client->engine()->stats();
    QCOMPARE(stats.num_waiting, 0);
    QCOMPARE(stats.kv_blocks_used, int64_t{0});
}

void TestDocuments::cleanupTestCase() {
    m_processor.reset();
    m_client.reset();
}

QTEST_GUILESS_MAIN(TestDocuments)
#include "test_documents.moc"
