#include "desktop_app.h"

#include <QFile>
#include <QFileInfo>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickWindow>
#include <QUrl>
#include <exception>

#include "api_settings_setup.h"
#include "conversation_list_model.h"
#include "conversation_settings.h"
#include "document_processor.h"
#include "downloads_model.h"
#include "engine_client.h"
#include "folio/store.h"
#include "hub_search_model.h"
#include "library_model.h"
#include "message_list_model.h"
#include "quant_choices_model.h"
#include "settings_controller.h"

namespace {

// Why `path` cannot be a model ("" when it looks like a GGUF file).
QString modelFileProblem(const QString& path) {
    const QFileInfo info(path);
    const QString name = info.fileName();
    if (!info.exists()) {
        return DesktopApp::tr("Cannot open %1: there is no such file (%2).").arg(name, path);
    }
    if (!info.isFile()) return DesktopApp::tr("Cannot open %1: it is not a file.").arg(path);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return DesktopApp::tr("Cannot open %1: %2").arg(path, file.errorString());
    }
    if (file.read(4) != QByteArrayLiteral("GGUF")) {
        return DesktopApp::tr("Cannot load %1: it is not a GGUF model file (%2).").arg(name, path);
    }
    return {};
}

}  // namespace

DesktopApp::DesktopApp(DesktopOptions options, QObject* parent)
    : QObject(parent), m_options(std::move(options)) {}

DesktopApp::~DesktopApp() {
    m_qml.reset();  // the window goes before the objects it shows
}

QQuickWindow* DesktopApp::window() const {
    if (!m_qml || m_qml->rootObjects().isEmpty()) return nullptr;
    return qobject_cast<QQuickWindow*>(m_qml->rootObjects().first());
}

QString DesktopApp::dataFolderFor(const DesktopOptions& options) {
    if (!options.dataDir.isEmpty()) return options.dataDir;
    const QString env = qEnvironmentVariable("FOLIO_DATA_DIR");
    if (!env.isEmpty()) return env;
    const QString saved =
        SettingsController::savedDataFolder(SettingsController::defaultConfigFile());
    if (!saved.isEmpty()) return saved;
    return QString::fromStdString(folio::store::Library::default_data_dir().string());
}

bool DesktopApp::start() {
    try {
        const std::filesystem::path dir = dataFolderFor(m_options).toStdString();
        m_library = std::make_shared<folio::store::Library>(dir);
        m_store = std::make_shared<folio::store::ConversationStore>(*m_library);
    } catch (const std::exception& e) {
        m_error = QString::fromStdString(e.what());
        return false;
    }
    m_client = new EngineClient(m_store, this);
    m_conversations = new ConversationListModel(m_store, this);
    m_messages = new MessageListModel(m_store, m_client, this);
    // The selected conversation's own model, system prompt and sampling (Chat page).
    m_chatSettings = new ConversationSettings(m_store, m_library, m_client, this);
    connect(m_conversations, &ConversationListModel::currentChanged, m_chatSettings,
            [this] { m_chatSettings->setConversationId(m_conversations->currentId()); });
    // The opened conversation's context use (and what no longer fits) shows at once.
    connect(m_conversations, &ConversationListModel::currentChanged, m_client,
            [this] { m_client->measureConversation(m_conversations->currentId()); });
    connect(m_client, &EngineClient::modelLoaded, m_client,
            [this] { m_client->measureConversation(m_conversations->currentId()); });
    connect(m_client, &EngineClient::replyFinished, m_chatSettings,
            [this] { m_chatSettings->requestModel(); });
    connect(m_chatSettings, &ConversationSettings::modelWanted, m_client,
            [this](const QString& path) {
                if (!m_client->busy()) m_client->loadModel(path);
            });
    connect(m_client, &EngineClient::messageSaved, m_conversations,
            &ConversationListModel::onMessageSaved);
    connect(m_conversations, &ConversationListModel::currentChanged, m_messages,
            [this] { m_messages->setConversationId(m_conversations->currentId()); });
    m_conversations->select(0);  // the most recent conversation, if any

    const auto hubConfig = folio::hub::HubConfig::from_env();
    m_libraryModel = new LibraryModel(m_library, this);
    m_hubSearch = new HubSearchModel(hubConfig, this);
    m_quants = new QuantChoicesModel(hubConfig, this);
    m_downloads = new DownloadsModel(m_library, hubConfig, {}, this);
    connect(m_downloads, &DownloadsModel::modelAdded, m_libraryModel, &LibraryModel::refresh);

    m_qml = std::make_unique<QQmlApplicationEngine>();
    m_qml->setInitialProperties({{"client", QVariant::fromValue<QObject*>(m_client)},
                                 {"conversations", QVariant::fromValue<QObject*>(m_conversations)},
                                 {"messages", QVariant::fromValue<QObject*>(m_messages)},
                                 {"library", QVariant::fromValue<QObject*>(m_libraryModel)},
                                 {"hubSearch", QVariant::fromValue<QObject*>(m_hubSearch)},
                                 {"quants", QVariant::fromValue<QObject*>(m_quants)},
                                 {"downloads", QVariant::fromValue<QObject*>(m_downloads)}});
    m_settings = registerApiAndSettings(*m_qml, m_client, m_library.get(), this,
                                        SettingsController::defaultConfigFile());
    m_documents = new DocumentProcessor(
        m_client, std::make_shared<folio::store::DocumentStore>(*m_library), this);
    m_qml->rootContext()->setContextProperty(QStringLiteral("documents"), m_documents);
    m_qml->rootContext()->setContextProperty(QStringLiteral("desktop"), this);
    m_qml->rootContext()->setContextProperty(QStringLiteral("conversationSettings"),
                                             m_chatSettings);
    m_qml->load(QUrl(QStringLiteral("qrc:/folio/Main.qml")));
    if (!window()) {
        m_error = tr("the main window could not be created");
        return false;
    }

    // The first model downloaded while none is loaded is loaded at once.
    connect(m_downloads, &DownloadsModel::modelAdded, m_client, [this](const QString& path) {
        if (!m_client->modelReady() && !m_client->loading()) m_client->loadModel(path);
    });
    if (!m_options.modelPath.isEmpty()) {
        const QString path = QFileInfo(m_options.modelPath).absoluteFilePath();
        if (prepareCommandLineModel(path)) m_client->loadModel(path);
        return true;
    }
    const QString model = pickModel();
    if (model.isEmpty()) {
        // First run (or an empty library): lead to the Models page.
        m_client->setStatus(
            tr("No model yet: download one on the Models page (Ctrl+2), or "
               "start folio-desktop with -m MODEL.gguf."));
        window()->setProperty("currentPage", 1);
    } else {
        m_client->loadModel(model);
    }
    return true;
}

