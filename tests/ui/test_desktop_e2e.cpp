// folio-desktop's window driven like a user would (keys and clicks on the xcb platform, under
// xvfb-run): type "Once upon a time", press Enter, watch the reply stream in, quit, start again
// and find the conversation; switch to the Models page (Ctrl+2, the page bar) and search the fake
// hub; `-m` adds the model to the library (a bad file is reported); a new data folder chosen on
// the Settings page opens at the next start, the old one untouched; the dark theme on the whole
// window. Leaves screenshots in the build tree (scratch folder ui_desktop_e2e).
#include <QAccessible>
#include <QFile>
#include <QGuiApplication>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <filesystem>
#include <map>
#include <memory>
#include <string_view>

#include "conversation_list_model.h"
#include "desktop_app.h"
#include "document_list_model.h"
#include "document_processor.h"
#include "downloads_model.h"
#include "engine_client.h"
#include "fake_hub.h"
#include "hub_search_model.h"
#include "library_model.h"
#include "message_list_model.h"
#include "quant_choices_model.h"
#include "settings_controller.h"
#include "shared_data.h"

namespace fs = std::filesystem;

namespace {

QQuickItem* findItem(QQuickWindow* window, const char* name) {
    return window->findChild<QQuickItem*>(QString::fromLatin1(name));
}

void clickItem(QQuickWindow* window, QQuickItem* item) {
    const QPointF center = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
    QTest::mouseClick(window, Qt::LeftButton, Qt::NoModifier, center.toPoint());
}

}  // namespace

class TestDesktopE2e : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void chatsAndRemembers();
    void saysWhenThereIsNoModel();
    void modelsPageSearchesTheHub();
    void commandLineModelJoinsTheLibrary();
    void dataFolderAppliesAtTheNextStart();
    void settingsPageByKeyboard();
    void summarizesADocument();
    void everyControlHasAnAccessibleName();

  private:
    std::unique_ptr<DesktopApp> startApp(const QString& model, const fs::path& dataDir);
    void screenshot(QQuickWindow* window, const QString& name);

    fs::path m_scratch;
    QString m_model;
};

void TestDesktopE2e::initTestCase() {
    m_scratch = folio::test::scratch_dir("ui_desktop_e2e");
    fs::remove_all(m_scratch);
    fs::create_directories(m_scratch);
    m_model = QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string());
    // The data folder choice goes to a config file here, never to the user's own.
    qputenv("FOLIO_DESKTOP_CONFIG", (m_scratch / "config" / "folio-desktop.conf").c_str());
    qunsetenv("FOLIO_DATA_DIR");
}

std::unique_ptr<DesktopApp> TestDesktopE2e::startApp(const QString& model,
                                                     const fs::path& dataDir) {
    auto app = std::make_unique<DesktopApp>(
        DesktopOptions{model, QString::fromStdString(dataDir.string())});
    if (!app->start()) qFatal("DesktopApp::start: %s", qPrintable(app->errorString()));
    if (!QTest::qWaitForWindowExposed(app->window(), 10000)) qFatal("the window was not exposed");
    return app;
}

void TestDesktopE2e::screenshot(QQuickWindow* window, const QString& name) {
    const QString path = QString::fromStdString((m_scratch / name.toStdString()).string());
    QVERIFY2(window->grabWindow().save(path), qPrintable(path));
    qInfo("screenshot: %s", qPrintable(path));
}

