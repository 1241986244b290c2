#include "engine_client.h"

#include <QFileInfo>
#include <algorithm>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <vector>

#include "chat/chat_template.h"
#include "chat_prompt.h"
#include "folio/engine.h"
#include "folio/store.h"

namespace {

// Keeps the reply that streams in saved as it grows: at its first text, then at most once a
// second, so a crash or a kill loses at most the last second of it. Runs on the worker thread
// (the store is thread-safe); a failed save (e.g. the conversation was deleted) is left to
// finishReply to report.
class ReplyCheckpoint {
  public:
    ReplyCheckpoint(folio::store::ConversationStore& store, int64_t conversationId)
        : m_store(store), m_conversationId(conversationId) {}

    void save(const std::string& reply) {
        const auto now = std::chrono::steady_clock::now();
        if (m_failed || (m_id > 0 && now - m_last < std::chrono::seconds(1))) return;
        try {
            if (m_id == 0) {
                m_id = m_store.add_message(m_conversationId, "assistant", reply);
            } else {
                m_store.update_message(m_id, reply);
            }
            m_last = now;
        } catch (const std::exception&) {
            m_failed = true;
        }
    }
    // The saved message's id; 0 when nothing was saved.
    int64_t id() const { return m_id; }

  private:
    folio::store::ConversationStore& m_store;
    int64_t m_conversationId;
    int64_t m_id = 0;
    bool m_failed = false;
    std::chrono::steady_clock::time_point m_last;
};

// replyFinished's stats before anything was generated.
QVariantMap emptyReplyStats(const QString& finishReason, const QString& error) {
    return {{"tokens", 0},
            {"seconds", 0.0},
            {"tokensPerSecond", 0.0},
            {"finishReason", finishReason},
            {"error", error},
            {"messageId", 0}};
}

double secondsBetween(std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b) {
    return b > a ? std::chrono::duration<double>(b - a).count() : 0.0;
}

}  // namespace

EngineClient::EngineClient(std::shared_ptr<folio::store::ConversationStore> store, QObject* parent)
    : QObject(parent), m_store(std::move(store)), m_status(tr("No model loaded")) {}

EngineClient::~EngineClient() {
    stop();
    if (m_worker.joinable()) m_worker.join();
    if (m_loader.joinable()) m_loader.join();
}

void EngineClient::setStatus(const QString& status) {
    m_status = status;
    emit stateChanged();
}

void EngineClient::loadModel(const QString& path) {
    if (m_loading || m_busy) return;
    if (m_loader.joinable()) m_loader.join();
    m_loading = true;
    const QString name = QFileInfo(path).completeBaseName();
    m_status = tr("Loading %1…").arg(name);
    emit stateChanged();
    folio::EngineConfig base;
    base.max_num_seqs = 4;  // one chat at a time (plus the local API); keeps the KV cache small
    if (m_configure) m_configure(base);
    m_loader = std::thread([this, file = path.toStdString(), name, base] {
        std::shared_ptr<folio::Engine> engine;
        std::shared_ptr<const folio::chat::ChatTemplate> tmpl;
        QString error;
        try {
            folio::EngineConfig config = base;
            config.model_path = file;
            engine = folio::Engine::create(config);
            tmpl = std::make_shared<const folio::chat::ChatTemplate>(
                folio::chat::ChatTemplate::for_model(engine->model()));
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
            engine.reset();
        }
        QMetaObject::invokeMethod(
            this,
            [this, engine, tmpl, error, name, path = QString::fromStdString(file)] {
                m_loading = false;
                if (engine) {
                    m_engine = engine;
                    m_template = tmpl;
                    m_modelName = name;
                    m_modelPath = path;
                    m_contextUsed = 0;
                    m_status = name;
                    emit stateChanged();
                    emit modelLoaded(name);
                } else {
                    m_status = tr("Could not load %1: %2").arg(name, error);
                    emit stateChanged();
                    emit loadFailed(error);
                }
            },
            Qt::QueuedConnection);
    });
}

int EngineClient::contextLength() const {
    return m_engine ? static_cast<int>(m_engine->info().max_model_len) : 0;
}

// What a reply's worker thread needs, copied on the GUI thread.
struct EngineClient::ReplyJob {
    qint64 conversationId = 0;
    std::string requestId;
    nlohmann::json messages;  // the stored messages, oldest first
    std::string systemPrompt;
    folio::SamplingParams sampling;
};

