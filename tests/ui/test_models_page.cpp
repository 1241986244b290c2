// The Models page's view models (LibraryModel, HubSearchModel, QuantChoicesModel, DownloadsModel)
// under QAbstractItemModelTester against the fake hub, with a scratch data folder: search, the
// quantizations with their memory fit (FOLIO_MEM_AVAILABLE fixes the memory figure), a download
// that lands in the library, a cancelled one that resumes, default model and delete, and a
// paused download that a new DownloadsModel (the next start) lists, resumes or discards.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <memory>

#include "downloads_model.h"
#include "fake_hub.h"
#include "folio/store.h"
#include "hub_search_model.h"
#include "library_model.h"
#include "quant_choices_model.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using Tester = QAbstractItemModelTester;
using folio::test::FakeHub;

namespace {

constexpr const char* kRepo = "acme/micro-llama-GGUF";
// micro-llama needs ~24-26 MB at its context length (the runtime buffers dominate): with
// 32,000,000 bytes available F16 is tight and the others fit (Q8_0 is recommended); at 1,000
// bytes none fits.
constexpr const char* kMemory = "32000000";

int rowOfQuant(const QuantChoicesModel& m, const QString& quant) {
    for (int i = 0; i < m.rowCount(); ++i) {
        if (m.index(i).data(QuantChoicesModel::QuantRole).toString() == quant) return i;
    }
    return -1;
}

QString stateOf(const DownloadsModel& m, int row) {
    return m.index(row).data(DownloadsModel::StateRole).toString();
}

}  // namespace

class TestModelsPage : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void searchListsTheFakeRepos();
    void searchReportsAnUnreachableHub();
    void quantsShowSizesAndFit();
    void downloadLandsInTheLibrary();
    void cancelLeavesAResumableDownload();
    void defaultAndDelete();
    void pausedDownloadIsListedAtTheNextStart();
    void discardingAPausedDownloadDeletesIt();

  private:
    // Starts pulling `quant` slowly and cancels it once some bytes arrived (a paused row).
    void pullAndPause(const QString& quant);

    std::unique_ptr<QuantChoicesModel> loadedQuants();

    std::unique_ptr<FakeHub> m_hub;
    folio::hub::HubConfig m_config;
    std::shared_ptr<folio::store::Library> m_library;
};

void TestModelsPage::initTestCase() {
    qputenv("FOLIO_MEM_AVAILABLE", kMemory);
    m_hub = std::make_unique<FakeHub>();
    FakeHub::RepoMeta meta;
    meta.downloads = 4321;
    meta.likes = 12;
    m_hub->add_repo(kRepo, meta);
    for (const char* q : {"Q2_K", "Q4_K_M", "Q8_0", "F16"}) {
        m_hub->add_shared_model(kRepo, std::string("micro-llama-") + q + ".gguf");
    }
    FakeHub::RepoMeta other;
    other.downloads = 99;
    m_hub->add_repo("someone/Micro-Chat-GGUF", other);
    m_hub->add_shared_model("someone/other-thing", "stories260K.gguf");
    m_config.endpoint = m_hub->endpoint();

    const fs::path dir = folio::test::scratch_dir("ui_models_page");
    fs::remove_all(dir);
    fs::create_directories(dir);
    m_library = std::make_shared<folio::store::Library>(dir);
}

void TestModelsPage::searchListsTheFakeRepos() {
    HubSearchModel model(m_config);
    Tester tester(&model, Tester::FailureReportingMode::QtTest);
    QSignalSpy finished(&model, &HubSearchModel::finished);
    model.search(QStringLiteral("micro"));
    QVERIFY(model.busy());  // the request runs off this thread
    QTRY_COMPARE(finished.count(), 1);
    QVERIFY(!model.busy());
    QCOMPARE(model.error(), QString());
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0).data(HubSearchModel::RepoRole).toString(), QString(kRepo));
    QCOMPARE(model.index(0).data(HubSearchModel::DownloadsRole).toLongLong(), 4321);
    QCOMPARE(model.index(1).data(HubSearchModel::RepoRole).toString(),
             QStringLiteral("someone/Micro-Chat-GGUF"));

    model.search(QStringLiteral("nothing-like-this"));
    QTRY_COMPARE(finished.count(), 2);
    QCOMPARE(model.rowCount(), 0);
}

