// The Documents page's DocumentProcessor and DocumentListModel against stories260K with a small
// context (max_model_len 256): a document of several chunks is summarized with every chunk
// submitted at once, the result stored in the library and exported as Markdown; a cancelled run
// leaves no request behind. DocumentText reads .txt/.md as UTF-8 and PDFs (written here with
// QPdfWriter) page by page, and refuses damaged, encrypted, image-only and unsupported files
// with a message; a PDF is summarized through the engine; stored results come back after a
// restart (a new store and processor) and can be exported and removed.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QPdfWriter>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <fstream>
#include <memory>

#include "document_processor.h"
#include "document_text.h"
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
    void readsTextFiles();
    void readsPdfPageByPage();
    void refusesUnreadablePdfs();
    void mapsDroppedUrls();
    void summarizesInChunks();
    void summarizesPdf();
    void corruptPdfStoresNothing();
    void refusesUnsupportedType();
    void cancelLeavesNothingRunning();
    void keepsResultsAcrossRestart();
    void cleanupTestCase();

  private:
    fs::path writeDocument(const std::string& name, int sentences);
    // A PDF of `pages`, each page's sentences drawn as lines of text.
    fs::path writePdf(const std::string& name, const QList<QStringList>& pages);
    QString path(const std::string& name) const {
        return QString::fromStdString((m_dir / name).string());
    }

    fs::path m_dir;
    std::unique_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::DocumentStore> m_docs;
    std::unique_ptr<EngineClient> m_client;
    std::unique_ptr<DocumentProcessor> m_processor;
};

