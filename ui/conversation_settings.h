#pragma once
// ConversationSettings: the Chat page's settings of the selected conversation — its model, its
// system prompt and its sampling (temperature, top_p, max tokens: the app's defaults from the
// Settings page unless customSampling) — kept in the conversations table (schema v4), so every
// reply of that conversation uses them (EngineClient reads them from the store).
//
// GUI thread. Setters save at once; an invalid value is refused with lastError and changes
// nothing. When the selected conversation names a model that is not the loaded one,
// modelWanted(path) asks for it (DesktopApp loads it when no reply runs).
#include <QObject>
#include <QString>
#include <QVariantList>
#include <memory>

class EngineClient;
namespace folio::store {
class ConversationStore;
class Library;
}  // namespace folio::store

class ConversationSettings : public QObject {
    Q_OBJECT
    Q_PROPERTY(qint64 conversationId READ conversationId NOTIFY changed)
    // 0: whichever model is loaded.
    Q_PROPERTY(qint64 modelId READ modelId NOTIFY changed)
    // [{"id": 0, "name": "Loaded model"}, {"id": models.id, "name": file name}, ...]
    Q_PROPERTY(QVariantList modelChoices READ modelChoices NOTIFY modelChoicesChanged)
    Q_PROPERTY(QString systemPrompt READ systemPrompt WRITE setSystemPrompt NOTIFY changed)
    Q_PROPERTY(bool customSampling READ customSampling WRITE setCustomSampling NOTIFY changed)
    Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY changed)
    Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY changed)
    Q_PROPERTY(int maxTokens READ maxTokens WRITE setMaxTokens NOTIFY changed)
    Q_PROPERTY(QString lastError READ lastError NOTIFY changed)

  public:
    // The stores are shared with other parts; `client` gives the app's sampling defaults.
    ConversationSettings(std::shared_ptr<folio::store::ConversationStore> store,
                         std::shared_ptr<folio::store::Library> library, EngineClient* client,
                         QObject* parent = nullptr);

    qint64 conversationId() const { return m_conversationId; }
    qint64 modelId() const { return m_modelId; }
    QVariantList modelChoices() const { return m_modelChoices; }
    QString systemPrompt() const { return m_systemPrompt; }
    bool customSampling() const { return m_customSampling; }
    double temperature() const { return m_temperature; }
    double topP() const { return m_topP; }
    int maxTokens() const { return m_maxTokens; }
    QString lastError() const { return m_lastError; }

    // Shows (and from now on edits) that conversation's settings; 0: none.
    void setConversationId(qint64 id);
    void setSystemPrompt(const QString& prompt);
    // Switching on starts from the app's current sampling; off forgets the overrides.
    void setCustomSampling(bool on);
    void setTemperature(double temperature);  // 0..2
    void setTopP(double topP);                // (0, 1]
    void setMaxTokens(int maxTokens);         // 1..1,000,000

    // The conversation's model (0: the loaded one); emits modelWanted when it is not loaded.
    Q_INVOKABLE bool setModelId(qint64 modelId);
    // Re-reads the library's models into modelChoices.
    Q_INVOKABLE void refreshModels();
    // Emits modelWanted again when the conversation's model is not the loaded one (e.g. once a
    // reply that kept it from loading is over).
    void requestModel();

  signals:
    void changed();
    void modelChoicesChanged();
    void modelWanted(const QString& path);

  private:
    void load();
    bool saveSampling(double temperature, double topP, int maxTokens);
    void fail(const QString& message);

    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::shared_ptr<folio::store::Library> m_library;
    EngineClient* m_client;
    qint64 m_conversationId = 0;
    qint64 m_modelId = 0;
    QVariantList m_modelChoices;
    QString m_systemPrompt;
    bool m_customSampling = false;
    double m_temperature = 0.8;
    double m_topP = 0.95;
    int m_maxTokens = 512;
    QString m_lastError;
};