QString DesktopApp::openModelFile(const QString& pathOrUrl) {
    const QUrl url(pathOrUrl);
    const QString path = url.isLocalFile() ? url.toLocalFile() : pathOrUrl;
    if (m_client->busy() || m_client->loading()) {
        return tr("Wait for the model that is loading or replying, then try again.");
    }
    if (const QString problem = modelFileProblem(path); !problem.isEmpty()) {
        m_client->setStatus(problem);
        return problem;
    }
    prepareCommandLineModel(path);
    m_client->loadModel(path);
    return {};
}

bool DesktopApp::prepareCommandLineModel(const QString& path) {
    if (const QString problem = modelFileProblem(path); !problem.isEmpty()) {
        m_client->setStatus(problem);
        return false;
    }
    // Joins the library once the engine loaded it (a file it cannot load is not added).
    auto* once = new QObject(this);
    const auto done = [this, once] {
        disconnect(m_client, nullptr, once, nullptr);
        once->deleteLater();
    };
    connect(m_client, &EngineClient::modelLoaded, once, [this, path, done] {
        done();
        addToLibrary(path);
    });
    connect(m_client, &EngineClient::loadFailed, once, done);
    return true;
}

void DesktopApp::addToLibrary(const QString& path) {
    try {
        const std::filesystem::path file = path.toStdString();
        int64_t id = 0;
        if (const auto known = m_library->find_model_by_path(file)) {
            id = known->id;
        } else {
            folio::store::ModelRecord record;  // added by hand: no repo
            record.path = file;
            record.file = file.string();  // unique: two files may share a name
            id = m_library->add_model(record);
        }
        m_library->touch_model(id);
    } catch (const std::exception& e) {
        m_client->setStatus(tr("%1 is loaded but could not be added to the library: %2")
                                .arg(path, QString::fromStdString(e.what())));
    }
    m_libraryModel->refresh();
}

QString DesktopApp::pickModel() {
    try {
        const folio::store::ModelRecord* best = nullptr;
        const auto models = m_library->models();
        // The default model (Models page), else the most recently used one.
        const std::string preferred =
            folio::store::SettingsStore(*m_library).get_or(LibraryModel::kDefaultKey, "");
        for (const auto& m : models) {
            if (!preferred.empty() && m.path.string() == preferred) best = &m;
        }
        for (const auto& m : models) {
            if (best && best->path.string() == preferred) break;
            if (!best || std::tie(m.last_used, m.added) > std::tie(best->last_used, best->added)) {
                best = &m;
            }
        }
        if (!best) return {};
        m_library->touch_model(best->id);
        return QString::fromStdString(best->path.string());
    } catch (const std::exception& e) {
        m_client->setStatus(QString::fromStdString(e.what()));
        return {};
    }
}