namespace {

const QList<QStringList> kPdfPages = {
    {QStringLiteral("Lily found a red ball in the garden."),
     QStringLiteral("She gave the ball to her friend Tom.")},
    {QStringLiteral("The little bird sang a song on the tree."),
     QStringLiteral("Mom baked a big apple pie for everyone.")},
    {QStringLiteral("At night the cat slept by the warm fire."),
     QStringLiteral("The end of the happy story.")},
};

QByteArray readAll(const fs::path& p) {
    QFile f(QString::fromStdString(p.string()));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeBytes(const fs::path& p, const QByteArray& bytes) {
    QFile f(QString::fromStdString(p.string()));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

// A one-page PDF with the standard security handler (RC4, revision 2) whose user password is
// not empty: readers must ask for a password.
QByteArray encryptedPdf() {
    QByteArray pdf = "%PDF-1.4\n";
    QList<qsizetype> offsets;
    const QList<QByteArray> objects = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        "<< /Filter /Standard /V 1 /R 2 /P -4 "
        "/O <" +
            QByteArray(64, 'a') + "> /U <" + QByteArray(64, 'b') + "> >>",
    };
    for (qsizetype i = 0; i < objects.size(); ++i) {
        offsets << pdf.size();
        pdf += QByteArray::number(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    const qsizetype xref = pdf.size();
    pdf += "xref\n0 " + QByteArray::number(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (const qsizetype o : offsets) {
        pdf += QByteArray::number(o).rightJustified(10, '0') + " 00000 n \n";
    }
    pdf += "trailer\n<< /Size " + QByteArray::number(objects.size() + 1) +
           " /Root 1 0 R /Encrypt 4 0 R /ID [<" + QByteArray(32, 'c') + "> <" +
           QByteArray(32, 'c') + ">] >>\nstartxref\n" + QByteArray::number(xref) + "\n%%EOF\n";
    return pdf;
}

}  // namespace

fs::path TestDocuments::writePdf(const std::string& name, const QList<QStringList>& pages) {
    const fs::path out = m_dir / name;
    QPdfWriter writer(QString::fromStdString(out.string()));
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(72);
    QPainter painter(&writer);
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSize(12);
    painter.setFont(font);
    for (qsizetype i = 0; i < pages.size(); ++i) {
        if (i > 0) writer.newPage();
        int y = 60;
        for (const QString& line : pages[i]) {
            painter.drawText(40, y, line);
            y += 24;
        }
    }
    painter.end();
    return out;
}

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
    QCOMPARE(idle.lastError(), QStringLiteral("Load a model first (Models page)."));
    QCOMPARE(m_processor->process("/tmp/x.txt", "translate"), -1);
    QCOMPARE(m_processor->process("/tmp/x.txt", "ask", "  "), -1);
    QCOMPARE(m_processor->lastError(), QStringLiteral("Type the question to ask."));
    // A missing file ends in "error".
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    const int id =
        m_processor->process(QString::fromStdString((m_dir / "missing.txt").string()), "summarize");
    QVERIFY(id > 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(finished[0][1].toString(), QStringLiteral("error"));
    QVERIFY(!m_processor->jobs()->find(id)->error.isEmpty());
}

void TestDocuments::readsTextFiles() {
    // UTF-8 with a byte-order mark: the mark is dropped, accents kept.
    writeBytes(m_dir / "notes.md",
               QByteArray("\xEF\xBB\xBF# Caf\xC3\xA9\n\nLily ate a cr\xC3\xAApe.\n"));
    const auto md = DocumentText::read(path("notes.md"));
    QVERIFY2(md.ok(), qPrintable(md.error));
    QCOMPARE(md.text, QStringLiteral("# Caf\u00e9\n\nLily ate a cr\u00eape.\n"));
    QCOMPARE(md.pages, 0);

    writeBytes(m_dir / "Notes.TXT", QByteArray("Tom went to the park."));
    QCOMPARE(DocumentText::read(path("Notes.TXT")).text, QStringLiteral("Tom went to the park."));

    writeBytes(m_dir / "blank.txt", QByteArray(" \n\t\n"));
    const auto blank = DocumentText::read(path("blank.txt"));
    QVERIFY(!blank.ok());
    QVERIFY2(blank.error.contains(QStringLiteral("blank.txt is empty")), qPrintable(blank.error));

    const auto missing = DocumentText::read(path("nowhere.md"));
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error.contains(QStringLiteral("nowhere.md")) &&
                 missing.error.contains(QStringLiteral("no such file")),
             qPrintable(missing.error));

    // Other types are refused whatever they hold, naming the supported ones.
    writeBytes(m_dir / "letter.docx", QByteArray("Lily found a ball."));
    const auto docx = DocumentText::read(path("letter.docx"));
    QVERIFY(!docx.ok());
    QVERIFY(docx.text.isEmpty());
    QCOMPARE(docx.error, QStringLiteral("letter.docx: .docx files are not supported. Folio reads "
                                        ".txt, .md and .pdf documents."));
    QVERIFY(DocumentText::read(path("README"))
                .error.contains(QStringLiteral("README has no file type")));
    QVERIFY(DocumentText::isSupported(QStringLiteral("/a/B.PDF")));
    QVERIFY(!DocumentText::isSupported(QStringLiteral("/a/b.pdf.gz")));
}

void TestDocuments::readsPdfPageByPage() {
    const fs::path pdf = writePdf("three-pages.pdf", kPdfPages);
    QVERIFY(readAll(pdf).startsWith("%PDF-"));
    const auto r = DocumentText::read(QString::fromStdString(pdf.string()));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.pages, 3);
    // Every sentence, in page order, pages apart.
    const QString text = r.text.simplified();
    qsizetype last = -1;
    for (const QStringList& page : kPdfPages) {
        for (const QString& sentence : page) {
            const qsizetype at = text.indexOf(sentence);
            QVERIFY2(at > last, qPrintable(sentence + QStringLiteral(" in: ") + text));
            last = at;
        }
    }
    const QStringList parts = r.text.split(QStringLiteral("\n\n"));
    QCOMPARE(parts.size(), qsizetype{3});
    QVERIFY(parts[1].simplified().startsWith(kPdfPages[1][0]));
}

void TestDocuments::refusesUnreadablePdfs() {
    const QByteArray good = readAll(writePdf("good.pdf", kPdfPages));
    QVERIFY(good.size() > 1000);
    // Cut short (the cross-reference table and the pages' content gone).
    writeBytes(m_dir / "truncated.pdf", good.left(good.size() / 4));
    // Not a PDF at all.
    QByteArray garbage;
    for (int i = 0; i < 4096; ++i) garbage += char((i * 7919 + 13) % 251);
    writeBytes(m_dir / "garbage.pdf", garbage);
    for (const char* name : {"truncated.pdf", "garbage.pdf"}) {
        const auto r = DocumentText::read(path(name));
        QVERIFY2(!r.ok(), name);
        QVERIFY(r.text.isEmpty());
        QVERIFY2(r.error.startsWith(QStringLiteral("Cannot read %1").arg(QLatin1String(name))),
                 qPrintable(r.error));
        QVERIFY2(r.error.contains(QStringLiteral("not a valid PDF")), qPrintable(r.error));
    }

    writeBytes(m_dir / "locked.pdf", encryptedPdf());
    const auto locked = DocumentText::read(path("locked.pdf"));
    QVERIFY(!locked.ok());
    QVERIFY2(locked.error.contains(QStringLiteral("locked.pdf")) &&
                 locked.error.contains(QStringLiteral("encrypted")),
             qPrintable(locked.error));

    // Pages of pictures only (a scan): nothing to read.
    {
        QPdfWriter writer(path("scan.pdf"));
        QPainter painter(&writer);
        QImage image(200, 100, QImage::Format_RGB32);
        image.fill(Qt::darkGray);
        painter.drawImage(QRect(0, 0, 2000, 1000), image);
        writer.newPage();
        painter.drawImage(QRect(0, 0, 2000, 1000), image);
    }
    const auto scan = DocumentText::read(path("scan.pdf"));
    QVERIFY(!scan.ok());
    QCOMPARE(scan.pages, 2);
    QVERIFY2(scan.error.contains(QStringLiteral("scan.pdf has no text")) &&
                 scan.error.contains(QStringLiteral("images only")),
             qPrintable(scan.error));
}

void TestDocuments::mapsDroppedUrls() {
    // What a DropArea hands over: file URLs (percent-encoded), maybe of other types or hosts.
    const QList<QUrl> dropped = {QUrl(QStringLiteral("file:///home/u/My%20Notes.md")),
                                 QUrl(QStringLiteral("file:///home/u/photo.png")),
                                 QUrl(QStringLiteral("https://example.com/a.txt")),
                                 QUrl::fromLocalFile(QStringLiteral("/tmp/r\u00e9sum\u00e9.PDF"))};
    QCOMPARE(m_processor->supportedPaths(QVariant::fromValue(dropped)),
             QStringList({QStringLiteral("/home/u/My Notes.md"),
                          QStringLiteral("/tmp/r\u00e9sum\u00e9.PDF")}));
    QCOMPARE(m_processor->supportedPaths(QStringLiteral("file:///a/b%20c.txt")),
             QStringList{QStringLiteral("/a/b c.txt")});
    QCOMPARE(m_processor->supportedPaths(QVariant::fromValue(
                 QStringList{QStringLiteral("/x/y.pdf"), QStringLiteral("/x/y.odt")})),
             QStringList{QStringLiteral("/x/y.pdf")});
    QVERIFY(m_processor->supportedPaths(QVariant::fromValue(QList<QUrl>{})).isEmpty());
    QVERIFY(m_processor->nameFilters().first().contains(QStringLiteral("*.txt *.md *.pdf")));
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

void TestDocuments::summarizesPdf() {
    const fs::path pdf = writePdf("garden-story.pdf", kPdfPages);
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    const int id = m_processor->process(
        QUrl::fromLocalFile(QString::fromStdString(pdf.string())).toString(), "keypoints");
    QVERIFY2(id > 0, qPrintable(m_processor->lastError()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const DocumentJob* job = m_processor->jobs()->find(id);
    QVERIFY2(finished[0][1].toString() == QStringLiteral("done"), qPrintable(job->error));
    QCOMPARE(job->title, QStringLiteral("garden-story"));
    QCOMPARE(job->path, QString::fromStdString(pdf.string()));
    QVERIFY(job->chunksTotal >= 1);
    QCOMPARE(job->chunksDone, job->chunksTotal);
    QVERIFY(!job->result.trimmed().isEmpty());
    const auto stored = m_docs->results(job->documentId);
    QCOMPARE(stored.size(), size_t{1});
    QCOMPARE(stored[0].task, std::string("keypoints"));
    QCOMPARE(QString::fromStdString(stored[0].result), job->result);
    QCOMPARE(m_docs->find_document(job->documentId)->sha256, folio::store::sha256_file(pdf));
    QCOMPARE(m_processor->exportSuggestion(id),
             QUrl::fromLocalFile(
                 QString::fromStdString((m_dir / "garden-story.keypoints.md").string())));
    const QString md = path("garden-story.keypoints.md");
    QVERIFY(m_processor->exportMarkdown(id, QUrl::fromLocalFile(md).toString()));
    QFile file(md);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    QVERIFY(text.startsWith(QStringLiteral("# Key points: garden-story\n")));
    QVERIFY(text.contains(QStringLiteral("garden-story.pdf")));
    QVERIFY(text.contains(job->result.trimmed()));
}

void TestDocuments::corruptPdfStoresNothing() {
    const QByteArray good = readAll(writePdf("whole.pdf", kPdfPages));
    writeBytes(m_dir / "broken.pdf", good.left(good.size() / 4));
    const size_t documentsBefore = m_docs->documents().size();
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    const int id = m_processor->process(path("broken.pdf"), "summarize");
    QVERIFY(id > 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(finished[0][1].toString(), QStringLiteral("error"));
    const DocumentJob* job = m_processor->jobs()->find(id);
    QVERIFY2(job->error.startsWith(QStringLiteral("Cannot read broken.pdf")) &&
                 job->error.contains(QStringLiteral("not a valid PDF")),
             qPrintable(job->error));
    QVERIFY(job->result.isEmpty());
    QCOMPARE(job->documentId, qint64{0});
    QCOMPARE(m_docs->documents().size(), documentsBefore);
    for (const auto& d : m_docs->documents()) QVERIFY(d.path != (m_dir / "broken.pdf").string());
    QVERIFY(!m_processor->exportMarkdown(id, path("broken.md")));
    QCOMPARE(m_client->engine()->stats().num_running, 0);
}

void TestDocuments::refusesUnsupportedType() {
    writeBytes(m_dir / "slides.pptx", QByteArray("Lily found a red ball."));
    const int rows = m_processor->jobs()->rowCount();
    const size_t documentsBefore = m_docs->documents().size();
    QSignalSpy lastError(m_processor.get(), &DocumentProcessor::lastErrorChanged);
    QCOMPARE(m_processor->process(path("slides.pptx"), "summarize"), -1);
    QCOMPARE(m_processor->lastError(), QStringLiteral("slides.pptx: .pptx files are not supported. "
                                                      "Folio reads .txt, .md and .pdf documents."));
    QCOMPARE(lastError.count(), 1);
    QCOMPARE(m_processor->jobs()->rowCount(), rows);  // no job row
    QCOMPARE(m_docs->documents().size(), documentsBefore);
    // A supported file clears it.
    QSignalSpy finished(m_processor.get(), &DocumentProcessor::finished);
    const int id = m_processor->process(path("notes.md"), "summarize");
    QVERIFY(id > 0);
    QVERIFY(m_processor->lastError().isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
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
    QVERIFY(!m_processor->remove(id));  // running: cancel first
    QVERIFY(m_processor->lastError().startsWith(QStringLiteral("Cancel long")));
    QVERIFY(jobs->rowOf(id) >= 0);
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

void TestDocuments::keepsResultsAcrossRestart() {
    // What this session stored, oldest first.
    std::vector<DocumentJob> done;
    const DocumentListModel* jobs = m_processor->jobs();
    for (int row = 0; row < jobs->rowCount(); ++row) {
        const int id = jobs->index(row).data(DocumentListModel::IdRole).toInt();
        if (jobs->find(id)->state == QStringLiteral("done")) done.push_back(*jobs->find(id));
    }
    QCOMPARE(done.size(), size_t{3});  // story.md, garden-story.pdf, notes.md

    // A restart: a new library connection, store, engine client and processor on the same data.
    auto library = std::make_unique<folio::store::Library>(m_dir / "data");
    auto docs = std::make_shared<folio::store::DocumentStore>(*library);
    EngineClient client(std::make_shared<folio::store::ConversationStore>(*library));
    auto restarted = std::make_unique<DocumentProcessor>(&client, docs);
    DocumentListModel* loaded = restarted->jobs();
    Tester tester(loaded, Tester::FailureReportingMode::QtTest);
    QCOMPARE(loaded->rowCount(), 3);  // failed and cancelled runs left nothing to show
    for (int row = 0; row < 3; ++row) {
        const QModelIndex i = loaded->index(row);
        const DocumentJob& before = done[static_cast<size_t>(row)];
        QCOMPARE(i.data(DocumentListModel::StateRole).toString(), QStringLiteral("done"));
        QCOMPARE(i.data(DocumentListModel::TitleRole).toString(), before.title);
        QCOMPARE(i.data(DocumentListModel::PathRole).toString(), before.path);
        QCOMPARE(i.data(DocumentListModel::TaskRole).toString(), before.task);
        QCOMPARE(i.data(DocumentListModel::QuestionRole).toString(), before.question);
        QCOMPARE(i.data(DocumentListModel::ResultRole).toString(), before.result);
        QCOMPARE(i.data(DocumentListModel::ProgressRole).toDouble(), 1.0);
        QVERIFY(i.data(DocumentListModel::ErrorRole).toString().isEmpty());
    }
    QCOMPARE(loaded->index(1).data(DocumentListModel::TitleRole).toString(),
             QStringLiteral("garden-story"));

    // A stored result exports like a fresh one.
    const int pdfJob = loaded->index(1).data(DocumentListModel::IdRole).toInt();
    const QString md = path("after-restart.md");
    QVERIFY(restarted->exportMarkdown(pdfJob, md));
    QFile file(md);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    QVERIFY(text.startsWith(QStringLiteral("# Key points: garden-story\n")));
    QVERIFY(text.contains(done[1].result.trimmed()));

    // Remove: the row, its stored result and (its last result gone) the document.
    const qint64 pdfDocument = loaded->find(pdfJob)->documentId;
    QVERIFY(pdfDocument > 0);
    QVERIFY(restarted->remove(pdfJob));
    QCOMPARE(loaded->rowCount(), 2);
    QCOMPARE(loaded->rowOf(pdfJob), -1);
    QVERIFY(docs->results(pdfDocument).empty());
    QVERIFY(!docs->find_document(pdfDocument));
    QVERIFY(!restarted->remove(pdfJob));  // gone

    // And it stays gone after another restart; the others stay.
    restarted.reset();
    DocumentProcessor again(&client, docs);
    QCOMPARE(again.jobs()->rowCount(), 2);
    QCOMPARE(again.jobs()->index(0).data(DocumentListModel::TitleRole).toString(),
             QStringLiteral("story"));
    QCOMPARE(again.jobs()->index(1).data(DocumentListModel::TitleRole).toString(),
             QStringLiteral("notes"));
}

void TestDocuments::cleanupTestCase() {
    m_processor.reset();
    m_client.reset();
}

// QPdfWriter draws text with the font database: a QGuiApplication (offscreen unless told).
int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestDocuments test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "test_documents.moc"
