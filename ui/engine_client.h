#pragma once
// EngineClient: the one place where the engine (folio::Engine) and Qt meet.
//
// Lives on the GUI thread; never blocks it. loadModel() loads on a thread of its own; each reply
// runs on a worker thread that renders the conversation with the model's chat template (a plain
// one for models without), submits it and forwards the engine's deltas as queued signals.
// Messages are saved to the ConversationStore: the user's when sent; the assistant's as it
// streams (at its first text, then about once a second, so a crash loses at most a second of
// it) and whole just before replyFinished (also a partial one after stop()).
//
// Signals for one reply, in order: messageSaved(user), replyStarted, contextTrimmed,
// tokenDelta..., then messageSaved(assistant) unless it is empty, then replyFinished. Errors
// arrive as signals (loadFailed, replyFinished with stats["error"]) and in lastError, never as
// exceptions. regenerate() and editAndResend() first delete the messages they replace
// (messagesRemoved), then run like sendMessage.
//
// Each reply uses its conversation's system prompt and sampling overrides (ConversationStore)
// over the app's sampling, and fits the conversation into the context (chat_prompt.h): the
// oldest turns left out are reported with contextTrimmed.
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
    // Decode speed of the reply streaming now (live), else of the last one.
    Q_PROPERTY(double lastTokensPerSecond READ lastTokensPerSecond NOTIFY contextChanged)
    Q_PROPERTY(QString modelPath READ modelPath NOTIFY stateChanged)
    // The loaded engine's context in tokens (0 without a model).
    Q_PROPERTY(int contextLength READ contextLength NOTIFY stateChanged)
    // Tokens of the current (or last) reply's conversation in the context: prompt + generated.
    Q_PROPERTY(int contextUsed READ contextUsed NOTIFY contextChanged)
    // Why the last reply failed ("" when it did not).
    Q_PROPERTY(QString lastError READ lastError NOTIFY stateChanged)

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
    QString modelPath() const { return m_modelPath; }
    int contextLength() const;
    int contextUsed() const { return m_contextUsed; }
    QString lastError() const { return m_lastError; }
    // The app's sampling (before a conversation's overrides).
    const folio::SamplingParams& sampling() const { return m_sampling; }
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
    // Replaces the conversation's last reply with a new one (or answers its last user message
    // when the reply is missing). False without a model, while busy, or with no user message.
    bool regenerate(qint64 conversationId);
    // Replaces the user message `messageId` with `text`, deletes everything after it, and
    // answers. False (nothing changed) without a model, while busy, for empty text, or when
    // messageId is not a user message of the conversation.
    bool editAndResend(qint64 conversationId, qint64 messageId, const QString& text);
    // Measures how much of the context the conversation's next prompt takes (contextUsed) and
    // what would be left out (contextTrimmed), as when a conversation is opened. Does nothing
    // without a model or while a reply runs. Runs on the GUI thread (tokenizing is fast).
    void measureConversation(qint64 conversationId);
    // Aborts the reply in flight, if any; its replyFinished says finishReason "abort".
    void stop();

  signals:
    void stateChanged();
    void modelLoaded(const QString& modelName);
    void loadFailed(const QString& message);
    void messageSaved(qint64 conversationId, qint64 messageId, const QString& role,
                      const QString& content);
    void replyStarted(qint64 conversationId);
    // Messages of the conversation were deleted (regenerate, edit and resend): reload it.
    void messagesRemoved(qint64 conversationId);
    // The reply's prompt left out the `dropped` oldest messages of the conversation (0: it all
    // fits in the context of contextLength tokens).
    void contextTrimmed(qint64 conversationId, int dropped, int contextLength);
    void contextChanged();
    void tokenDelta(qint64 conversationId, const QString& text);
    // stats: tokens (int), seconds, tokensPerSecond (decode rate), finishReason ("stop",
    // "length", "abort", "error"), error (message or ""), messageId (0 when nothing was saved).
    void replyFinished(qint64 conversationId, const QVariantMap& stats);

  private:
    struct ReplyJob;
    // Starts the reply to the conversation's stored messages (on the worker thread).
    bool startReply(qint64 conversationId);
    // The conversation's messages, system prompt and sampling from the store; throws StoreError.
    std::shared_ptr<ReplyJob> prepareJob(qint64 conversationId) const;
    void runReply(std::shared_ptr<ReplyJob> job);
    // savedId: the message the worker's checkpoints saved the reply to (0: none yet).
    void finishReply(qint64 conversationId, const std::string& reply, QVariantMap stats,
                     qint64 savedId);
    void failBeforeReply(qint64 conversationId, const QString& error);

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
    QString m_modelPath;
    QString m_status;
    QString m_lastError;
    double m_lastTokensPerSecond = 0.0;
    int m_contextUsed = 0;
    std::function<void(folio::EngineConfig&)> m_configure;
    folio::SamplingParams m_sampling = defaultSampling();

    static folio::SamplingParams defaultSampling() {
        folio::SamplingParams p;
        p.temperature = 0.8f;
        p.top_p = 0.95f;
        return p;
    }
};