bool EngineClient::sendMessage(qint64 conversationId, const QString& text) {
    if (!m_engine || m_busy || m_loading || text.trimmed().isEmpty()) return false;
    qint64 messageId = 0;
    try {
        messageId = m_store->add_message(conversationId, "user", text.toStdString());
    } catch (const std::exception& e) {
        failBeforeReply(conversationId, QString::fromStdString(e.what()));
        return false;
    }
    emit messageSaved(conversationId, messageId, QStringLiteral("user"), text);
    return startReply(conversationId);
}

bool EngineClient::regenerate(qint64 conversationId) {
    if (!m_engine || m_busy || m_loading) return false;
    try {
        const auto messages = m_store->messages(conversationId);
        auto lastUser = std::find_if(messages.rbegin(), messages.rend(),
                                     [](const auto& m) { return m.role == "user"; });
        if (lastUser == messages.rend()) return false;
        if (lastUser != messages.rbegin()) {  // its replies go
            m_store->delete_messages_from(std::prev(lastUser)->id);
            emit messagesRemoved(conversationId);
        }
    } catch (const std::exception& e) {
        failBeforeReply(conversationId, QString::fromStdString(e.what()));
        return false;
    }
    return startReply(conversationId);
}

bool EngineClient::editAndResend(qint64 conversationId, qint64 messageId, const QString& text) {
    if (!m_engine || m_busy || m_loading || text.trimmed().isEmpty()) return false;
    try {
        const auto messages = m_store->messages(conversationId);
        const auto it = std::find_if(messages.begin(), messages.end(),
                                     [&](const auto& m) { return m.id == messageId; });
        if (it == messages.end() || it->role != "user") return false;
        m_store->delete_messages_from(messageId);
    } catch (const std::exception& e) {
        failBeforeReply(conversationId, QString::fromStdString(e.what()));
        return false;
    }
    emit messagesRemoved(conversationId);
    return sendMessage(conversationId, text);
}

std::shared_ptr<EngineClient::ReplyJob> EngineClient::prepareJob(qint64 conversationId) const {
    auto job = std::make_shared<ReplyJob>();
    job->conversationId = conversationId;
    job->messages = nlohmann::json::array();
    const auto conversation = m_store->find_conversation(conversationId);
    if (!conversation) {
        throw folio::store::StoreError("no conversation with id " + std::to_string(conversationId));
    }
    job->systemPrompt = conversation->system_prompt;
    job->sampling = withConversationSampling(m_sampling, conversation->sampling);
    for (const auto& m : m_store->messages(conversationId)) {
        job->messages.push_back({{"role", m.role}, {"content", m.content}});
    }
    return job;
}

void EngineClient::measureConversation(qint64 conversationId) {
    if (!m_engine || m_busy || m_loading) return;
    const int64_t context = m_engine->info().max_model_len;
    int dropped = 0;
    int used = 0;
    if (conversationId > 0) {
        try {
            const auto job = prepareJob(conversationId);
            if (!job->messages.empty()) {
                const FittedChatPrompt prompt =
                    fitChatPrompt(*m_engine, *m_template, job->systemPrompt, job->messages,
                                  chatPromptBudget(context, job->sampling));
                dropped = prompt.dropped;
                used = static_cast<int>(prompt.tokens.size());
            }
        } catch (const ChatPromptTooLong&) {
            used = static_cast<int>(context);  // the next reply will say so
        } catch (const std::exception&) {
            return;  // e.g. deleted meanwhile: nothing to show
        }
    }
    m_contextUsed = used;
    emit contextChanged();
    emit contextTrimmed(conversationId, dropped, static_cast<int>(context));
}

bool EngineClient::startReply(qint64 conversationId) {
    std::shared_ptr<ReplyJob> job;
    try {
        job = prepareJob(conversationId);
    } catch (const std::exception& e) {
        failBeforeReply(conversationId, QString::fromStdString(e.what()));
        return false;
    }
    if (m_worker.joinable()) m_worker.join();
    m_busy = true;
    m_stopRequested = false;
    m_lastError.clear();
    m_requestId = "desktop-" + std::to_string(++m_numRequests);
    job->requestId = m_requestId;
    emit stateChanged();
    emit replyStarted(conversationId);
    m_worker = std::thread(&EngineClient::runReply, this, std::move(job));
    return true;
}

void EngineClient::failBeforeReply(qint64 conversationId, const QString& error) {
    m_lastError = error;
    emit stateChanged();
    emit replyFinished(conversationId, emptyReplyStats(QStringLiteral("error"), error));
}

void EngineClient::stop() {
    if (!m_busy) return;
    m_stopRequested = true;
    if (m_engine) m_engine->abort(m_requestId);
}

