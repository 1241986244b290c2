// The QML pages under Qt Quick Test (tests/ui/qml/tst_*.qml), each loaded from the folio_ui
// resources (qrc:/folio/...) and driven through its controls, with the real C++ objects behind
// it: a temporary data folder holding the library, EngineClient with stories260K, the chat list
// models, the Models page's view models against the fake hub, the Local API and Settings
// controllers, and the DocumentProcessor. Every test file gets its own QQmlEngine; the objects
// are created once and handed to each engine as context properties:
//   client, conversations, messages                 (ChatPage's required properties)
//   library, hubSearch, quants, downloads           (ModelsPage's required properties)
//   localApi, settings, documents                   (what the other pages use, as in the app)
//   testSupport                                     (QmlTestSupport below: files, ports, reads)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQmlEngine>
#include <QQuickStyle>
#include <QTemporaryDir>
#include <QVariant>
#include <QtQuickTest>
#include <memory>
#include <vector>

#include "api_settings_setup.h"
#include "conversation_list_model.h"
#include "document_processor.h"
#include "downloads_model.h"
#include "engine_client.h"
#include "fake_hub.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "hub_search_model.h"
#include "library_model.h"
#include "message_list_model.h"
#include "quant_choices_model.h"
#include "settings_controller.h"
#include "shared_data.h"

namespace {

// The fake hub's repos (as in test_models_page.cpp): micro-llama in four quantizations, with
// 32,000,000 bytes "available" F16 is tight and the others fit.
constexpr const char* kRepo = "acme/micro-llama-GGUF";
constexpr const char* kMemory = "32000000";

}  // namespace

// What the test QML needs beyond the pages' own objects. GUI thread.
class QmlTestSupport : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString dataDir READ dataDir CONSTANT)
    Q_PROPERTY(QString hubRepo READ hubRepo CONSTANT)

  public:
    QmlTestSupport(QString dataDir, QString configFile, folio::store::Library* library,
                   std::shared_ptr<folio::store::ConversationStore> store,
                   QObject* parent = nullptr)
        : QObject(parent),
          m_dataDir(std::move(dataDir)),
          m_configFile(std::move(configFile)),
          m_library(library),
          m_store(std::move(store)) {}

    QString dataDir() const { return m_dataDir; }
    static QString hubRepo() { return QString::fromLatin1(kRepo); }

    // Writes `content` to <data folder>/<name>; the file's absolute path ("" on failure).
    Q_INVOKABLE QString writeTextFile(const QString& name, const QString& content) const {
        const QString path = QDir(m_dataDir).filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
        file.write(content.toUtf8());
        return path;
    }

    // A TCP port on 127.0.0.1 that was free a moment ago (0 when none could be bound).
    Q_INVOKABLE int freePort() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return 0;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        int port = 0;
        socklen_t len = sizeof(addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            port = ntohs(addr.sin_port);
        }
        ::close(fd);
        return port;
    }

    // A SettingsController property as a fresh controller reads it back (library and config
    // file): what was persisted, not what the page's controller holds.
    Q_INVOKABLE QVariant persistedSetting(const QString& property) const {
        const SettingsController fresh(m_library, m_configFile);
        return fresh.property(property.toUtf8().constData());
    }

    // The whole file as text ("" when it cannot be read).
    Q_INVOKABLE QString readTextFile(const QString& path) const {
        QFile file(path);
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }

    // The messages stored for a conversation: [{role, content}], oldest first.
    Q_INVOKABLE QVariantList savedMessages(qint64 conversationId) const {
        QVariantList out;
        for (const auto& m : m_store->messages(conversationId)) {
            out.append(QVariantMap{{QStringLiteral("role"), QString::fromStdString(m.role)},
                                   {QStringLiteral("content"), QString::fromStdString(m.content)}});
        }
        return out;
    }

  private:
    QString m_dataDir;
    QString m_configFile;
    folio::store::Library* m_library;
    std::shared_ptr<folio::store::ConversationStore> m_store;
};

// Quick Test's setup object: builds the objects once the QGuiApplication exists, hands them to
// each test file's engine, and destroys them before the application goes.
class QmlPagesSetup : public QObject {
    Q_OBJECT

  public slots:
    void applicationAvailable();
    void qmlEngineAvailable(QQmlEngine* engine);
    void cleanupTestCase();

  private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<folio::test::FakeHub> m_hub;
    std::unique_ptr<QQmlApplicationEngine> m_apiEngine;
    std::shared_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::ConversationStore> m_store;
    // Every QObject below, deleted in reverse order of creation (the client last).
    std::vector<QObject*> m_objects;
    EngineClient* m_client = nullptr;
    QVariantMap m_properties;
};