void TestDesktopE2e::chatsAndRemembers() {
    const fs::path data = m_scratch / "data";
    QString reply;
    {
        auto app = startApp(m_model, data);
        QQuickWindow* window = app->window();
        QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
        QCOMPARE(app->conversations()->rowCount(), 0);

        QSignalSpy deltas(app->client(), &EngineClient::tokenDelta);
        QSignalSpy finished(app->client(), &EngineClient::replyFinished);
        QQuickItem* input = findItem(window, "messageInput");
        QVERIFY(input);
        QTRY_VERIFY(input->isEnabled());
        clickItem(window, input);
        QTRY_VERIFY(input->hasActiveFocus());
        for (const char ch : std::string_view("Once upon a time")) QTest::keyClick(window, ch);
        QCOMPARE(input->property("text").toString(), QStringLiteral("Once upon a time"));
        QTest::keyClick(window, Qt::Key_Return);  // Enter sends

        QTRY_VERIFY_WITH_TIMEOUT(deltas.count() > 0, 60000);  // the reply streams in
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(input->property("text").toString(), QString());
        for (const auto& args : deltas) reply += args.at(1).toString();
        QVERIFY(!reply.isEmpty());

        QCOMPARE(app->conversations()->rowCount(), 1);
        MessageListModel* messages = app->messages();
        QCOMPARE(messages->rowCount(), 2);
        QCOMPARE(messages->index(1).data(MessageListModel::ContentRole).toString(), reply);
        QQuickItem* speed = findItem(window, "speedLabel");
        QVERIFY(speed && speed->isVisible());
        QVERIFY(speed->property("text").toString().endsWith(QStringLiteral("tokens/s")));
        screenshot(window, QStringLiteral("chat.png"));
    }  // quit

    auto app = startApp(m_model, data);
    QCOMPARE(app->conversations()->rowCount(), 1);
    QCOMPARE(app->conversations()->index(0).data().toString(), QStringLiteral("Once upon a time"));
    QCOMPARE(app->conversations()->currentRow(), 0);
    MessageListModel* messages = app->messages();
    QCOMPARE(messages->rowCount(), 2);
    QCOMPARE(messages->index(0).data(MessageListModel::ContentRole).toString(),
             QStringLiteral("Once upon a time"));
    QCOMPARE(messages->index(1).data(MessageListModel::ContentRole).toString(), reply);

    // New chat and Delete through the buttons.
    clickItem(app->window(), findItem(app->window(), "newChatButton"));
    QTRY_COMPARE(app->conversations()->rowCount(), 2);
    QCOMPARE(messages->rowCount(), 0);
    clickItem(app->window(), findItem(app->window(), "deleteChatButton"));
    QTRY_COMPARE(app->conversations()->rowCount(), 1);
    QCOMPARE(messages->rowCount(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
    screenshot(app->window(), QStringLiteral("reopened.png"));
}

void TestDesktopE2e::saysWhenThereIsNoModel() {
    // First run: an empty library opens on the Models page, and the chat says why it is off.
    auto app = startApp(QString(), m_scratch / "empty");
    QVERIFY(!app->client()->modelReady());
    QTRY_VERIFY(findItem(app->window(), "modelsPage")->isVisible());
    QVERIFY(!findItem(app->window(), "chatPage")->isVisible());
    screenshot(app->window(), QStringLiteral("first_run.png"));
    QQuickItem* status = findItem(app->window(), "statusLabel");
    QVERIFY(status);
    QVERIFY(status->property("text").toString().startsWith(QStringLiteral("No model")));
    QVERIFY(status->property("text").toString().contains(QStringLiteral("Models page")));
    QVERIFY(!findItem(app->window(), "messageInput")->isEnabled());
    app->window()->setProperty("currentPage", 0);
    QTRY_VERIFY(findItem(app->window(), "chatPage")->isVisible());
    screenshot(app->window(), QStringLiteral("no_model.png"));

    // The welcome card's "Open a GGUF file…" (the dialog hands openModelFile a file URL): a file
    // that is not a model is refused and nothing joins; a model loads and joins the library.
    app->window()->setProperty("currentPage", 1);
    QQuickItem* welcome = findItem(app->window(), "welcomeCard");
    QTRY_VERIFY(welcome && welcome->isVisible());
    const fs::path notModel = m_scratch / "notes.gguf";
    QFile(QString::fromStdString(notModel.string())).open(QIODevice::WriteOnly);
    const QString refused = app->openModelFile(
        QUrl::fromLocalFile(QString::fromStdString(notModel.string())).toString());
    QVERIFY2(refused.contains(QStringLiteral("notes.gguf")), qPrintable(refused));
    QCOMPARE(app->library()->rowCount(), 0);
    QCOMPARE(app->openModelFile(QUrl::fromLocalFile(m_model).toString()), QString());
    QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
    QTRY_COMPARE(app->library()->rowCount(), 1);
    QTRY_VERIFY(!welcome->isVisible());
    QVERIFY(findItem(app->window(), "messageInput")->isEnabled());
}

void TestDesktopE2e::modelsPageSearchesTheHub() {
    folio::test::FakeHub hub;
    folio::test::FakeHub::RepoMeta meta;
    meta.downloads = 4321;
    hub.add_repo("acme/micro-llama-GGUF", meta);
    for (const char* q : {"Q2_K", "Q4_K_M", "Q8_0", "F16"}) {
        hub.add_shared_model("acme/micro-llama-GGUF", std::string("micro-llama-") + q + ".gguf");
    }
    hub.add_repo("someone/Micro-Chat-GGUF");
    qputenv("HF_ENDPOINT", QByteArray::fromStdString(hub.endpoint()));
    qputenv("FOLIO_MEM_AVAILABLE", "32000000");
    auto app = startApp(QString(), m_scratch / "models");
    QQuickWindow* window = app->window();
    QQuickItem* chat = findItem(window, "chatPage");
    QQuickItem* models = findItem(window, "modelsPage");
    QVERIFY(chat && models);
    QTRY_VERIFY(models->isVisible() && !chat->isVisible());  // first run: the Models page
    window->requestActivate();                               // shortcuts act in the active window
    QVERIFY(QTest::qWaitForWindowActive(window, 10000));

    QTest::keyClick(window, Qt::Key_2, Qt::ControlModifier);
    QTRY_VERIFY(models->isVisible());
    QVERIFY(!chat->isVisible());
    QTest::keyClick(window, Qt::Key_1, Qt::ControlModifier);
    QTRY_VERIFY(chat->isVisible());
    QQuickItem* navModels = findItem(window, "navModels");
    QVERIFY(navModels);
    clickItem(window, navModels);
    QTRY_VERIFY(models->isVisible());
    QVERIFY(navModels->property("checked").toBool());

    // The first-run card lists the hub's popular GGUF repos, most downloaded first.
    QQuickItem* welcome = findItem(window, "welcomeCard");
    QVERIFY(welcome && welcome->isVisible());
    QSignalSpy searched(app->hubSearch(), &HubSearchModel::finished);
    clickItem(window, findItem(window, "popularModelsButton"));
    QTRY_COMPARE_WITH_TIMEOUT(searched.count(), 1, 10000);
    QCOMPARE(app->hubSearch()->rowCount(), 2);
    QCOMPARE(app->hubSearch()->index(0).data(Qt::DisplayRole).toString(),
             QStringLiteral("acme/micro-llama-GGUF"));

    QQuickItem* search = findItem(window, "hubSearchField");
    QVERIFY(search);
    clickItem(window, search);
    QTRY_VERIFY(search->hasActiveFocus());
    for (const char ch : std::string_view("micro")) QTest::keyClick(window, ch);
    QTest::keyClick(window, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(searched.count(), 2, 10000);  // this search's results, not stale
    QCOMPARE(app->hubSearch()->rowCount(), 2);
    QQuickItem* results = findItem(window, "hubResultsView");
    QVERIFY(results);
    QQuickItem* first = nullptr;
    QTRY_VERIFY(QMetaObject::invokeMethod(results, "itemAtIndex", Q_RETURN_ARG(QQuickItem*, first),
                                          Q_ARG(int, 0)) &&
                first);
    clickItem(window, first);
    QTRY_COMPARE_WITH_TIMEOUT(app->quants()->rowCount(), 4, 10000);
    QCOMPARE(app->quants()->repo(), QStringLiteral("acme/micro-llama-GGUF"));
    QTRY_VERIFY(!app->quants()->busy());
    screenshot(window, QStringLiteral("models.png"));

    // A download (Q2_K, the last row) lands in the library list on the left.
    QVERIFY(app->downloads()->pullQuant(app->quants(), 3));
    QTRY_COMPARE_WITH_TIMEOUT(app->library()->rowCount(), 1, 20000);
    QTRY_COMPARE(app->downloads()->active(), 0);
    screenshot(window, QStringLiteral("models_downloaded.png"));
    // With no model loaded, the first download becomes the chat's model.
    QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
    QCOMPARE(app->client()->modelName(), QStringLiteral("micro-llama-Q2_K"));

    // The pages written elsewhere load into their tabs (or stay empty) without breaking the window.
    QTest::keyClick(window, Qt::Key_3, Qt::ControlModifier);
    QTRY_VERIFY(!models->isVisible());
    QTest::keyClick(window, Qt::Key_4, Qt::ControlModifier);
    QTest::keyClick(window, Qt::Key_1, Qt::ControlModifier);
    QTRY_VERIFY(chat->isVisible());
    qunsetenv("HF_ENDPOINT");
}

namespace {

// Every file under `dir` with its size and modification time, to see that nothing changed.
std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> listing(const fs::path& dir) {
    std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) files[e.path().string()] = {e.file_size(), e.last_write_time()};
    }
    return files;
}

void typeInto(QQuickWindow* window, QQuickItem* field, const QString& text) {
    clickItem(window, field);
    QTRY_VERIFY(field->hasActiveFocus());
    QTest::keyClick(window, Qt::Key_A, Qt::ControlModifier);  // replace what is there
    for (const QChar ch : text) QTest::keyClick(window, ch.toLatin1());
    QTest::keyClick(window, Qt::Key_Return);
}

}  // namespace

void TestDesktopE2e::commandLineModelJoinsTheLibrary() {
    const fs::path dir = m_scratch / "cli-model";
    const QString canonical = QString::fromStdString(fs::weakly_canonical(m_model.toStdString()));
    {
        auto app = startApp(m_model, dir);  // folio-desktop -m stories260K.gguf
        QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
        QTRY_COMPARE(app->library()->rowCount(), 1);  // on the Models page
        const QModelIndex row = app->library()->index(0);
        QCOMPARE(row.data(LibraryModel::NameRole).toString(), QStringLiteral("stories260K"));
        QCOMPARE(row.data(LibraryModel::RepoRole).toString(), QString());  // added by hand
        QCOMPARE(row.data(LibraryModel::PathRole).toString(), canonical);
        QCOMPARE(row.data(LibraryModel::ArchitectureRole).toString(), QStringLiteral("llama"));
    }
    {
        auto app = startApp(m_model, dir);  // the same file again: not a second row
        QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
        QTest::qWait(200);
        QCOMPARE(folio::store::Library(dir).models().size(), size_t{1});
    }
    {
        auto app = startApp(QString(), dir);  // no -m: the model is picked from the library
        QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
        QCOMPARE(app->client()->modelName(), QStringLiteral("stories260K"));
        QTRY_VERIFY(findItem(app->window(), "chatPage")->isVisible());
    }

    // A file that is not a model, and one that does not exist: a clear status, nothing loaded,
    // the library as it was.
    const fs::path bad = m_scratch / "not-a-model.gguf";
    {
        QFile f(QString::fromStdString(bad.string()));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("hello, not a model\n");
    }
    for (const fs::path& path : {bad, m_scratch / "missing.gguf"}) {
        auto app = startApp(QString::fromStdString(path.string()), dir);
        const QString status = app->client()->status();
        QVERIFY2(status.contains(path.filename().c_str()), qPrintable(status));
        QVERIFY2(status.contains(QStringLiteral("not a GGUF model")) ||
                     status.contains(QStringLiteral("no such file")),
                 qPrintable(status));
        QVERIFY(!app->client()->modelReady());
        QVERIFY(!app->client()->loading());
        QQuickItem* label = findItem(app->window(), "statusLabel");
        QVERIFY(label);
        QCOMPARE(label->property("text").toString(), status);
        QTRY_VERIFY(!label->property("truncated").toBool());  // the whole reason shows
        QTRY_COMPARE(app->library()->rowCount(), 1);
        if (path == bad) screenshot(app->window(), QStringLiteral("bad_model.png"));
    }
    QCOMPARE(folio::store::Library(dir).models().size(), size_t{1});
    QVERIFY(fs::exists(bad));
}

void TestDesktopE2e::dataFolderAppliesAtTheNextStart() {
    const fs::path oldDir = m_scratch / "folder-old";
    const fs::path newDir = m_scratch / "folder-new";
    const QString newText = QString::fromStdString(newDir.string());
    const QString config = qEnvironmentVariable("FOLIO_DESKTOP_CONFIG");
    QVERIFY(config.startsWith(QString::fromStdString(m_scratch.string())));  // never the home one
    QCOMPARE(SettingsController::savedDataFolder(config), QString());
    {
        auto app = startApp(m_model, oldDir);  // --data-dir folder-old -m stories260K.gguf
        QQuickWindow* window = app->window();
        QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
        QTRY_COMPARE(app->library()->rowCount(), 1);
        window->requestActivate();
        QVERIFY(QTest::qWaitForWindowActive(window, 10000));
        QTest::keyClick(window, Qt::Key_4, Qt::ControlModifier);  // Settings
        QQuickItem* field = nullptr;
        QTRY_VERIFY((field = findItem(window, "dataFolderField")) && field->isVisible());
        SettingsController* settings = app->settings();
        QCOMPARE(settings->currentDataFolder(), QString::fromStdString(oldDir.string()));

        // A folder that cannot be made (below a file): an error on the page, nothing changes.
        const fs::path file = m_scratch / "plain-file";
        QVERIFY(QFile(QString::fromStdString(file.string())).open(QIODevice::WriteOnly));
        typeInto(window, field, QString::fromStdString((file / "data").string()));
        QTRY_VERIFY(!settings->lastError().isEmpty());
        QQuickItem* error = findItem(window, "settingsErrorLabel");
        QVERIFY(error);
        QTRY_VERIFY(error->isVisible());
        QVERIFY(error->property("text").toString().contains(QStringLiteral("cannot be created")));
        QCOMPARE(settings->dataFolder(), QString::fromStdString(oldDir.string()));
        QCOMPARE(SettingsController::savedDataFolder(config), QString());
        QVERIFY(!settings->restartRequired());

        // A good one: remembered, applies at the next start.
        typeInto(window, field, newText);
        QTRY_COMPARE(settings->dataFolder(), newText);
        QCOMPARE(settings->lastError(), QString());
        QVERIFY(!error->isVisible());
        QVERIFY(settings->restartRequired());
        QQuickItem* notice = findItem(window, "settingsNotice");
        QVERIFY(notice && notice->isVisible());
        QVERIFY(notice->property("text").toString().contains(QStringLiteral("Restart Folio")));
        QCOMPARE(SettingsController::savedDataFolder(config), newText);
        QVERIFY(!fs::exists(newDir / "folio.db"));  // not used yet

        // The dark theme, live, on the whole window.
        settings->setTheme(QStringLiteral("dark"));
        QTRY_VERIFY(window->grabWindow().pixelColor(5, window->height() - 5).lightness() < 80);
        screenshot(window, QStringLiteral("settings_dark_window.png"));
        QTest::keyClick(window, Qt::Key_2, Qt::ControlModifier);
        QTRY_VERIFY(findItem(window, "modelsPage")->isVisible());
        // The library list sits right under its title (no space left by the hidden card).
        QTRY_VERIFY(findItem(window, "libraryView")->y() < 60);
        screenshot(window, QStringLiteral("models_dark.png"));
        settings->setTheme(QStringLiteral("system"));
    }
    const auto before = listing(oldDir);

    // The next start without --data-dir opens the new folder; the old one is left alone.
    qunsetenv("FOLIO_DATA_DIR");
    QCOMPARE(DesktopApp::dataFolderFor({}), newText);
    {
        auto app = std::make_unique<DesktopApp>(DesktopOptions{});
        QVERIFY2(app->start(), qPrintable(app->errorString()));
        QVERIFY(QTest::qWaitForWindowExposed(app->window(), 10000));
        QCOMPARE(app->settings()->currentDataFolder(), newText);
        QVERIFY(!app->settings()->restartRequired());
        QVERIFY(fs::exists(newDir / "folio.db"));
        QSignalSpy refreshed(app->library(), &LibraryModel::refreshed);
        QTRY_VERIFY(refreshed.count() > 0 || app->library()->rowCount() == 0);
        QCOMPARE(app->library()->rowCount(), 0);  // a new, empty library: the Models page
        QTRY_VERIFY(findItem(app->window(), "modelsPage")->isVisible());
        QVERIFY(!app->client()->modelReady());
    }
    QCOMPARE(listing(oldDir), before);
    QCOMPARE(folio::store::Library(oldDir).models().size(), size_t{1});

    // --data-dir beats $FOLIO_DATA_DIR, which beats the saved choice.
    const QString env = QString::fromStdString((m_scratch / "folder-env").string());
    qputenv("FOLIO_DATA_DIR", env.toUtf8());
    QCOMPARE(DesktopApp::dataFolderFor({}), env);
    QCOMPARE(DesktopApp::dataFolderFor(DesktopOptions{QString(), QStringLiteral("/x/y")}),
             QStringLiteral("/x/y"));
    qunsetenv("FOLIO_DATA_DIR");
}

void TestDesktopE2e::settingsPageByKeyboard() {
    QAccessible::setActive(true);  // as with a screen reader running
    auto app = startApp(QString(), m_scratch / "keyboard");
    QQuickWindow* window = app->window();
    window->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window, 10000));
    QTest::keyClick(window, Qt::Key_4, Qt::ControlModifier);
    QQuickItem* threads = nullptr;
    QTRY_VERIFY((threads = findItem(window, "threadsSpin")) && threads->isVisible());
    threads->forceActiveFocus(Qt::TabFocusReason);
    QTRY_VERIFY(threads->hasActiveFocus());

    // Tab walks the page top to bottom; every control it reaches has an accessible name.
    QStringList order;
    for (int i = 0; i < 16; ++i) {
        QQuickItem* item = window->activeFocusItem();
        while (item && item->objectName().isEmpty()) item = item->parentItem();
        QVERIFY(item);
        if (!order.isEmpty() && order.last() == item->objectName()) break;  // the end
        if (order.contains(item->objectName())) break;                      // wrapped round
        order << item->objectName();
        QAccessibleInterface* a = QAccessible::queryAccessibleInterface(item);
        QVERIFY2(a && !a->text(QAccessible::Name).isEmpty(), qPrintable(item->objectName()));
        QTest::keyClick(window, Qt::Key_Tab);
    }
    const QStringList expected = {"threadsSpin",       "contextSpin",     "kvMemorySpin",
                                  "temperatureSlider", "topPSlider",      "maxTokensSpin",
                                  "themeCombo",        "dataFolderField", "resetSettingsButton"};
    qsizetype at = -1;
    for (const QString& name : expected) {
        const qsizetype next = order.indexOf(name);
        QVERIFY2(next > at, qPrintable(order.join(u' ')));
        at = next;
    }
    // The page bar: a named button per page, the current one checked.
    for (const char* name :
         {"navChat", "navModels", "navLocalApi", "navSettings", "navDocuments"}) {
        QAccessibleInterface* a = QAccessible::queryAccessibleInterface(findItem(window, name));
        QVERIFY(a);
        QVERIFY(a->text(QAccessible::Name).endsWith(QStringLiteral(" page")));
        QCOMPARE(bool(a->state().checked), qstrcmp(name, "navSettings") == 0);
    }
    QTest::keyClick(window, Qt::Key_5, Qt::ControlModifier);  // Ctrl+5: Documents
    QTRY_COMPARE(window->property("currentPage").toInt(), 4);
    QAccessible::setActive(false);
}

