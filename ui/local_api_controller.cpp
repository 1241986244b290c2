#include "local_api_controller.h"

#include <QByteArray>
#include <QClipboard>
#include <QGuiApplication>
#include <array>
#include <exception>
#include <random>
#include <string_view>
#include <utility>

#include "engine_client.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "server/server.h"

namespace {

constexpr int kStatsIntervalMs = 500;
constexpr const char* kPortKey = "api.port";
constexpr const char* kKeyKey = "api.key";
constexpr const char* kOriginsKey = "api.origins";  // one origin per line

}  // namespace

LocalApiController::LocalApiController(EngineClient* client, folio::store::Library* library,
                                       QObject* parent)
    : QObject(parent), m_client(client), m_requests(std::make_shared<std::atomic<qint64>>(0)) {
    try {
        if (library) {
            m_settings = std::make_unique<folio::store::SettingsStore>(*library);
            const auto port = m_settings->get(kPortKey);
            if (port) m_port = QString::fromStdString(*port).toInt();
            if (m_port < 1 || m_port > 65535) m_port = 8080;
            if (const auto key = m_settings->get(kKeyKey)) m_apiKey = QString::fromStdString(*key);
            if (const auto origins = m_settings->get(kOriginsKey)) {
                m_allowedOrigins =
                    QString::fromStdString(*origins).split(u'\n', Qt::SkipEmptyParts);
            }
        }
    } catch (const std::exception& e) {
        m_lastError = tr("Settings could not be read: %1").arg(QString::fromUtf8(e.what()));
    }
    if (m_apiKey.isEmpty()) {
        m_apiKey = newApiKey();
        save(kKeyKey, m_apiKey);
    }
    m_statsTimer.setInterval(kStatsIntervalMs);
    connect(&m_statsTimer, &QTimer::timeout, this, &LocalApiController::refreshStats);
    if (m_client) {
        connect(m_client, &EngineClient::stateChanged, this, [this] {
            emit canStartChanged();
            emit snippetChanged();
        });
        // A running API follows the model the app loads (and lets the old one go).
        connect(m_client, &EngineClient::modelLoaded, this, [this] { followLoadedModel(); });
    }
}

LocalApiController::~LocalApiController() {
    joinWorker();
    m_server.reset();  // aborts whatever still runs
}

void LocalApiController::joinWorker() {
    if (m_worker.joinable()) m_worker.join();
}

void LocalApiController::save(const char* key, const QString& value) {
    if (!m_settings) return;
    try {
        m_settings->set(key, value.toStdString());
    } catch (const std::exception& e) {
        setLastError(tr("Settings could not be saved: %1").arg(QString::fromUtf8(e.what())));
    }
}

bool LocalApiController::canStart() const {
    return startBlockedReason().isEmpty();
}

QString LocalApiController::startBlockedReason() const {
    if (m_busy) return m_running ? tr("Stopping…") : tr("Starting…");
    if (m_running) return tr("Already running");
    if (!m_client || !m_client->engine()) {
        return m_client && m_client->loading() ? tr("Wait until the model has loaded")
                                               : tr("Load a model first");
    }
    if (m_apiKey.isEmpty()) return tr("Set or generate an API key first");
    return {};
}

void LocalApiController::setPort(int port) {
    if (port < 1 || port > 65535 || port == m_port) return;
    m_port = port;
    save(kPortKey, QString::number(port));
    emit portChanged();
    emit snippetChanged();
}

void LocalApiController::setApiKey(const QString& key) {
    const QString trimmed = key.trimmed();
    if (trimmed == m_apiKey) return;
    m_apiKey = trimmed;
    save(kKeyKey, m_apiKey);
    emit apiKeyChanged();
    emit snippetChanged();
    emit canStartChanged();
}

void LocalApiController::setAllowedOrigins(const QStringList& origins) {
    QStringList clean;
    for (const QString& o : origins) {
        const QString t = o.trimmed();
        if (!t.isEmpty() && !clean.contains(t)) clean.push_back(t);
    }
    if (clean == m_allowedOrigins) return;
    m_allowedOrigins = clean;
    save(kOriginsKey, clean.join(u'\n'));
    emit allowedOriginsChanged();
}

