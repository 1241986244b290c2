#include "conversation_settings.h"

#include <QFileInfo>
#include <exception>
#include <nlohmann/json.hpp>

#include "chat_prompt.h"
#include "engine_client.h"
#include "folio/store.h"

ConversationSettings::ConversationSettings(std::shared_ptr<folio::store::ConversationStore> store,
                                           std::shared_ptr<folio::store::Library> library,
                                           EngineClient* client, QObject* parent)
    : QObject(parent), m_store(std::move(store)), m_library(std::move(library)), m_client(client) {
    refreshModels();
    load();
}

void ConversationSettings::setConversationId(qint64 id) {
    if (id == m_conversationId) return;
    m_conversationId = id;
    m_lastError.clear();
    load();
    requestModel();
}

// The conversation's row, or the app's defaults when there is none.
void ConversationSettings::load() {
    const folio::SamplingParams defaults = m_client->sampling();
    m_modelId = 0;
    m_systemPrompt.clear();
    m_customSampling = false;
    std::string overrides;
    if (m_conversationId > 0) {
        try {
            if (const auto c = m_store->find_conversation(m_conversationId)) {
                m_modelId = c->model_id;
                m_systemPrompt = QString::fromStdString(c->system_prompt);
                overrides = c->sampling;
            }
        } catch (const std::exception& e) {
            m_lastError = QString::fromStdString(e.what());
        }
    }
    m_customSampling = !overrides.empty();
    const folio::SamplingParams p = withConversationSampling(defaults, overrides);
    m_temperature = p.temperature;
    m_topP = p.top_p;
    m_maxTokens = p.max_tokens.value_or(512);
    emit changed();
}

void ConversationSettings::fail(const QString& message) {
    m_lastError = message;
    emit changed();
}

void ConversationSettings::setSystemPrompt(const QString& prompt) {
    if (prompt == m_systemPrompt) return;
    if (m_conversationId <= 0) return fail(tr("Select or start a conversation first."));
    try {
        m_store->set_system_prompt(m_conversationId, prompt.toStdString());
    } catch (const std::exception& e) {
        return fail(QString::fromStdString(e.what()));
    }
    m_systemPrompt = prompt;
    m_lastError.clear();
    emit changed();
}

bool ConversationSettings::saveSampling(double temperature, double topP, int maxTokens) {
    if (m_conversationId <= 0) {
        fail(tr("Select or start a conversation first."));
        return false;
    }
    if (!validChatTemperature(temperature)) {
        fail(tr("Temperature must be between 0 and 2."));
        return false;
    }
    if (!validChatTopP(topP)) {
        fail(tr("Top-p must be above 0 and at most 1."));
        return false;
    }
    if (!validChatMaxTokens(maxTokens)) {
        fail(tr("Max tokens must be between 1 and 1000000."));
        return false;
    }
    const nlohmann::json j = {
        {"temperature", temperature}, {"top_p", topP}, {"max_tokens", maxTokens}};
    try {
        m_store->set_sampling(m_conversationId, j.dump());
    } catch (const std::exception& e) {
        fail(QString::fromStdString(e.what()));
        return false;
    }
    m_customSampling = true;
    m_temperature = temperature;
    m_topP = topP;
    m_maxTokens = maxTokens;
    m_lastError.clear();
    emit changed();
    return true;
}

void ConversationSettings::setCustomSampling(bool on) {
    if (on == m_customSampling) return;
    if (on) {
        const folio::SamplingParams p = m_client->sampling();
        saveSampling(p.temperature, p.top_p, p.max_tokens.value_or(512));
        return;
    }
    if (m_conversationId <= 0) return;
    try {
        m_store->set_sampling(m_conversationId, "");
    } catch (const std::exception& e) {
        return fail(QString::fromStdString(e.what()));
    }
    load();
}

void ConversationSettings::setTemperature(double temperature) {
    if (temperature != m_temperature || !m_customSampling)
        saveSampling(temperature, m_topP, m_maxTokens);
}

void ConversationSettings::setTopP(double topP) {
    if (topP != m_topP || !m_customSampling) saveSampling(m_temperature, topP, m_maxTokens);
}

void ConversationSettings::setMaxTokens(int maxTokens) {
    if (maxTokens != m_maxTokens || !m_customSampling)
        saveSampling(m_temperature, m_topP, maxTokens);
}

bool ConversationSettings::setModelId(qint64 modelId) {
    if (m_conversationId <= 0) {
        fail(tr("Select or start a conversation first."));
        return false;
    }
    try {
        m_store->set_conversation_model(m_conversationId, modelId);
    } catch (const std::exception& e) {
        fail(QString::fromStdString(e.what()));
        return false;
    }
    m_modelId = modelId;
    m_lastError.clear();
    emit changed();
    requestModel();
    return true;
}

void ConversationSettings::requestModel() {
    if (m_modelId <= 0 || !m_library) return;
    try {
        const auto model = m_library->find_model(m_modelId);
        if (!model) return;
        const QString path = QString::fromStdString(model->path.string());
        if (QFileInfo(path) != QFileInfo(m_client->modelPath())) emit modelWanted(path);
    } catch (const std::exception& e) {
        fail(QString::fromStdString(e.what()));
    }
}

void ConversationSettings::refreshModels() {
    QVariantList choices{QVariantMap{{"id", 0}, {"name", tr("Loaded model")}}};
    if (m_library) {
        try {
            for (const auto& m : m_library->models()) {
                choices.push_back(
                    QVariantMap{{"id", QVariant::fromValue<qint64>(m.id)},
                                {"name", QString::fromStdString(m.path.filename().string())}});
            }
        } catch (const std::exception& e) {
            m_lastError = QString::fromStdString(e.what());
        }
    }
    m_modelChoices = choices;
    emit modelChoicesChanged();
}
