#include "message_list_model.h"

#include <QClipboard>
#include <QGuiApplication>
#include <exception>

#include "engine_client.h"
#include "markdown_blocks.h"

MessageListModel::MessageListModel(std::shared_ptr<folio::store::ConversationStore> store,
                                   EngineClient* client, QObject* parent)
    : QAbstractListModel(parent), m_store(std::move(store)) {
    connect(client, &EngineClient::messageSaved, this, &MessageListModel::onMessageSaved);
    connect(client, &EngineClient::replyStarted, this, &MessageListModel::onReplyStarted);
    connect(client, &EngineClient::tokenDelta, this, &MessageListModel::onTokenDelta);
    connect(client, &EngineClient::replyFinished, this,
            [this](qint64 conversationId, const QVariantMap&) { onReplyFinished(conversationId); });
    connect(client, &EngineClient::messagesRemoved, this, [this](qint64 conversationId) {
        if (conversationId == m_conversationId) reload();
    });
    connect(client, &EngineClient::contextTrimmed, this, &MessageListModel::onContextTrimmed);
}

int MessageListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant MessageListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Row& r = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
        case ContentRole:
            return r.content;
        case IdRole:
            return QVariant::fromValue<qint64>(r.id);
        case RoleRole:
            return r.role;
        case StreamingRole:
            return r.streaming;
        case BlocksRole:
            return markdownBlocksForQml(r.content);
        case InContextRole:
            return r.streaming || index.row() >= droppedCount();
        default:
            return {};
    }
}

QHash<int, QByteArray> MessageListModel::roleNames() const {
    return {{IdRole, "messageId"},        {RoleRole, "role"},     {ContentRole, "content"},
            {StreamingRole, "streaming"}, {BlocksRole, "blocks"}, {InContextRole, "inContext"}};
}

int MessageListModel::droppedCount() const {
    const auto it = m_trims.find(m_conversationId);
    return it == m_trims.end() ? 0 : std::min(it->second.dropped, rowCount());
}

QString MessageListModel::contextNotice() const {
    const int dropped = droppedCount();
    if (dropped == 0) return {};
    return tr("This conversation is longer than the model's context (%n tokens): the oldest "
              "%1 message(s), shown faded, were left out of the last reply.",
              nullptr, m_trims.at(m_conversationId).contextLength)
        .arg(dropped);
}

void MessageListModel::copyToClipboard(const QString& text) const {
    if (QClipboard* clipboard = QGuiApplication::clipboard()) clipboard->setText(text);
}

void MessageListModel::onContextTrimmed(qint64 conversationId, int dropped, int contextLength) {
    const int before = droppedCount();
    m_trims[conversationId] = {dropped, contextLength};
    if (conversationId != m_conversationId) return;
    const int changedRows = std::max(before, droppedCount());
    if (changedRows > 0) emit dataChanged(index(0), index(changedRows - 1), {InContextRole});
    emit contextNoticeChanged();
}

void MessageListModel::setConversationId(qint64 id) {
    if (id == m_conversationId) return;
    m_conversationId = id;
    reload();
    emit conversationIdChanged();
    emit contextNoticeChanged();
}

void MessageListModel::reload() {
    beginResetModel();
    m_rows.clear();
    if (m_conversationId > 0) {
        try {
            for (const auto& m : m_store->messages(m_conversationId)) {
                m_rows.push_back({m.id, QString::fromStdString(m.role),
                                  QString::fromStdString(m.content), false});
            }
        } catch (const std::exception&) {
            m_rows.clear();  // the conversation list reports store errors
        }
        if (m_replyConversation == m_conversationId) {
            // The reply streaming in is saved as it grows: its stored part is the last row.
            if (!m_rows.empty() && m_rows.back().role == QLatin1String("assistant")) {
                m_rows.pop_back();
            }
            m_rows.push_back({0, QStringLiteral("assistant"), m_replyText, true});
        }
    }
    endResetModel();
    emit countChanged();
}

void MessageListModel::append(Row row) {
    const int n = rowCount();
    beginInsertRows({}, n, n);
    m_rows.push_back(std::move(row));
    endInsertRows();
    emit countChanged();
}

int MessageListModel::streamingRow() const {
    for (int i = rowCount() - 1; i >= 0; --i) {
        if (m_rows[static_cast<size_t>(i)].streaming) return i;
    }
    return -1;
}

void MessageListModel::onMessageSaved(qint64 conversationId, qint64 messageId, const QString& role,
                                      const QString& content) {
    if (conversationId != m_conversationId) return;
    const int row = role == QLatin1String("assistant") ? streamingRow() : -1;
    if (row < 0) {
        append({messageId, role, content, false});
        return;
    }
    Row& r = m_rows[static_cast<size_t>(row)];
    r.id = messageId;
    r.content = content;
    r.streaming = false;
    const QModelIndex i = index(row);
    emit dataChanged(i, i);
}

void MessageListModel::onReplyStarted(qint64 conversationId) {
    m_replyConversation = conversationId;
    m_replyText.clear();
    if (conversationId == m_conversationId) {
        append({0, QStringLiteral("assistant"), QString(), true});
    }
}

void MessageListModel::onTokenDelta(qint64 conversationId, const QString& text) {
    if (conversationId != m_replyConversation) return;
    m_replyText += text;
    if (conversationId != m_conversationId) return;
    const int row = streamingRow();
    if (row < 0) return;
    m_rows[static_cast<size_t>(row)].content = m_replyText;
    const QModelIndex i = index(row);
    emit dataChanged(i, i, {Qt::DisplayRole, ContentRole, BlocksRole});
}

void MessageListModel::onReplyFinished(qint64 conversationId) {
    if (conversationId == m_replyConversation) {
        m_replyConversation = 0;
        m_replyText.clear();
    }
    if (conversationId != m_conversationId) return;
    // Nothing was saved (an empty or failed reply): drop the placeholder.
    const int row = streamingRow();
    if (row < 0) return;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    emit countChanged();
}
