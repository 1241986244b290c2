#include "conversation_list_model.h"

#include <exception>

namespace {
const QString kUntitled = QStringLiteral("New chat");
}

ConversationListModel::ConversationListModel(std::shared_ptr<folio::store::ConversationStore> store,
                                             QObject* parent)
    : QAbstractListModel(parent), m_store(std::move(store)) {
    reload();
}

int ConversationListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const auto& c = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
        case TitleRole:
            return c.title.empty() ? kUntitled : QString::fromStdString(c.title);
        case IdRole:
            return QVariant::fromValue<qint64>(c.id);
        case UpdatedRole:
            return QVariant::fromValue<qint64>(c.updated);
        default:
            return {};
    }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
    return {{IdRole, "conversationId"}, {TitleRole, "title"}, {UpdatedRole, "updated"}};
}

qint64 ConversationListModel::currentId() const {
    return m_current >= 0 ? m_rows[static_cast<size_t>(m_current)].id : 0;
}

int ConversationListModel::rowOf(qint64 id) const {
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].id == id) return static_cast<int>(i);
    }
    return -1;
}

void ConversationListModel::reload() {
    const qint64 selected = currentId();
    beginResetModel();
    try {
        m_rows = m_store->search_conversations(m_filter.trimmed().toStdString());
    } catch (const std::exception& e) {
        m_rows.clear();
        emit error(QString::fromStdString(e.what()));
    }
    m_current = rowOf(selected);
    endResetModel();
    emit countChanged();
    emit currentChanged();
}

void ConversationListModel::setFilter(const QString& filter) {
    if (filter == m_filter) return;
    m_filter = filter;
    reload();
    emit filterChanged();
}

qint64 ConversationListModel::createConversation(const QString& title) {
    setFilter(QString());
    try {
        const int64_t id = m_store->create_conversation(title.toStdString());
        const auto record = m_store->find_conversation(id);
        if (!record) return 0;
        beginInsertRows({}, 0, 0);
        m_rows.insert(m_rows.begin(), *record);
        endInsertRows();
        emit countChanged();
        m_current = 0;
        emit currentChanged();
        return id;
    } catch (const std::exception& e) {
        emit error(QString::fromStdString(e.what()));
        return 0;
    }
}

bool ConversationListModel::renameConversation(int row, const QString& title) {
    if (row < 0 || row >= rowCount()) return false;
    auto& c = m_rows[static_cast<size_t>(row)];
    try {
        m_store->rename_conversation(c.id, title.toStdString());
    } catch (const std::exception& e) {
        emit error(QString::fromStdString(e.what()));
        return false;
    }
    c.title = title.toStdString();
    const QModelIndex i = index(row);
    emit dataChanged(i, i, {Qt::DisplayRole, TitleRole});
    return true;
}

bool ConversationListModel::removeConversation(int row) {
    if (row < 0 || row >= rowCount()) return false;
    try {
        m_store->delete_conversation(m_rows[static_cast<size_t>(row)].id);
    } catch (const std::exception& e) {
        emit error(QString::fromStdString(e.what()));
        return false;
    }
    const bool wasCurrent = row == m_current;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    emit countChanged();
    if (wasCurrent) {
        m_current = m_rows.empty() ? -1 : std::min(row, rowCount() - 1);
        emit currentChanged();
    } else if (row < m_current) {
        --m_current;
        emit currentChanged();
    }
    return true;
}

void ConversationListModel::select(int row) {
    const int next = row >= 0 && row < rowCount() ? row : -1;
    if (next == m_current) return;
    m_current = next;
    emit currentChanged();
}

void ConversationListModel::onMessageSaved(qint64 conversationId, qint64, const QString& role,
                                           const QString& content) {
    const int row = rowOf(conversationId);
    if (row < 0 || role != QLatin1String("user")) return;
    if (!m_rows[static_cast<size_t>(row)].title.empty()) return;
    QString title = content.simplified();
    if (title.size() > 40) title = title.left(39) + QChar(0x2026);
    renameConversation(row, title);
}
