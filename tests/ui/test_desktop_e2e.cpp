// folio-desktop's window driven like a user would (keys and clicks on the xcb platform, under
// xvfb-run): type "Once upon a time", press Enter, watch the reply stream in, quit, start again
// and find the conversation; switch to the Models page (Ctrl+2, the page bar) and search the fake
// hub. Leaves screenshots in the build tree (scratch folder ui_desktop_e2e).
#include <QGuiApplication>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <memory>
#include <string_view>

#include "conversation_list_model.h"
#include "desktop_app.h"
#include "downloads_model.h"
#include "engine_client.h"
#include "fake_hub.h"
#include "hub_search_model.h"
#include "library_model.h"
#include "message_list_model.h"
#include "quant_choices_model.h"
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

    QQuickItem* search = findItem(window, "hubSearchField");
    QVERIFY(search);
    clickItem(window, search);
    QTRY_VERIFY(search->hasActiveFocus());
    for (const char ch : std::string_view("micro")) QTest::keyClick(window, ch);
    QTest::keyClick(window, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(app->hubSearch()->rowCount(), 2, 10000);
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

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    TestDesktopE2e test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_desktop_e2e.moc"