void TestModelsPage::searchReportsAnUnreachableHub() {
    folio::hub::HubConfig offline = m_config;
    offline.offline = true;
    HubSearchModel model(offline);
    QSignalSpy finished(&model, &HubSearchModel::finished);
    QSignalSpy error(&model, &HubSearchModel::errorChanged);
    model.search(QStringLiteral("micro"));
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(error.count(), 1);
    QVERIFY(!model.error().isEmpty());
    QCOMPARE(model.rowCount(), 0);
}

std::unique_ptr<QuantChoicesModel> TestModelsPage::loadedQuants() {
    auto model = std::make_unique<QuantChoicesModel>(m_config);
    QSignalSpy finished(model.get(), &QuantChoicesModel::finished);
    model->load(QString(kRepo));
    if (!QTest::qWaitFor([&] { return finished.count() == 1; }, 10000)) return nullptr;
    return model;
}

void TestModelsPage::quantsShowSizesAndFit() {
    auto model = loadedQuants();
    QVERIFY(model);
    Tester tester(model.get(), Tester::FailureReportingMode::QtTest);
    QCOMPARE(model->error(), QString());
    QCOMPARE(model->rowCount(), 4);
    QCOMPARE(model->availableBytes(), 32000000);
    QVERIFY(model->contextLength() > 0);
    // Best quality first.
    QCOMPARE(model->index(0).data(QuantChoicesModel::QuantRole).toString(), QStringLiteral("F16"));
    QCOMPARE(model->index(3).data(QuantChoicesModel::QuantRole).toString(), QStringLiteral("Q2_K"));
    int recommended = -1;
    for (int i = 0; i < model->rowCount(); ++i) {
        const QModelIndex idx = model->index(i);
        const QString quant = idx.data(QuantChoicesModel::QuantRole).toString();
        const auto file =
            folio::test::shared_path(("models/micro-llama-" + quant + ".gguf").toStdString());
        QCOMPARE(idx.data(QuantChoicesModel::SizeRole).toLongLong(),
                 static_cast<qint64>(fs::file_size(file)));
        QVERIFY(idx.data(QuantChoicesModel::MemoryRole).toLongLong() >
                idx.data(QuantChoicesModel::SizeRole).toLongLong());
        const QString fit = idx.data(QuantChoicesModel::FitRole).toString();
        QVERIFY2(fit == "fits" || fit == "tight" || fit == "does not fit", qPrintable(fit));
        if (idx.data(QuantChoicesModel::RecommendedRole).toBool()) {
            QCOMPARE(recommended, -1);
            recommended = i;
            QCOMPARE(fit, QStringLiteral("fits"));
        }
    }
    QCOMPARE(recommended, rowOfQuant(*model, "Q8_0"));
    QCOMPARE(model->index(0).data(QuantChoicesModel::FitRole).toString(), QStringLiteral("tight"));
    QCOMPARE(model->index(3).data(QuantChoicesModel::FitRole).toString(), QStringLiteral("fits"));
    QCOMPARE(model->pullSpec(recommended).files.size(), size_t{1});

    // Too little memory: nothing fits, nothing is recommended.
    qputenv("FOLIO_MEM_AVAILABLE", "1000");
    auto starved = loadedQuants();
    qputenv("FOLIO_MEM_AVAILABLE", kMemory);
    QVERIFY(starved);
    for (int i = 0; i < starved->rowCount(); ++i) {
        QCOMPARE(starved->index(i).data(QuantChoicesModel::FitRole).toString(),
                 QStringLiteral("does not fit"));
        QVERIFY(!starved->index(i).data(QuantChoicesModel::RecommendedRole).toBool());
    }

    // An unknown repo: an error, no rows.
    QuantChoicesModel missing(m_config);
    QSignalSpy finished(&missing, &QuantChoicesModel::finished);
    missing.load(QStringLiteral("acme/nope"));
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(missing.rowCount(), 0);
    QVERIFY(!missing.error().isEmpty());
}