// Worker thread: everything it tells the GUI thread goes through queued invocations.
void EngineClient::runReply(std::shared_ptr<ReplyJob> job) {
    const std::shared_ptr<folio::Engine> engine = m_engine;
    const std::shared_ptr<const folio::chat::ChatTemplate> tmpl = m_template;
    const qint64 conversationId = job->conversationId;
    std::string reply;
    ReplyCheckpoint checkpoint(*m_store, conversationId);
    QVariantMap stats = emptyReplyStats(QStringLiteral("abort"), QString());
    const auto post = [this](auto fn) {
        QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection);
    };
    try {
        const int64_t context = engine->info().max_model_len;
        FittedChatPrompt prompt = fitChatPrompt(*engine, *tmpl, job->systemPrompt, job->messages,
                                                chatPromptBudget(context, job->sampling));
        const int promptTokens = static_cast<int>(prompt.tokens.size());
        post([this, conversationId, dropped = prompt.dropped, context, promptTokens] {
            m_contextUsed = promptTokens;
            m_lastTokensPerSecond = 0.0;
            emit contextChanged();
            emit contextTrimmed(conversationId, dropped, static_cast<int>(context));
        });
        folio::RequestSpec spec;
        spec.prompt_tokens = std::move(prompt.tokens);
        spec.request_id = job->requestId;
        spec.sampling = job->sampling;
        if (!m_stopRequested) {
            folio::RequestHandle handle = engine->submit(std::move(spec));
            if (m_stopRequested) handle.abort();  // stop() may have raced the submit
            int generated = 0;
            std::chrono::steady_clock::time_point firstToken;
            while (auto out = handle.next()) {
                for (const auto& c : out->outputs) {
                    if (c.index != 0) continue;
                    generated += static_cast<int>(c.token_ids.size());
                    if (c.text.empty()) continue;
                    reply += c.text;
                    checkpoint.save(reply);
                    const auto now = std::chrono::steady_clock::now();
                    if (firstToken == std::chrono::steady_clock::time_point{}) firstToken = now;
                    const double seconds = secondsBetween(firstToken, now);
                    const double rate = seconds > 0 ? (generated - 1) / seconds : 0.0;
                    post([this, conversationId, delta = QString::fromStdString(c.text),
                          used = promptTokens + generated, rate] {
                        m_contextUsed = used;
                        m_lastTokensPerSecond = rate;
                        emit contextChanged();
                        emit tokenDelta(conversationId, delta);
                    });
                }
                if (!out->finished) continue;
                const auto& m = out->metrics;
                const int64_t tokens = out->usage.completion_tokens;
                const double decode = m.decode_seconds();
                stats["tokens"] = static_cast<qlonglong>(tokens);
                stats["seconds"] = secondsBetween(m.arrival_time, m.finished_time);
                stats["tokensPerSecond"] =
                    tokens > 1 && decode > 0 ? static_cast<double>(tokens - 1) / decode : 0.0;
                stats["contextUsed"] = promptTokens + static_cast<int>(tokens);
                if (!out->outputs.empty() && out->outputs[0].finish_reason) {
                    stats["finishReason"] = QString::fromUtf8(
                        folio::finish_reason_name(*out->outputs[0].finish_reason));
                }
                stats["error"] = QString::fromStdString(out->error);
                if (!out->error.empty()) stats["finishReason"] = QStringLiteral("error");
            }
        }
    } catch (const std::exception& e) {
        stats["finishReason"] = QStringLiteral("error");
        stats["error"] = QString::fromStdString(e.what());
    }
    post([this, conversationId, reply, stats, savedId = checkpoint.id()] {
        finishReply(conversationId, reply, stats, savedId);
    });
}

void EngineClient::finishReply(qint64 conversationId, const std::string& reply, QVariantMap stats,
                               qint64 savedId) {
    if (m_worker.joinable()) m_worker.join();
    if (!reply.empty()) {
        try {
            qint64 id = savedId;
            if (id > 0) {
                m_store->update_message(id, reply);  // the whole reply over the last checkpoint
            } else {
                id = m_store->add_message(conversationId, "assistant", reply);
            }
            stats["messageId"] = id;
            emit messageSaved(conversationId, id, QStringLiteral("assistant"),
                              QString::fromStdString(reply));
        } catch (const std::exception& e) {  // e.g. the conversation was deleted meanwhile
            stats["error"] = QString::fromStdString(e.what());
        }
    }
    m_busy = false;
    m_lastTokensPerSecond = stats.value("tokensPerSecond").toDouble();
    if (stats.contains("contextUsed")) m_contextUsed = stats.value("contextUsed").toInt();
    m_lastError = stats.value("error").toString();
    emit contextChanged();
    emit stateChanged();
    emit replyFinished(conversationId, stats);
}
