#pragma once
// The messages of one conversation (conversationId; 0: none), oldest first. Follows an
// EngineClient: the user's message appears when sent, the assistant's grows in place while it
// streams (streaming role true) and is the saved one once finished. Plain text for now.
#include <QAbstractListModel>
#include <memory>
#include <vector>

#include "folio/store.h"

class EngineClient;

class MessageListModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(qint64 conversationId READ conversationId WRITE setConversationId NOTIFY
                   conversationIdChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

  public:
    enum Roles { IdRole = Qt::UserRole + 1, RoleRole, ContentRole, StreamingRole };

    MessageListModel(std::shared_ptr<folio::store::ConversationStore> store, EngineClient* client,
                     QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    qint64 conversationId() const { return m_conversationId; }
    // Loads that conversation's messages (and the reply streaming into it, if any).
    void setConversationId(qint64 id);
    Q_INVOKABLE void reload();

  signals:
    void conversationIdChanged();
    void countChanged();

  private:
    struct Row {
        qint64 id = 0;  // 0 while streaming
        QString role, content;
        bool streaming = false;
    };
    void append(Row row);
    int streamingRow() const;
    void onMessageSaved(qint64 conversationId, qint64 messageId, const QString& role,
                        const QString& content);
    void onReplyStarted(qint64 conversationId);
    void onTokenDelta(qint64 conversationId, const QString& text);
    void onReplyFinished(qint64 conversationId);

    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::vector<Row> m_rows;
    qint64 m_conversationId = 0;
    qint64 m_replyConversation = 0;  // the conversation a reply streams into; 0: none
    QString m_replyText;
};
