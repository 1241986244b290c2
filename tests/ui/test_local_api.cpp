// The Local API and Settings pages: LocalApiController serving stories260K (loaded through
// EngineClient) over real HTTP with its key, SettingsController round-tripping through the
// library (the data folder through a config file in the scratch folder), both pages loaded by a
// Loader (as the main window's navigation does) without a QML warning, and the theme switched
// from the keyboard changing the window's colours at once. Leaves screenshots in the build tree
// (scratch folder ui_local_api: local_api_page, settings_page, settings_dark, settings_light).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QClipboard>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <memory>
#include <utility>

#include "api_settings_setup.h"
#include "engine_client.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "local_api_controller.h"
#include "settings_controller.h"
#include "shared_data.h"

namespace fs = std::filesystem;

namespace {

// A listening TCP socket on 127.0.0.1 (port 0: any free one); closed with the object.
struct Listener {
    int fd = -1;
    int port = 0;
    explicit Listener(int wanted) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(wanted));
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
            ::listen(fd, 4) != 0) {
            return;
        }
        socklen_t len = sizeof(addr);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    ~Listener() { ::close(fd); }
    bool ok() const { return port > 0; }
};

int freePort() {
    return Listener(0).port;
}

httplib::Headers bearer(const QString& key) {
    return {{"Authorization", "Bearer " + key.toStdString()}};
}

}  // namespace

class TestLocalApi : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void generatesKeys();
    void refusesToStartWithoutModel();
    void servesTheModelWithItsKey();
    void reportsAPortInUse();
    void followsTheLoadedModel();
    void settingsRoundTripThroughTheLibrary();
    void pagesLoadWithoutWarnings();
    void themeAppliesLive();
    void cleanupTestCase();

  private:
    void screenshot(QQuickWindow* window, const QString& name);

    fs::path m_scratch;
    std::unique_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::unique_ptr<EngineClient> m_client;
};

