#pragma once
// The library's conversations, most recently updated first (as loaded; rows do not move while
// the app runs), and which one is selected. New conversations go on top. A non-empty filter
// lists only the conversations whose title or messages contain it (the selection is kept when
// it is among them). Store errors are reported with the error signal.
#include <QAbstractListModel>
#include <memory>
#include <vector>

#include "folio/store.h"

class ConversationListModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(qint64 currentId READ currentId NOTIFY currentChanged)
    Q_PROPERTY(int currentRow READ currentRow NOTIFY currentChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QString filter READ filter WRITE setFilter NOTIFY filterChanged)

  public:
    enum Roles { IdRole = Qt::UserRole + 1, TitleRole, UpdatedRole };

    explicit ConversationListModel(std::shared_ptr<folio::store::ConversationStore> store,
                                   QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    qint64 currentId() const;
    int currentRow() const { return m_current; }
    QString filter() const { return m_filter; }
    void setFilter(const QString& filter);

    // Reloads from the store (selection kept when the conversation still exists).
    Q_INVOKABLE void reload();
    // Creates "New chat" on top (clearing the filter), selects it and returns its id (0 on
    // failure).
    Q_INVOKABLE qint64 createConversation(const QString& title = QString());
    Q_INVOKABLE bool renameConversation(int row, const QString& title);
    Q_INVOKABLE bool removeConversation(int row);
    // -1 clears the selection.
    Q_INVOKABLE void select(int row);
    Q_INVOKABLE int rowOf(qint64 id) const;

  public slots:
    // Names an untitled conversation after its first user message.
    void onMessageSaved(qint64 conversationId, qint64 messageId, const QString& role,
                        const QString& content);

  signals:
    void currentChanged();
    void countChanged();
    void filterChanged();
    void error(const QString& message);

  private:
    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::vector<folio::store::ConversationRecord> m_rows;
    int m_current = -1;
    QString m_filter;
};
