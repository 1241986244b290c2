#pragma once
// The messages of one conversation (conversationId; 0: none), oldest first. Follows an
// EngineClient: the user's message appears when sent, the assistant's grows in place while it
// streams (streaming role true) and is the saved one once finished. Each row also carries its
// content split into Markdown prose and code blocks (blocks role, markdown_blocks.h) and whether
// it was in the model's context at the last reply (inContext role: the oldest turns of a long
// conversation are left out, see chat_prompt.h, and the page shows it with contextNotice).
#include <QAbstractListModel>
#include <map>
#include <memory>
#include <vector>

#include "folio/store.h"

class EngineClient;

class MessageListModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(qint64 conversationId READ conversationId WRITE setConversationId NOTIFY
                   conversationIdChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    // Oldest messages of this conversation the last reply's prompt left out (0: none or unknown).
    Q_PROPERTY(int droppedCount READ droppedCount NOTIFY contextNoticeChanged)
    // Says so in a sentence ("" when nothing was left out).
    Q_PROPERTY(QString contextNotice READ contextNotice NOTIFY contextNoticeChanged)

  public:
    enum Roles {
        IdRole = Qt::UserRole + 1,
        RoleRole,
        ContentRole,
        StreamingRole,
        BlocksRole,  // [{code, text, language}]
        InContextRole,
    };

    MessageListModel(std::shared_ptr<folio::store::ConversationStore> store, EngineClient* client,
                     QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    qint64 conversationId() const { return m_conversationId; }
    // Loads that conversation's messages (and the reply streaming into it, if any).
    void setConversationId(qint64 id);
    Q_INVOKABLE void reload();
    int droppedCount() const;
    QString contextNotice() const;
    // Puts `text` on the clipboard (a message, a code block).
    Q_INVOKABLE void copyToClipboard(const QString& text) const;

  signals:
    void conversationIdChanged();
    void countChanged();
    void contextNoticeChanged();

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
    void onContextTrimmed(qint64 conversationId, int dropped, int contextLength);

    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::vector<Row> m_rows;
    qint64 m_conversationId = 0;
    qint64 m_replyConversation = 0;  // the conversation a reply streams into; 0: none
    QString m_replyText;
    struct Trim {
        int dropped = 0;
        int contextLength = 0;
    };
    std::map<qint64, Trim> m_trims;  // per conversation, from its last reply
};