void TestLocalApi::initTestCase() {
    m_scratch = folio::test::scratch_dir("ui_local_api");
    fs::remove_all(m_scratch);
    fs::create_directories(m_scratch);
    m_library = std::make_unique<folio::store::Library>(m_scratch / "data");
    m_store = std::make_shared<folio::store::ConversationStore>(*m_library);
    m_client = std::make_unique<EngineClient>(m_store);
    QSignalSpy loaded(m_client.get(), &EngineClient::modelLoaded);
    m_client->loadModel(
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
}

void TestLocalApi::cleanupTestCase() {
    m_client.reset();
    m_store.reset();
    m_library.reset();
}

void TestLocalApi::screenshot(QQuickWindow* window, const QString& name) {
    const QString path = QString::fromStdString((m_scratch / name.toStdString()).string());
    QVERIFY2(window->grabWindow().save(path), qPrintable(path));
    qInfo("screenshot: %s", qPrintable(path));
}

void TestLocalApi::generatesKeys() {
    const QString a = LocalApiController::newApiKey();
    const QString b = LocalApiController::newApiKey();
    QVERIFY(a.startsWith(QStringLiteral("folio-")));
    QCOMPARE(a.size(), 6 + 43);  // 32 bytes as unpadded base64url
    QVERIFY(QRegularExpression(QStringLiteral("^folio-[A-Za-z0-9_-]{43}$")).match(a).hasMatch());
    QVERIFY(a != b);

    LocalApiController api(m_client.get(), nullptr);
    QVERIFY(api.apiKey().startsWith(QStringLiteral("folio-")));  // one from the start
    const QString before = api.apiKey();
    QSignalSpy snippet(&api, &LocalApiController::snippetChanged);
    api.generateApiKey();
    QVERIFY(api.apiKey() != before);
    QCOMPARE(snippet.count(), 1);
    QVERIFY(api.snippet().contains(api.apiKey()));
}

void TestLocalApi::refusesToStartWithoutModel() {
    EngineClient empty(m_store);
    LocalApiController api(&empty, nullptr);
    QVERIFY(!api.canStart());
    QCOMPARE(api.startBlockedReason(), QStringLiteral("Load a model first"));
    api.start();
    QVERIFY(!api.busy());
    QVERIFY(!api.running());
    QVERIFY(api.snippet().contains(QStringLiteral("http://127.0.0.1:8080/v1")));
}

void TestLocalApi::servesTheModelWithItsKey() {
    LocalApiController api(m_client.get(), m_library.get());
    const int port = freePort();
    QVERIFY(port > 0);
    api.setPort(port);
    api.setAllowedOrigins({QStringLiteral(" http://localhost:3000 "), QString()});
    QCOMPARE(api.allowedOrigins(), QStringList{QStringLiteral("http://localhost:3000")});
    QVERIFY(api.canStart());
    api.start();
    QVERIFY(api.busy());  // binding happens off this thread
    QTRY_VERIFY_WITH_TIMEOUT(api.running(), 10000);
    QVERIFY(!api.busy());
    QVERIFY(api.lastError().isEmpty());
    QCOMPARE(api.baseUrl(), QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
    QVERIFY(api.snippet().contains(api.baseUrl()));
    QVERIFY(api.snippet().contains(QStringLiteral("model: stories260K")));

    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(30, 0);
    auto models = http.Get("/v1/models", bearer(api.apiKey()));
    QVERIFY(models);
    QCOMPARE(models->status, 200);
    QVERIFY(models->body.find("\"stories260K\"") != std::string::npos);
    auto denied = http.Get("/v1/models");
    QVERIFY(denied);
    QCOMPARE(denied->status, 401);
    const std::string body =
        R"({"model": "stories260K", "prompt": "Once upon a time", "max_tokens": 8})";
    auto completion = http.Post("/v1/completions", bearer(api.apiKey()), body, "application/json");
    QVERIFY(completion);
    QCOMPARE(completion->status, 200);
    QVERIFY(completion->body.find("\"text\"") != std::string::npos);
    auto wrongKey = http.Post("/v1/completions", bearer(QStringLiteral("folio-wrong")), body,
                              "application/json");
    QVERIFY(wrongKey);
    QCOMPARE(wrongKey->status, 401);

    QTRY_COMPARE(api.requestCount(), qint64{4});
    QTRY_VERIFY(api.tokensPerSecond() > 0.0);

    api.copySnippet();
    QCOMPARE(QGuiApplication::clipboard()->text(), api.snippet());

    api.stop();
    QVERIFY(api.busy());
    QTRY_VERIFY_WITH_TIMEOUT(!api.running() && !api.busy(), 10000);
    QCOMPARE(api.tokensPerSecond(), 0.0);
    QVERIFY(Listener(port).ok());  // the port is free again
    QVERIFY(!http.Get("/v1/models", bearer(api.apiKey())));
    QVERIFY(api.canStart());  // and it can start again

    LocalApiController reopened(m_client.get(), m_library.get());  // remembered
    QCOMPARE(reopened.port(), port);
    QCOMPARE(reopened.apiKey(), api.apiKey());
    QCOMPARE(reopened.allowedOrigins(), api.allowedOrigins());
}

void TestLocalApi::reportsAPortInUse() {
    Listener taken(0);
    QVERIFY(taken.ok());
    LocalApiController api(m_client.get(), nullptr);
    api.setPort(taken.port);
    QSignalSpy errors(&api, &LocalApiController::lastErrorChanged);
    api.start();
    QTRY_VERIFY_WITH_TIMEOUT(!api.busy(), 10000);
    QVERIFY(!api.running());
    QVERIFY2(api.lastError().contains(QStringLiteral("cannot bind")), qPrintable(api.lastError()));
    QCOMPARE(errors.count(), 1);
    QVERIFY(api.canStart());  // free the port (or pick another) and try again
}

// The app loads another model while the API runs: the API restarts on it, on the same port and
// key, and no longer offers the old one.
void TestLocalApi::followsTheLoadedModel() {
    EngineClient client(m_store);
    QSignalSpy loaded(&client, &EngineClient::modelLoaded);
    client.loadModel(
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
    LocalApiController api(&client, nullptr);
    const int port = freePort();
    api.setPort(port);
    api.start();
    QTRY_VERIFY_WITH_TIMEOUT(api.running(), 10000);
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(30, 0);
    auto before = http.Get("/v1/models", bearer(api.apiKey()));
    QVERIFY(before && before->body.find("\"stories260K\"") != std::string::npos);

    QSignalSpy running(&api, &LocalApiController::runningChanged);
    client.loadModel(
        QString::fromStdString(folio::test::shared_path("models/micro-llama-Q8_0.gguf").string()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(running.count() >= 2 && api.running() && !api.busy(), 20000);
    QCOMPARE(api.port(), port);
    auto after = http.Get("/v1/models", bearer(api.apiKey()));
    QVERIFY(after);
    QCOMPARE(after->status, 200);
    QVERIFY2(after->body.find("\"micro-llama-Q8_0\"") != std::string::npos, after->body.c_str());
    QVERIFY(after->body.find("stories260K") == std::string::npos);
    const std::string body = R"({"model": "micro-llama-Q8_0", "prompt": "Hello", "max_tokens": 4})";
    auto completion = http.Post("/v1/completions", bearer(api.apiKey()), body, "application/json");
    QVERIFY(completion);
    QCOMPARE(completion->status, 200);
    api.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!api.running() && !api.busy(), 10000);
}

void TestLocalApi::settingsRoundTripThroughTheLibrary() {
    const fs::path dir = m_scratch / "settings";
    const QString config = QString::fromStdString((m_scratch / "config" / "folio.conf").string());
    const QString elsewhere = QString::fromStdString((m_scratch / "elsewhere").string());
    {
        folio::store::Library library(dir);
        SettingsController s(&library, config);
        QCOMPARE(s.threads(), 0);
        QCOMPARE(s.theme(), QStringLiteral("system"));
        QCOMPARE(s.dataFolder(), QString::fromStdString(dir.string()));
        QVERIFY(!s.reloadRequired());
        QVERIFY(s.notice().isEmpty());
        QSignalSpy changed(&s, &SettingsController::changed);
        s.setThreads(2);
        s.setContextLength(4096);
        s.setKvCacheMemoryMb(512);
        s.setTemperature(0.25);
        s.setTopP(0.5);
        s.setMaxTokens(1000);
        s.setTheme(QStringLiteral("dark"));
        QVERIFY(!fs::exists(elsewhere.toStdString()));
        s.setDataFolder(elsewhere + QStringLiteral("/"));
        QCOMPARE(changed.count(), 8);
        QVERIFY(fs::is_directory(elsewhere.toStdString()));  // created, and writable
        QCOMPARE(s.lastError(), QString());
        QCOMPARE(SettingsController::savedDataFolder(config), elsewhere);
        s.setTheme(QStringLiteral("purple"));  // invalid values are ignored
        s.setTemperature(-1);
        s.setTopP(0);
        s.setThreads(-3);
        QCOMPARE(changed.count(), 8);
        // A bad data folder: an error on the page, nothing changed.
        s.setDataFolder(QStringLiteral("relative/path"));
        QVERIFY2(s.lastError().contains(QStringLiteral("full path")), qPrintable(s.lastError()));
        const fs::path file = m_scratch / "a-file";
        QVERIFY(QFile(QString::fromStdString(file.string())).open(QIODevice::WriteOnly));
        s.setDataFolder(QString::fromStdString(file.string()));
        QVERIFY2(s.lastError().contains(QStringLiteral("is a file")), qPrintable(s.lastError()));
        s.setDataFolder(QString::fromStdString((file / "below").string()));
        QVERIFY2(s.lastError().contains(QStringLiteral("cannot be created")),
                 qPrintable(s.lastError()));
        QCOMPARE(s.dataFolder(), elsewhere);
        QCOMPARE(SettingsController::savedDataFolder(config), elsewhere);
        s.setDataFolder(elsewhere);  // the same again clears the error
        QCOMPARE(s.lastError(), QString());
        QVERIFY(s.reloadRequired());
        QVERIFY(s.restartRequired());
        QVERIFY(s.notice().contains(QStringLiteral("Reload the model")));
        QVERIFY(s.notice().contains(QStringLiteral("Restart Folio")));
        s.markApplied();
        QVERIFY(!s.reloadRequired());

        folio::EngineConfig config;
        s.applyTo(config);
        QCOMPARE(config.num_threads, 2);
        QCOMPARE(config.max_model_len, int64_t{4096});
        QCOMPARE(config.kv_cache_memory, int64_t{512} << 20);
    }
    folio::store::Library library(dir);  // reopen
    SettingsController s(&library, config);
    QCOMPARE(s.threads(), 2);
    QCOMPARE(s.contextLength(), 4096);
    QCOMPARE(s.kvCacheMemoryMb(), 512);
    QCOMPARE(s.temperature(), 0.25);
    QCOMPARE(s.topP(), 0.5);
    QCOMPARE(s.maxTokens(), 1000);
    QCOMPARE(s.theme(), QStringLiteral("dark"));
    QCOMPARE(s.dataFolder(), elsewhere);
    QCOMPARE(s.currentDataFolder(), QString::fromStdString(dir.string()));
    QVERIFY(!s.reloadRequired());  // what was saved is what the next load uses
    QVERIFY(s.restartRequired());
    QVERIFY(s.notice().contains(QStringLiteral("Restart Folio")));
    s.resetToDefaults();
    QCOMPARE(s.threads(), 0);
    QCOMPARE(s.theme(), QStringLiteral("system"));
    QVERIFY(!s.restartRequired());
    QCOMPARE(SettingsController::savedDataFolder(config), QString::fromStdString(dir.string()));
    // Without a config file the data folder is not remembered.
    SettingsController unsaved(&library);
    QCOMPARE(unsaved.dataFolder(), QString::fromStdString(dir.string()));
}

void TestLocalApi::pagesLoadWithoutWarnings() {
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    QObject owner;
    QQmlApplicationEngine qml;
    registerApiAndSettings(qml, m_client.get(), m_library.get(), &owner);
    // What the main window's navigation does: a Loader showing one page at a time.
    qml.loadData(R"(
        import QtQuick
        import QtQuick.Controls
        ApplicationWindow {
            width: 820; height: 700; visible: true
            property alias page: loader.source
            Loader { id: loader; objectName: "pageLoader"; anchors.fill: parent }
        })");
    QCOMPARE(qml.rootObjects().size(), 1);
    auto* window = qobject_cast<QQuickWindow*>(qml.rootObjects().first());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window, 10000));
    auto* api = qobject_cast<LocalApiController*>(
        qml.rootContext()->contextProperty(QStringLiteral("localApi")).value<QObject*>());
    QVERIFY(api);
    api->setPort(freePort());

    window->setProperty("page", QStringLiteral("qrc:/folio/LocalApiPage.qml"));
    QTRY_VERIFY(window->findChild<QQuickItem*>(QStringLiteral("localApiPage")));
    auto* toggle = window->findChild<QQuickItem*>(QStringLiteral("apiSwitch"));
    QVERIFY(toggle);
    QTRY_VERIFY(toggle->isEnabled());
    const QPointF center = toggle->mapToScene(QPointF(toggle->width() / 2, toggle->height() / 2));
    QTest::mouseClick(window, Qt::LeftButton, Qt::NoModifier, center.toPoint());
    QTRY_VERIFY_WITH_TIMEOUT(api->running(), 10000);
    httplib::Client http("127.0.0.1", api->port());
    auto models = http.Get("/v1/models", bearer(api->apiKey()));
    QVERIFY(models && models->status == 200);
    auto* count = window->findChild<QQuickItem*>(QStringLiteral("requestCountLabel"));
    QVERIFY(count);
    QTRY_COMPARE(count->property("text").toString(), QStringLiteral("1"));
    screenshot(window, QStringLiteral("local_api_page.png"));
    QTest::mouseClick(window, Qt::LeftButton, Qt::NoModifier, center.toPoint());
    QTRY_VERIFY_WITH_TIMEOUT(!api->running() && !api->busy(), 10000);

    window->setProperty("page", QStringLiteral("qrc:/folio/SettingsPage.qml"));
    QTRY_VERIFY(window->findChild<QQuickItem*>(QStringLiteral("settingsPage")));
    QTRY_VERIFY(!window->findChild<QQuickItem*>(QStringLiteral("localApiPage")));  // deleteLater
    auto* theme = window->findChild<QQuickItem*>(QStringLiteral("themeCombo"));
    QVERIFY(theme);
    QCOMPARE(theme->property("currentIndex").toInt(), 0);
    screenshot(window, QStringLiteral("settings_page.png"));
}

void TestLocalApi::themeAppliesLive() {
    const fs::path dir = m_scratch / "theme";
    folio::store::Library library(dir);
    QObject owner;
    QQmlApplicationEngine qml;
    SettingsController* settings = registerApiAndSettings(qml, m_client.get(), &library, &owner);
    QVERIFY(settings);
    QCOMPARE(settings->theme(), QStringLiteral("system"));
    qml.loadData(R"(
        import QtQuick
        import QtQuick.Controls
        ApplicationWindow {
            width: 820; height: 700; visible: true
            Loader { anchors.fill: parent; source: "qrc:/folio/SettingsPage.qml" }
        })");
    auto* window = qobject_cast<QQuickWindow*>(qml.rootObjects().value(0));
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window, 10000));
    window->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window, 10000));
    QQuickItem* combo = nullptr;
    QTRY_VERIFY((combo = window->findChild<QQuickItem*>(QStringLiteral("themeCombo"))));
    // What a user sees: the page's background (a bottom corner) and the combo box's face.
    const auto lightness = [&] {
        const QImage image = window->grabWindow();
        const QPointF face = combo->mapToScene(QPointF(combo->width() / 2, 4));
        return std::pair(image.pixelColor(image.width() - 8, image.height() - 8).lightness(),
                         image.pixelColor(face.toPoint()).lightness());
    };

    // By keyboard: focus the combo box, Down twice: System -> Light -> Dark.
    combo->forceActiveFocus(Qt::TabFocusReason);
    QTRY_VERIFY(combo->hasActiveFocus());
    QTest::keyClick(window, Qt::Key_Down);
    QTest::keyClick(window, Qt::Key_Down);
    QTRY_COMPARE(settings->theme(), QStringLiteral("dark"));
    QVERIFY(QGuiApplication::palette().color(QPalette::Window).lightness() < 80);
    QTRY_VERIFY(lightness().first < 80);
    QVERIFY(lightness().second < 100);
    screenshot(window, QStringLiteral("settings_dark.png"));

    QTest::keyClick(window, Qt::Key_Up);
    QTRY_COMPARE(settings->theme(), QStringLiteral("light"));
    QTRY_VERIFY(lightness().first > 200);
    QVERIFY(lightness().second > 200);
    screenshot(window, QStringLiteral("settings_light.png"));

    QTest::keyClick(window, Qt::Key_Up);
    QTRY_COMPARE(settings->theme(), QStringLiteral("system"));
    QCOMPARE(QGuiApplication::palette().resolveMask(), QPalette::ResolveMask{0});  // the platform's

    // The next start (a new controller over the same library) applies the saved theme at once.
    settings->setTheme(QStringLiteral("dark"));
    QGuiApplication::setPalette(QPalette());
    {
        QObject owner2;
        QQmlApplicationEngine qml2;
        registerApiAndSettings(qml2, m_client.get(), &library, &owner2);
        QVERIFY(QGuiApplication::palette().color(QPalette::Window).lightness() < 80);
    }
    settings->setTheme(QStringLiteral("system"));
}

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    TestLocalApi test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_local_api.moc"
