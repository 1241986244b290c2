#pragma once
// DesktopApp: folio-desktop's parts put together — the library in the data folder, the
// EngineClient, the chat's list models, the Models page's view models and the QML main window.
// main() and the UI tests use it.
//
// The data folder: DesktopOptions::dataDir (--data-dir), else $FOLIO_DATA_DIR, else the folder
// chosen on the Settings page (remembered in the config file), else
// folio::store::Library::default_data_dir(). A model given with -m joins the library (a file
// added by hand: no repo) once it loaded, so the Models page lists it and the next start picks
// it; a file that is missing or not a GGUF model is reported in the status and not added.
#include <QObject>
#include <QString>
#include <memory>

class QQmlApplicationEngine;
class QQuickWindow;
class EngineClient;
class ConversationListModel;
class MessageListModel;
class ConversationSettings;
class LibraryModel;
class HubSearchModel;
class QuantChoicesModel;
class DownloadsModel;
class DocumentProcessor;
class SettingsController;
namespace folio::store {
class Library;
class ConversationStore;
}  // namespace folio::store

// The config file (the remembered data folder) is SettingsController::defaultConfigFile():
// tests point $FOLIO_DESKTOP_CONFIG at a scratch file.
struct DesktopOptions {
    QString modelPath;  // empty: the library's default or most recently used model
    QString dataDir;    // empty: see dataFolderFor()
};

class DesktopApp : public QObject {
    Q_OBJECT

  public:
    explicit DesktopApp(DesktopOptions options, QObject* parent = nullptr);
    ~DesktopApp() override;

    // Opens the library, shows the window and starts loading the model (if there is one).
    // False, with errorString(), when the library or the window cannot be opened.
    bool start();
    QString errorString() const { return m_error; }

    // The data folder a start with these options opens (see above).
    static QString dataFolderFor(const DesktopOptions& options);

    // A GGUF file the user picked (path or file:// URL): loaded, and added to the library once
    // it loads. Returns "" when loading started, else why not (the status line says it too).
    Q_INVOKABLE QString openModelFile(const QString& pathOrUrl);

    QQuickWindow* window() const;
    EngineClient* client() const { return m_client; }
    ConversationListModel* conversations() const { return m_conversations; }
    MessageListModel* messages() const { return m_messages; }
    ConversationSettings* chatSettings() const { return m_chatSettings; }
    LibraryModel* library() const { return m_libraryModel; }
    HubSearchModel* hubSearch() const { return m_hubSearch; }
    QuantChoicesModel* quants() const { return m_quants; }
    DownloadsModel* downloads() const { return m_downloads; }
    DocumentProcessor* documents() const { return m_documents; }
    SettingsController* settings() const { return m_settings; }

  private:
    QString pickModel();
    // Adds the -m model to the library once it loaded (or says why it cannot be loaded).
    bool prepareCommandLineModel(const QString& path);
    void addToLibrary(const QString& path);

    DesktopOptions m_options;
    QString m_error;
    std::shared_ptr<folio::store::Library> m_library;  // shared with worker threads
    std::shared_ptr<folio::store::ConversationStore> m_store;
    EngineClient* m_client = nullptr;
    ConversationListModel* m_conversations = nullptr;
    MessageListModel* m_messages = nullptr;
    ConversationSettings* m_chatSettings = nullptr;
    LibraryModel* m_libraryModel = nullptr;  // the Models page's view models
    HubSearchModel* m_hubSearch = nullptr;
    QuantChoicesModel* m_quants = nullptr;
    DownloadsModel* m_downloads = nullptr;
    DocumentProcessor* m_documents = nullptr;  // the Documents page
    SettingsController* m_settings = nullptr;
    std::unique_ptr<QQmlApplicationEngine> m_qml;
};