// The Documents page (Ctrl+5): type the path of tests/ui/data/garden-story.txt, Summarize,
// Run; with a 512-token context the story takes several chunks, run as one batch; the summary
// shows and is still there after a restart.
void TestDesktopE2e::summarizesADocument() {
    const fs::path dir = m_scratch / "documents";
    {
        folio::store::Library library(dir);
        folio::store::SettingsStore(library).set("engine.context_length", "512");
    }
    const QString story = QFINDTESTDATA("data/garden-story.txt");
    QVERIFY(!story.isEmpty());
    {
        auto app = startApp(m_model, dir);
        QQuickWindow* window = app->window();
        QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
        window->requestActivate();
        QVERIFY(QTest::qWaitForWindowActive(window, 10000));
        QTest::keyClick(window, Qt::Key_5, Qt::ControlModifier);
        QQuickItem* path = nullptr;
        QTRY_VERIFY((path = findItem(window, "documentPath")) && path->isVisible());
        QCOMPARE(findItem(window, "documentTask")->property("currentValue").toString(),
                 QStringLiteral("summarize"));
        typeInto(window, path, story);
        QQuickItem* run = findItem(window, "documentRun");
        QTRY_VERIFY(run->isEnabled());
        clickItem(window, run);

        DocumentListModel* jobs = app->documents()->jobs();
        QTRY_COMPARE(jobs->rowCount(), 1);
        const QModelIndex row = jobs->index(0);
        QTRY_COMPARE_WITH_TIMEOUT(row.data(DocumentListModel::StateRole).toString(),
                                  QStringLiteral("done"), 120000);
        QVERIFY2(row.data(DocumentListModel::ChunksTotalRole).toInt() > 1,
                 "the story should not fit one 512-token chunk");
        QCOMPARE(row.data(DocumentListModel::ProgressRole).toDouble(), 1.0);
        QVERIFY(!row.data(DocumentListModel::ResultRole).toString().trimmed().isEmpty());
        QTest::qWait(200);  // the progress bar's last repaint
        screenshot(window, QStringLiteral("documents.png"));
    }
    auto app = startApp(m_model, dir);  // the summary is kept
    DocumentListModel* jobs = app->documents()->jobs();
    QCOMPARE(jobs->rowCount(), 1);
    QCOMPARE(jobs->index(0).data(DocumentListModel::TitleRole).toString(),
             QStringLiteral("garden-story"));
    QCOMPARE(jobs->index(0).data(DocumentListModel::StateRole).toString(), QStringLiteral("done"));
}