void TestModelsPage::downloadLandsInTheLibrary() {
    auto quants = loadedQuants();
    QVERIFY(quants);
    LibraryModel library(m_library);
    Tester libraryTester(&library, Tester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(&library, &LibraryModel::refreshed);
    QTRY_COMPARE(refreshed.count(), 1);
    QCOMPARE(library.rowCount(), 0);

    DownloadsModel downloads(m_library, m_config);
    Tester tester(&downloads, Tester::FailureReportingMode::QtTest);
    connect(&downloads, &DownloadsModel::modelAdded, &library, &LibraryModel::refresh);
    QSignalSpy ended(&downloads, &DownloadsModel::pullEnded);
    QSignalSpy added(&downloads, &DownloadsModel::modelAdded);
    qint64 progressSeen = 0;
    connect(&downloads, &QAbstractItemModel::dataChanged, this, [&](const QModelIndex& i) {
        if (i.data(DownloadsModel::StateRole).toString() == QLatin1String("running")) {
            progressSeen =
                std::max(progressSeen, i.data(DownloadsModel::BytesDoneRole).toLongLong());
        }
    });
    FakeHub::Fault slow;  // a few progress reports
    slow.bytes_per_second = 2000000;
    m_hub->set_fault(kRepo, "micro-llama-Q2_K.gguf", slow);

    QVERIFY(downloads.pullQuant(quants.get(), rowOfQuant(*quants, "Q2_K")));
    QCOMPARE(downloads.rowCount(), 1);
    QCOMPARE(stateOf(downloads, 0), QStringLiteral("running"));
    QCOMPARE(downloads.active(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 20000);
    m_hub->clear_faults();
    QCOMPARE(stateOf(downloads, 0), QStringLiteral("done"));
    QCOMPARE(ended.at(0).at(1).toString(), QStringLiteral("done"));
    QCOMPARE(downloads.active(), 0);
    QVERIFY(progressSeen > 0);
    const qint64 size = downloads.index(0).data(DownloadsModel::TotalRole).toLongLong();
    QCOMPARE(downloads.index(0).data(DownloadsModel::BytesDoneRole).toLongLong(), size);
    QCOMPARE(added.count(), 1);

    QTRY_COMPARE(library.rowCount(), 1);
    const QModelIndex row = library.index(0);
    QCOMPARE(row.data(LibraryModel::NameRole).toString(), QStringLiteral("micro-llama-Q2_K"));
    QCOMPARE(row.data(LibraryModel::RepoRole).toString(), QString(kRepo));
    QCOMPARE(row.data(LibraryModel::SizeRole).toLongLong(), size);
    QCOMPARE(row.data(LibraryModel::WeightTypeRole).toString(), QStringLiteral("Q2_K"));
    QCOMPARE(row.data(LibraryModel::ArchitectureRole).toString(), QStringLiteral("llama"));
    QVERIFY(row.data(LibraryModel::ContextLengthRole).toLongLong() > 0);
    QCOMPARE(row.data(LibraryModel::PathRole).toString(), added.at(0).at(0).toString());
    QVERIFY(fs::exists(added.at(0).at(0).toString().toStdString()));
}

void TestModelsPage::cancelLeavesAResumableDownload() {
    auto quants = loadedQuants();
    QVERIFY(quants);
    const std::string file = "micro-llama-Q8_0.gguf";
    FakeHub::Fault slow;
    slow.bytes_per_second = 300000;
    m_hub->set_fault(kRepo, file, slow);
    {
        DownloadsModel downloads(m_library, m_config);
        Tester tester(&downloads, Tester::FailureReportingMode::QtTest);
        QSignalSpy ended(&downloads, &DownloadsModel::pullEnded);
        QVERIFY(downloads.pullQuant(quants.get(), rowOfQuant(*quants, "Q8_0")));
        QTRY_VERIFY_WITH_TIMEOUT(
            downloads.index(0).data(DownloadsModel::BytesDoneRole).toLongLong() > 100000, 10000);
        QVERIFY(downloads.index(0).data(DownloadsModel::CanCancelRole).toBool());
        downloads.cancel(0);
        QTRY_COMPARE(ended.count(), 1);
        QCOMPARE(stateOf(downloads, 0), QStringLiteral("paused"));
        QVERIFY(downloads.index(0).data(DownloadsModel::CanResumeRole).toBool());
        QVERIFY(!downloads.index(0).data(DownloadsModel::CanCancelRole).toBool());
        const auto row = m_library->find_download(kRepo, "main", file);
        QVERIFY(row.has_value());
        QCOMPARE(row->state, folio::store::DownloadState::Paused);
        QVERIFY(row->bytes_done > 100000);
        QVERIFY(fs::exists(m_library->model_path(kRepo, file).string() + ".part"));

        // Resume finishes it from the .part.
        m_hub->clear_faults();
        m_hub->reset_counters();
        downloads.resume(0);
        QCOMPARE(stateOf(downloads, 0), QStringLiteral("running"));
        QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 2, 20000);
        QCOMPARE(stateOf(downloads, 0), QStringLiteral("done"));
        const auto ranges = m_hub->range_headers("/cdn/" + std::string(kRepo) + "/main/" + file);
        QVERIFY(!ranges.empty());
        QVERIFY2(ranges.front().starts_with("bytes=") && ranges.front() != "bytes=0-",
                 ranges.front().c_str());
        QVERIFY(m_library->find_model(kRepo, "main", file).has_value());
    }
    QVERIFY(m_library->downloads().empty());
}

void TestModelsPage::defaultAndDelete() {
    LibraryModel library(m_library);
    Tester tester(&library, Tester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(&library, &LibraryModel::refreshed);
    QTRY_COMPARE(refreshed.count(), 1);
    QCOMPARE(library.rowCount(), 2);
    QVERIFY(!library.setDefault(5));
    QVERIFY(library.setDefault(1));
    QVERIFY(library.index(1).data(LibraryModel::IsDefaultRole).toBool());
    QVERIFY(!library.index(0).data(LibraryModel::IsDefaultRole).toBool());
    const QString path = library.index(1).data(LibraryModel::PathRole).toString();
    QCOMPARE(library.defaultPath(), path);
    // Saved in the settings table: a new model (a restarted app) sees it.
    QTRY_COMPARE(QString::fromStdString(
                     folio::store::SettingsStore(*m_library).get_or(LibraryModel::kDefaultKey, "")),
                 path);
    {
        LibraryModel again(m_library);
        QSignalSpy again_refreshed(&again, &LibraryModel::refreshed);
        QTRY_COMPARE(again_refreshed.count(), 1);
        QCOMPARE(again.defaultPath(), path);
    }

    // Delete the default model: the row, its file and the default go.
    QVERIFY(!library.removeModel(7));
    QVERIFY(library.removeModel(1));
    QTRY_COMPARE(library.rowCount(), 1);
    QCOMPARE(library.error(), QString());
    QVERIFY(!fs::exists(path.toStdString()));
    QCOMPARE(library.defaultPath(), QString());
    QVERIFY(library.removeModel(0));
    QTRY_COMPARE(library.rowCount(), 0);
    QVERIFY(m_library->models().empty());
}

void TestModelsPage::pullAndPause(const QString& quant) {
    auto quants = loadedQuants();
    QVERIFY(quants);
    FakeHub::Fault slow;
    slow.bytes_per_second = 300000;
    m_hub->set_fault(kRepo, "micro-llama-" + quant.toStdString() + ".gguf", slow);
    DownloadsModel downloads(m_library, m_config);
    QCOMPARE(downloads.rowCount(), 0);
    QSignalSpy ended(&downloads, &DownloadsModel::pullEnded);
    QVERIFY(downloads.pullQuant(quants.get(), rowOfQuant(*quants, quant)));
    QTRY_VERIFY_WITH_TIMEOUT(
        downloads.index(0).data(DownloadsModel::BytesDoneRole).toLongLong() > 100000, 10000);
    downloads.cancel(0);
    QTRY_COMPARE(ended.count(), 1);
    QCOMPARE(stateOf(downloads, 0), QStringLiteral("paused"));
    m_hub->clear_faults();
}  // the model goes, as when folio-desktop quits

void TestModelsPage::pausedDownloadIsListedAtTheNextStart() {
    const std::string file = "micro-llama-Q4_K_M.gguf";
    pullAndPause(QStringLiteral("Q4_K_M"));
    if (QTest::currentTestFailed()) return;
    const fs::path part = m_library->model_path(kRepo, file).string() + ".part";
    QVERIFY(fs::exists(part));
    m_hub->reset_counters();

    // The next start: the paused download is listed, with what it has so far.
    DownloadsModel downloads(m_library, m_config);
    Tester tester(&downloads, Tester::FailureReportingMode::QtTest);
    QSignalSpy ended(&downloads, &DownloadsModel::pullEnded);
    QSignalSpy added(&downloads, &DownloadsModel::modelAdded);
    QCOMPARE(downloads.rowCount(), 1);
    const QModelIndex row = downloads.index(0);
    QCOMPARE(row.data(DownloadsModel::LabelRole).toString(),
             QStringLiteral("acme/micro-llama-GGUF Q4_K_M"));
    QCOMPARE(row.data(DownloadsModel::FileRole).toString(), QString::fromStdString(file));
    QCOMPARE(stateOf(downloads, 0), QStringLiteral("paused"));
    QVERIFY(row.data(DownloadsModel::CanResumeRole).toBool());
    QVERIFY(!row.data(DownloadsModel::CanCancelRole).toBool());
    const auto shared = folio::test::shared_path("models/" + file);
    const auto size = static_cast<qint64>(fs::file_size(shared));
    QCOMPARE(row.data(DownloadsModel::TotalRole).toLongLong(), size);
    QCOMPARE(row.data(DownloadsModel::BytesDoneRole).toLongLong(),
             static_cast<qint64>(fs::file_size(part)));
    QVERIFY(row.data(DownloadsModel::BytesDoneRole).toLongLong() > 100000);
    QCOMPARE(downloads.active(), 0);

    // Resume continues from the .part and the verified file lands in the library.
    downloads.resume(0);
    QCOMPARE(stateOf(downloads, 0), QStringLiteral("running"));
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 20000);
    QCOMPARE(stateOf(downloads, 0), QStringLiteral("done"));
    const auto ranges = m_hub->range_headers("/cdn/" + std::string(kRepo) + "/main/" + file);
    QVERIFY(!ranges.empty());
    QVERIFY2(ranges.front().starts_with("bytes=") && ranges.front() != "bytes=0-",
             ranges.front().c_str());
    const auto model = m_library->find_model(kRepo, "main", file);
    QVERIFY(model.has_value());
    QCOMPARE(model->size, static_cast<int64_t>(size));
    QCOMPARE(model->sha256, folio::store::sha256_file(shared));
    QCOMPARE(folio::store::sha256_file(model->path), model->sha256);
    QCOMPARE(added.count(), 1);
    QCOMPARE(added.at(0).at(0).toString(), QString::fromStdString(model->path.string()));
    QVERIFY(!fs::exists(part));
    QVERIFY(m_library->downloads().empty());
    downloads.dismiss(0);  // a finished row is only forgotten
    QCOMPARE(downloads.rowCount(), 0);
    QVERIFY(fs::exists(model->path));
}

void TestModelsPage::discardingAPausedDownloadDeletesIt() {
    const std::string file = "micro-llama-F16.gguf";
    const size_t modelsBefore = m_library->models().size();
    pullAndPause(QStringLiteral("F16"));
    if (QTest::currentTestFailed()) return;
    const fs::path part = m_library->model_path(kRepo, file).string() + ".part";
    QVERIFY(fs::exists(part));
    {
        DownloadsModel downloads(m_library, m_config);
        Tester tester(&downloads, Tester::FailureReportingMode::QtTest);
        QCOMPARE(downloads.rowCount(), 1);
        QCOMPARE(stateOf(downloads, 0), QStringLiteral("paused"));
        downloads.dismiss(0);
        QCOMPARE(downloads.rowCount(), 0);
    }
    QVERIFY(!fs::exists(part));
    QVERIFY(m_library->downloads().empty());
    QCOMPARE(m_library->models().size(), modelsBefore);
    DownloadsModel again(m_library, m_config);  // and the next start lists nothing
    QCOMPARE(again.rowCount(), 0);
}

QTEST_GUILESS_MAIN(TestModelsPage)
#include "test_models_page.moc"
