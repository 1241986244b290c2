#include "desktop_app.h"

#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickWindow>
#include <exception>

#include "api_settings_setup.h"
#include "conversation_list_model.h"
#include "document_processor.h"
#include "downloads_model.h"
#include "engine_client.h"
#include "folio/store.h"
#include "hub_search_model.h"
#include "library_model.h"
#include "message_list_model.h"
#include "quant_choices_model.h"

DesktopApp::DesktopApp(DesktopOptions options, QObject* parent)
    : QObject(parent), m_options(std::move(options)) {}

DesktopApp::~DesktopApp() {
    m_qml.reset();  // the window goes before the objects it shows
}

QQuickWindow* DesktopApp::window() const {
    if (!m_qml || m_qml->rootObjects().isEmpty()) return nullptr;
    return qobject_cast<QQuickWindow*>(m_qml->rootObjects().first());
}

bool DesktopApp::start() {
    try {
        const auto dir = m_options.dataDir.isEmpty()
                             ? folio::store::Library::default_data_dir()
                             : std::filesystem::path(m_options.dataDir.toStdString());
        m_library = std::make_shared<folio::store::Library>(dir);
        m_store = std::make_shared<folio::store::ConversationStore>(*m_library);
    } catch (const std::exception& e) {
        m_error = QString::fromStdString(e.what());
        return false;
    }
    m_client = new EngineClient(m_store, this);
    m_conversations = new ConversationListModel(m_store, this);
    m_messages = new MessageListModel(m_store, m_client, this);
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
    registerApiAndSettings(*m_qml, m_client, m_library.get(), this);
    m_documents = new DocumentProcessor(
        m_client, std::make_shared<folio::store::DocumentStore>(*m_library), this);
    m_qml->rootContext()->setContextProperty(QStringLiteral("documents"), m_documents);
    m_qml->load(QUrl(QStringLiteral("qrc:/folio/Main.qml")));
    if (!window()) {
        m_error = tr("the main window could not be created");
        return false;
    }

    // The first model downloaded while none is loaded is loaded at once.
    connect(m_downloads, &DownloadsModel::modelAdded, m_client, [this](const QString& path) {
        if (!m_client->modelReady() && !m_client->loading()) m_client->loadModel(path);
    });
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

QString DesktopApp::pickModel() {
    try {
        if (!m_options.modelPath.isEmpty()) {
            const auto known = m_library->find_model_by_path(m_options.modelPath.toStdString());
            if (known) m_library->touch_model(known->id);
            return m_options.modelPath;
        }
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