namespace {

// The visible controls a keyboard user can reach (Tab) under `item`.
void collectTabStops(QQuickItem* item, QList<QQuickItem*>& out) {
    if (!item->isVisible() || !item->isEnabled()) return;
    if (item->activeFocusOnTab()) out.push_back(item);
    for (QQuickItem* child : item->childItems()) collectTabStops(child, out);
}

}  // namespace

// On every page, every control Tab reaches has a name a screen reader can say.
void TestDesktopE2e::everyControlHasAnAccessibleName() {
    const fs::path dir = m_scratch / "accessible";
    {
        folio::store::Library library(dir);
        folio::store::ConversationStore store(library);
        const int64_t c = store.create_conversation("Named");
        store.add_message(c, "user", "Show me code");
        store.add_message(c, "assistant", "Here:\n\n```sh\necho hi\n```\n");
    }
    auto app = startApp(m_model, dir);
    QQuickWindow* window = app->window();
    QTRY_VERIFY_WITH_TIMEOUT(app->client()->modelReady(), 60000);
    QAccessible::setActive(true);
    for (int page = 0; page < 5; ++page) {
        window->setProperty("currentPage", page);
        QTest::qWait(100);
        QList<QQuickItem*> stops;
        collectTabStops(window->contentItem(), stops);
        QVERIFY(stops.size() > 5);
        QStringList unnamed;
        for (QQuickItem* item : stops) {
            QAccessibleInterface* a = QAccessible::queryAccessibleInterface(item);
            QString name = a ? a->text(QAccessible::Name).trimmed() : QString();
            // Qt 6.4's TextInput replaces the accessible name of a field in password mode
            // with its (hidden) text, so the API key field (named on the page) cannot pass.
            if (name.isEmpty() && item->property("echoMode").toInt() == 2) continue;
            // An editable spin box's text field speaks for the spin box.
            QQuickItem* owner = item->parentItem();
            if (name.isEmpty() && owner &&
                owner->property("contentItem").value<QQuickItem*>() == item) {
                if (QAccessibleInterface* o = QAccessible::queryAccessibleInterface(owner))
                    name = o->text(QAccessible::Name).trimmed();
            }
            if (name.isEmpty()) {
                unnamed << QStringLiteral("%1 (%2)").arg(item->objectName(),
                                                         item->metaObject()->className());
            }
        }
        QVERIFY2(unnamed.isEmpty(),
                 qPrintable(QStringLiteral("page %1: %2").arg(page).arg(unnamed.join(u", "))));
    }
    QAccessible::setActive(false);
}

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    TestDesktopE2e test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "test_desktop_e2e.moc"
