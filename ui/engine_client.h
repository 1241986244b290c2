#pragma once
// EngineClient: the one place where the engine (folio::Engine) and Qt meet.
//
// Lives on the GUI thread; never blocks it. loadModel() loads on a thread of its own; each reply
// runs on a worker thread that renders the conversation with the model's chat template (a plain
// one for models without), submits it and forwards the engine's deltas as queued signals.
// Messages are saved to the ConversationStore: the user's when sent, the assistant's (also a
// partial one after stop()) just before replyFinished.
//
// Signals for one reply, in order: messageSaved(user), replyStarted, tokenDelta..., then
// messageSaved(assistant) unless it is empty, then replyFinished. Errors arrive as signals
// (loadFailed, replyFinished with stats["error"]), never as exceptions.
#include <QObject>
#include <QString>
#include <QVariantMap>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "folio/engine.h"
#include "folio/sampling_params.h"

namespace folio {
class Engine;
namespace store {
class ConversationStore;
}
namespace chat {
class ChatTemplate;
}
}  // namespace folio

class EngineClient : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool modelReady READ modelReady NOTIFY stateChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY stateChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY stateChanged)
    Q_PROPERTY(QString modelName READ modelName NOTIFY stateChanged)
    // One line for the window: what is loaded, loading, or why nothing is.
    Q_PROPERTY(QString status READ status NOTIFY stateChanged)
    Q_PROPERTY(double lastTokensPerSecond READ lastTokensPerSecond NOTIFY stateChanged)

  public:
    // The store must outlive nothing: it is shared with the worker threads.
    explicit EngineClient(std::shared_ptr<folio::store::ConversationStore> store,
                          QObject* parent = nullptr);
    // Stops the reply in flight and waits for the worker threads.
    ~EngineClient() override;

    bool modelReady() const { return m_engine != nullptr; }
    bool loading() const { return m_loading; }
    bool busy() const { return m_busy; }
    QString modelName() const { return m_modelName; }
    QString status() const { return m_status; }
    double lastTokensPerSecond() const { return m_lastTokensPerSecond; }
    // The loaded engine (null until modelLoaded); shared with the local API server.
    std::shared_ptr<folio::Engine> engine() const { return m_engine; }

    // Sets the status line shown while no model is loaded (e.g. why none was given).
    void setStatus(const QString& status);
    // Called on the GUI thread by each loadModel() to fill in the engine settings (threads,
    // context, KV memory) before the model loads.
    void setEngineConfigurator(std::function<void(folio::EngineConfig&)> configure) {
        m_configure = std::move(configure);
    }
    // Sampling for the next replies (temperature, top_p, max_tokens).
    void setSampling(const folio::SamplingParams& sampling) { m_sampling = sampling; }

  public slots:
    // Starts loading (ignored while loading or replying); modelLoaded or loadFailed follows.
    void loadModel(const QString& path);
    // Saves `text` as the user's message of the conversation and starts the reply. Returns false
    // (and does nothing) without a model, while another reply runs, or for empty text.
    bool sendMessage(qint64 conversationId, const QString& text);
    // Aborts the reply in flight, if any; its replyFinished says finishReason "abort".
    void stop();

  signals:
    void stateChanged();
    void modelLoaded(const QString& modelName);
    void loadFailed(const QString& message);
    void messageSaved(qint64 conversationId, qint64 messageId, const QString& role,
                      const QString& content);
    void replyStarted(qint64 conversationId);
    void tokenDelta(qint64 conversationId, const QString& text);
    // stats: tokens (int), seconds, tokensPerSecond (decode rate), finishReason ("stop",
    // "length", "abort", "error"), error (message or ""), messageId (0 when nothing was saved).
    void replyFinished(qint64 conversationId, const QVariantMap& stats);

  private:
    void runReply(qint64 conversationId, std::string requestId, std::string history,
                  folio::SamplingParams sampling);
    void finishReply(qint64 conversationId, const std::string& reply, QVariantMap stats);

    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::shared_ptr<folio::Engine> m_engine;
    std::shared_ptr<const folio::chat::ChatTemplate> m_template;
    std::thread m_loader;
    std::thread m_worker;
    std::atomic<bool> m_stopRequested{false};
    std::string m_requestId;
    int m_numRequests = 0;
    bool m_loading = false;
    bool m_busy = false;
    QString m_modelName;
    QString m_status;
    double m_lastTokensPerSecond = 0.0;
    std::function<void(folio::EngineConfig&)> m_configure;
    folio::SamplingParams m_sampling = defaultSampling();

    static folio::SamplingParams defaultSampling() {
        folio::SamplingParams p;
        p.temperature = 0.8f;
        p.top_p = 0.95f;
        return p;
    }
};