void QmlPagesSetup::applicationAvailable() {
    QQuickStyle::setStyle(QStringLiteral("Fusion"));  // as folio-desktop's main() does
    qputenv("FOLIO_MEM_AVAILABLE", kMemory);  // the quantizations' fit does not depend on the host
    m_dir =
        std::make_unique<QTemporaryDir>(QDir::temp().filePath(QStringLiteral("folio-qml-XXXXXX")));
    if (!m_dir->isValid()) qFatal("no temporary folder: %s", qPrintable(m_dir->errorString()));

    m_hub = std::make_unique<folio::test::FakeHub>();
    folio::test::FakeHub::RepoMeta meta;
    meta.downloads = 4321;
    meta.likes = 12;
    m_hub->add_repo(kRepo, meta);
    for (const char* q : {"Q2_K", "Q4_K_M", "Q8_0", "F16"}) {
        m_hub->add_shared_model(kRepo, std::string("micro-llama-") + q + ".gguf");
    }
    folio::test::FakeHub::RepoMeta other;
    other.downloads = 99;
    m_hub->add_repo("someone/Micro-Chat-GGUF", other);
    m_hub->add_shared_model("someone/other-thing", "stories260K.gguf");
    folio::hub::HubConfig hub;
    hub.endpoint = m_hub->endpoint();

    const QString configFile = m_dir->filePath(QStringLiteral("folio-desktop.conf"));
    m_library = std::make_shared<folio::store::Library>(m_dir->path().toStdString());
    m_store = std::make_shared<folio::store::ConversationStore>(*m_library);
    const auto own = [this](auto* object) {
        m_objects.push_back(object);
        return object;
    };

    // Chat, wired as DesktopApp does.
    m_client = own(new EngineClient(m_store));
    auto* conversations = own(new ConversationListModel(m_store));
    auto* messages = own(new MessageListModel(m_store, m_client));
    QObject::connect(m_client, &EngineClient::messageSaved, conversations,
                     &ConversationListModel::onMessageSaved);
    QObject::connect(
        conversations, &ConversationListModel::currentChanged, messages,
        [conversations, messages] { messages->setConversationId(conversations->currentId()); });

    // Models page.
    auto* library = own(new LibraryModel(m_library));
    auto* hubSearch = own(new HubSearchModel(hub));
    auto* quants = own(new QuantChoicesModel(hub));
    auto* downloads = own(new DownloadsModel(m_library, hub, {}));
    QObject::connect(downloads, &DownloadsModel::modelAdded, library, &LibraryModel::refresh);

    // Local API and Settings, registered as folio-desktop does. registerApiAndSettings() puts
    // them into a QQmlApplicationEngine of its own; each test file's engine gets them from there.
    auto* apiParent = own(new QObject);
    m_apiEngine = std::make_unique<QQmlApplicationEngine>();
    auto* settings =
        registerApiAndSettings(*m_apiEngine, m_client, m_library.get(), apiParent, configFile);
    auto* localApi =
        m_apiEngine->rootContext()->contextProperty(QStringLiteral("localApi")).value<QObject*>();
    if (!settings || !localApi) qFatal("registerApiAndSettings() registered no controllers");

    // Documents page.
    auto* documents = own(
        new DocumentProcessor(m_client, std::make_shared<folio::store::DocumentStore>(*m_library)));
    documents->setAnswerTokens(48);

    auto* support = own(new QmlTestSupport(m_dir->path(), configFile, m_library.get(), m_store));

    m_properties = {{QStringLiteral("client"), QVariant::fromValue<QObject*>(m_client)},
                    {QStringLiteral("conversations"), QVariant::fromValue<QObject*>(conversations)},
                    {QStringLiteral("messages"), QVariant::fromValue<QObject*>(messages)},
                    {QStringLiteral("library"), QVariant::fromValue<QObject*>(library)},
                    {QStringLiteral("hubSearch"), QVariant::fromValue<QObject*>(hubSearch)},
                    {QStringLiteral("quants"), QVariant::fromValue<QObject*>(quants)},
                    {QStringLiteral("downloads"), QVariant::fromValue<QObject*>(downloads)},
                    {QStringLiteral("localApi"), QVariant::fromValue<QObject*>(localApi)},
                    {QStringLiteral("settings"), QVariant::fromValue<QObject*>(settings)},
                    {QStringLiteral("documents"), QVariant::fromValue<QObject*>(documents)},
                    {QStringLiteral("testSupport"), QVariant::fromValue<QObject*>(support)}};

    // Loads off the GUI thread while the first test file starts; tests wait for modelReady.
    m_client->loadModel(
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string()));
}

void QmlPagesSetup::qmlEngineAvailable(QQmlEngine* engine) {
    for (auto it = m_properties.cbegin(); it != m_properties.cend(); ++it) {
        QQmlEngine::setObjectOwnership(it.value().value<QObject*>(), QQmlEngine::CppOwnership);
        engine->rootContext()->setContextProperty(it.key(), it.value());
    }
}

void QmlPagesSetup::cleanupTestCase() {
    m_properties.clear();
    // The processor, controllers and client join their threads here.
    for (auto it = m_objects.rbegin(); it != m_objects.rend(); ++it) delete *it;
    m_objects.clear();
    m_apiEngine.reset();
    m_store.reset();
    m_library.reset();
    m_hub.reset();
    m_dir.reset();
}

QUICK_TEST_MAIN_WITH_SETUP(test_qml_pages, QmlPagesSetup)

#include "test_qml_pages.moc"
