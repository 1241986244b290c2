#pragma once
// LocalApiController: the desktop's "local API" switch. Runs folio::server::Server in-process on
// 127.0.0.1 over the EngineClient's engine, so IDE plugins can use the loaded model.
//
// Lives on the GUI thread and never blocks it: start() binds on a worker thread, stop() drains
// there (running requests may finish for a few seconds); runningChanged / lastErrorChanged report
// the outcome. requestCount and tokensPerSecond are polled by a QTimer while running. Port, key
// and origins apply at the next start; with a Library they are remembered in its settings table.
// When the app loads another model while the API runs, the API restarts on it (requests in
// flight get the usual grace), so it never serves a model the window no longer shows.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <atomic>
#include <memory>
#include <thread>

class EngineClient;
namespace folio {
class Engine;
namespace server {
class Server;
}
namespace store {
class Library;
class SettingsStore;
}  // namespace store
}  // namespace folio

class LocalApiController : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool running READ running NOTIFY runningChanged)
    // Starting or stopping (a worker thread is at it).
    Q_PROPERTY(bool busy READ busy NOTIFY runningChanged)
    // A model is loaded and nothing is in flight; startBlockedReason says why not otherwise.
    Q_PROPERTY(bool canStart READ canStart NOTIFY canStartChanged)
    Q_PROPERTY(QString startBlockedReason READ startBlockedReason NOTIFY canStartChanged)
    Q_PROPERTY(int port READ port WRITE setPort NOTIFY portChanged)
    Q_PROPERTY(QString apiKey READ apiKey WRITE setApiKey NOTIFY apiKeyChanged)
    Q_PROPERTY(QStringList allowedOrigins READ allowedOrigins WRITE setAllowedOrigins NOTIFY
                   allowedOriginsChanged)
    Q_PROPERTY(qint64 requestCount READ requestCount NOTIFY statsChanged)
    Q_PROPERTY(double tokensPerSecond READ tokensPerSecond NOTIFY statsChanged)
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
    Q_PROPERTY(QString baseUrl READ baseUrl NOTIFY snippetChanged)
    Q_PROPERTY(QString snippet READ snippet NOTIFY snippetChanged)

  public:
    // `client` and `library` (may be null: nothing is remembered) must outlive this object.
    LocalApiController(EngineClient* client, folio::store::Library* library,
                       QObject* parent = nullptr);
    // Stops the server at once (running requests are aborted) after joining the worker.
    ~LocalApiController() override;

    bool running() const { return m_running; }
    bool busy() const { return m_busy; }
    bool canStart() const;
    QString startBlockedReason() const;
    int port() const { return m_port; }
    void setPort(int port);
    QString apiKey() const { return m_apiKey; }
    void setApiKey(const QString& key);
    QStringList allowedOrigins() const { return m_allowedOrigins; }
    void setAllowedOrigins(const QStringList& origins);
    qint64 requestCount() const { return m_requestCount; }
    double tokensPerSecond() const { return m_tokensPerSecond; }
    QString lastError() const { return m_lastError; }
    QString baseUrl() const;
    QString snippet() const;
    // The model id clients send (the loaded model's name; "model" before one is loaded).
    QString modelId() const;

    static QString newApiKey();  // "folio-" + 32 random bytes as base64url

  public slots:
    // Ignored unless canStart. runningChanged follows (running, or lastError set).
    void start();
    // Drains on a worker: new requests get 503, running ones get `graceMs` to finish.
    void stop(int graceMs = 3000);
    // Replaces the key with a new random one (used from the next start).
    void generateApiKey();
    void copySnippet();
    // Polls requestCount and tokensPerSecond (the timer calls it; tests may too).
    void refreshStats();
    // Restarts a running API on the model EngineClient has loaded now (the old engine is let
    // go); while starting or stopping, once that is over.
    void followLoadedModel();

  signals:
    void runningChanged();
    void canStartChanged();
    void portChanged();
    void apiKeyChanged();
    void allowedOriginsChanged();
    void statsChanged();
    void lastErrorChanged();
    void snippetChanged();

  private:
    void setLastError(const QString& error);
    void joinWorker();
    void save(const char* key, const QString& value);

    EngineClient* m_client;
    std::unique_ptr<folio::store::SettingsStore> m_settings;
    std::shared_ptr<folio::server::Server> m_server;
    std::shared_ptr<folio::Engine> m_servedEngine;
    std::shared_ptr<std::atomic<qint64>> m_requests;
    std::thread m_worker;
    QTimer m_statsTimer;
    bool m_running = false;
    bool m_busy = false;
    bool m_restartPending = false;  // start again once the stop in flight is over
    int m_port = 8080;
    QString m_apiKey;
    QStringList m_allowedOrigins;
    qint64 m_requestCount = 0;
    double m_tokensPerSecond = 0.0;
    QString m_lastError;
};
