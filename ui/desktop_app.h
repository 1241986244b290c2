#pragma once
// DesktopApp: folio-desktop's parts put together — the library in the data folder, the
// EngineClient, the chat's list models, the Models page's view models and the QML main window.
// main() and the UI tests use it.
#include <QObject>
#include <QString>
#include <memory>

class QQmlApplicationEngine;
class QQuickWindow;
class EngineClient;
class ConversationListModel;
class MessageListModel;
class LibraryModel;
class HubSearchModel;
class QuantChoicesModel;
class DownloadsModel;
class DocumentProcessor;
namespace folio::store {
class Library;
class ConversationStore;
}  // namespace folio::store

struct DesktopOptions {
    QString modelPath;  // empty: the library's most recently used model
    QString dataDir;    // empty: folio::store::Library::default_data_dir()
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

    QQuickWindow* window() const;
    EngineClient* client() const { return m_client; }
    ConversationListModel* conversations() const { return m_conversations; }
    MessageListModel* messages() const { return m_messages; }
    LibraryModel* library() const { return m_libraryModel; }
    HubSearchModel* hubSearch() const { return m_hubSearch; }
    QuantChoicesModel* quants() const { return m_quants; }
    DownloadsModel* downloads() const { return m_downloads; }
    DocumentProcessor* documents() const { return m_documents; }

  private:
    QString pickModel();

    DesktopOptions m_options;
    QString m_error;
    std::shared_ptr<folio::store::Library> m_library;  // shared with worker threads
    std::shared_ptr<folio::store::ConversationStore> m_store;
    EngineClient* m_client = nullptr;
    ConversationListModel* m_conversations = nullptr;
    MessageListModel* m_messages = nullptr;
    LibraryModel* m_libraryModel = nullptr;  // the Models page's view models
    HubSearchModel* m_hubSearch = nullptr;
    QuantChoicesModel* m_quants = nullptr;
    DownloadsModel* m_downloads = nullptr;
    DocumentProcessor* m_documents = nullptr;  // the Documents page
    std::unique_ptr<QQmlApplicationEngine> m_qml;
};