QString LocalApiController::newApiKey() {
    std::random_device rd;
    QByteArray bytes(32, '\0');
    for (auto& b : bytes) b = static_cast<char>(rd() & 0xff);
    return QStringLiteral("folio-") +
           QString::fromLatin1(
               bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

void LocalApiController::generateApiKey() {
    setApiKey(newApiKey());
}

QString LocalApiController::modelId() const {
    const QString name = m_client ? m_client->modelName() : QString();
    return name.isEmpty() ? QStringLiteral("model") : name;
}

QString LocalApiController::baseUrl() const {
    return QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port);
}

QString LocalApiController::snippet() const {
    const QString url = baseUrl();
    const QString model = modelId();
    const QString key = m_apiKey;
    return QStringLiteral(
               "# Any OpenAI-compatible plugin\n"
               "Base URL: %1\n"
               "Model:    %2\n"
               "API key:  %3\n"
               "\n"
               "# Continue (~/.continue/config.yaml)\n"
               "models:\n"
               "  - name: Folio %2\n"
               "    provider: openai\n"
               "    model: %2\n"
               "    apiBase: %1\n"
               "    apiKey: %3\n"
               "\n"
               "# curl\n"
               "curl %1/chat/completions -H \"Authorization: Bearer %3\" "
               "-H \"Content-Type: application/json\" "
               "-d '{\"model\": \"%2\", \"messages\": [{\"role\": \"user\", \"content\": "
               "\"Hello\"}]}'\n")
        .arg(url, model, key);
}

void LocalApiController::copySnippet() {
    if (QClipboard* clipboard = QGuiApplication::clipboard()) clipboard->setText(snippet());
}

void LocalApiController::setLastError(const QString& error) {
    if (error == m_lastError) return;
    m_lastError = error;
    emit lastErrorChanged();
}

void LocalApiController::start() {
    if (!canStart()) return;
    joinWorker();
    m_busy = true;
    setLastError({});
    emit runningChanged();
    emit canStartChanged();

    folio::server::ServerConfig config;
    config.host = "127.0.0.1";  // loopback only from the desktop
    config.port = m_port;
    config.api_keys = {m_apiKey.toStdString()};
    for (const QString& o : m_allowedOrigins) config.cors_origins.push_back(o.toStdString());
    config.log = [requests = m_requests](std::string_view line) {
        if (line.starts_with("request ")) requests->fetch_add(1, std::memory_order_relaxed);
    };
    m_worker = std::thread([this, config = std::move(config), engine = m_client->engine(),
                            id = modelId().toStdString()]() mutable {
        std::shared_ptr<folio::server::Server> server;
        QString error;
        try {
            server = std::make_shared<folio::server::Server>(std::move(config));
            server->start();
            server->add_model(id, engine);
            server->set_ready();
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
            server.reset();
        }
        QMetaObject::invokeMethod(
            this,
            [this, server, engine, error] {
                m_busy = false;
                if (server) {
                    m_server = server;
                    m_servedEngine = engine;
                    m_running = true;
                    m_statsTimer.start();
                    if (m_client && m_client->engine() != engine) m_restartPending = true;
                } else {
                    setLastError(tr("The API could not start: %1").arg(error));
                }
                emit runningChanged();
                emit canStartChanged();
                refreshStats();
                if (m_restartPending) followLoadedModel();
            },
            Qt::QueuedConnection);
    });
}

void LocalApiController::followLoadedModel() {
    if (!m_client || !m_client->engine()) return;
    if (m_busy) {  // starting or stopping: decide once that is over
        m_restartPending = true;
        return;
    }
    if (!m_running || m_servedEngine == m_client->engine()) {
        m_restartPending = false;
        return;
    }
    m_restartPending = true;  // stop() ends by starting again with the loaded model
    stop();
}

void LocalApiController::stop(int graceMs) {
    if (!m_running || m_busy) return;
    joinWorker();
    m_busy = true;
    emit runningChanged();
    emit canStartChanged();
    m_worker = std::thread([this, server = std::move(m_server), graceMs]() mutable {
        server->drain(std::chrono::milliseconds(graceMs));
        server.reset();  // the listener is closed: the port is free
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_busy = false;
                m_running = false;
                m_servedEngine.reset();
                m_statsTimer.stop();
                refreshStats();
                emit runningChanged();
                emit canStartChanged();
                if (std::exchange(m_restartPending, false)) start();
            },
            Qt::QueuedConnection);
    });
}

void LocalApiController::refreshStats() {
    const qint64 requests = m_requests->load(std::memory_order_relaxed);
    const double rate =
        m_running && m_servedEngine ? m_servedEngine->stats().generation_tokens_per_s : 0.0;
    if (requests == m_requestCount && rate == m_tokensPerSecond) return;
    m_requestCount = requests;
    m_tokensPerSecond = rate;
    emit statsChanged();
}
