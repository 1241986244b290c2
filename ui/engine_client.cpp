#include "engine_client.h"

#include <QFileInfo>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <vector>

#include "chat/chat_template.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

namespace {

// The rendered prompt as tokens. Control-token text in it (from the template) becomes control
// tokens; BOS is added as the vocabulary asks unless the template already printed it.
std::vector<int32_t> chatPromptTokens(const folio::Engine& engine,
                                      const folio::chat::ChatTemplate& tmpl,
                                      const nlohmann::json& messages) {
    const folio::Vocab& vocab = engine.model().vocab();
    const std::string text =
        tmpl.render(messages, folio::chat::RenderOptions::for_model(engine.model()));
    bool templateHasBos = false;
    if (vocab.bos() != folio::kNoToken) {
        const std::string_view bosText = vocab.token_text(vocab.bos());
        templateHasBos = !bosText.empty() && std::string_view(text).starts_with(bosText);
    }
    std::vector<int32_t> tokens = vocab.tokenize(text, /*add_special=*/false, true);
    if (vocab.add_bos() && vocab.bos() != folio::kNoToken && !templateHasBos) {
        tokens.insert(tokens.begin(), vocab.bos());
    }
    return tokens;
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
            [this, engine, tmpl, error, name] {
                m_loading = false;
                if (engine) {
                    m_engine = engine;
                    m_template = tmpl;
                    m_modelName = name;
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

bool EngineClient::sendMessage(qint64 conversationId, const QString& text) {
    if (!m_engine || m_busy || m_loading || text.trimmed().isEmpty()) return false;
    nlohmann::json history = nlohmann::json::array();
    qint64 messageId = 0;
    try {
        for (const auto& m : m_store->messages(conversationId)) {
            history.push_back({{"role", m.role}, {"content", m.content}});
        }
        messageId = m_store->add_message(conversationId, "user", text.toStdString());
    } catch (const std::exception& e) {
        emit replyFinished(conversationId, {{"tokens", 0},
                                            {"seconds", 0.0},
                                            {"tokensPerSecond", 0.0},
                                            {"finishReason", QStringLiteral("error")},
                                            {"error", QString::fromStdString(e.what())},
                                            {"messageId", 0}});
        return false;
    }
    history.push_back({{"role", "user"}, {"content", text.toStdString()}});
    emit messageSaved(conversationId, messageId, QStringLiteral("user"), text);

    if (m_worker.joinable()) m_worker.join();
    m_busy = true;
    m_stopRequested = false;
    m_requestId = "desktop-" + std::to_string(++m_numRequests);
    emit stateChanged();
    emit replyStarted(conversationId);
    m_worker = std::thread(&EngineClient::runReply, this, conversationId, m_requestId,
                           history.dump(), m_sampling);
    return true;
}

void EngineClient::stop() {
    if (!m_busy) return;
    m_stopRequested = true;
    if (m_engine) m_engine->abort(m_requestId);
}

// Worker thread: everything it tells the GUI thread goes through queued invocations.
void EngineClient::runReply(qint64 conversationId, std::string requestId, std::string history,
                            folio::SamplingParams sampling) {
    const std::shared_ptr<folio::Engine> engine = m_engine;
    const std::shared_ptr<const folio::chat::ChatTemplate> tmpl = m_template;
    std::string reply;
    QVariantMap stats{{"tokens", 0},
                      {"seconds", 0.0},
                      {"tokensPerSecond", 0.0},
                      {"finishReason", QStringLiteral("abort")},
                      {"error", QString()},
                      {"messageId", 0}};
    try {
        folio::RequestSpec spec;
        spec.prompt_tokens = chatPromptTokens(*engine, *tmpl, nlohmann::json::parse(history));
        spec.request_id = requestId;
        spec.sampling = sampling;
        if (!m_stopRequested) {
            folio::RequestHandle handle = engine->submit(std::move(spec));
            if (m_stopRequested) handle.abort();  // stop() may have raced the submit
            while (auto out = handle.next()) {
                for (const auto& c : out->outputs) {
                    if (c.index != 0 || c.text.empty()) continue;
                    reply += c.text;
                    QMetaObject::invokeMethod(
                        this,
                        [this, conversationId, delta = QString::fromStdString(c.text)] {
                            emit tokenDelta(conversationId, delta);
                        },
                        Qt::QueuedConnection);
                }
                if (!out->finished) continue;
                const auto& m = out->metrics;
                const int64_t tokens = out->usage.completion_tokens;
                const double decode = m.decode_seconds();
                stats["tokens"] = static_cast<qlonglong>(tokens);
                stats["seconds"] = secondsBetween(m.arrival_time, m.finished_time);
                stats["tokensPerSecond"] =
                    tokens > 1 && decode > 0 ? static_cast<double>(tokens - 1) / decode : 0.0;
                if (!out->outputs.empty() && out->outputs[0].finish_reason) {
                    stats["finishReason"] = QString::fromUtf8(
                        folio::finish_reason_name(*out->outputs[0].finish_reason));
                }
                stats["error"] = QString::fromStdString(out->error);
            }
        }
    } catch (const std::exception& e) {
        stats["finishReason"] = QStringLiteral("error");
        stats["error"] = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(
        this, [this, conversationId, reply, stats] { finishReply(conversationId, reply, stats); },
        Qt::QueuedConnection);
}

void EngineClient::finishReply(qint64 conversationId, const std::string& reply, QVariantMap stats) {
    if (m_worker.joinable()) m_worker.join();
    if (!reply.empty()) {
        try {
            const qint64 id = m_store->add_message(conversationId, "assistant", reply);
            stats["messageId"] = id;
            emit messageSaved(conversationId, id, QStringLiteral("assistant"),
                              QString::fromStdString(reply));
        } catch (const std::exception& e) {  // e.g. the conversation was deleted meanwhile
            stats["error"] = QString::fromStdString(e.what());
        }
    }
    m_busy = false;
    m_lastTokensPerSecond = stats.value("tokensPerSecond").toDouble();
    emit stateChanged();
    emit replyFinished(conversationId, stats);
}
