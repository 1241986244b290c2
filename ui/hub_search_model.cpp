#include "hub_search_model.h"

#include <exception>

#include "models_async.h"

namespace {

struct SearchResult {
    std::vector<folio::hub::RepoSummary> repos;
    QString error;
};

constexpr int kLimit = 30;

}  // namespace

HubSearchModel::HubSearchModel(folio::hub::HubConfig config, QObject* parent)
    : QAbstractListModel(parent), m_config(std::move(config)) {}

int HubSearchModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant HubSearchModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const auto& r = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
        case RepoRole:
            return QString::fromStdString(r.id);
        case DownloadsRole:
            return QVariant::fromValue<qint64>(r.downloads);
        case LikesRole:
            return QVariant::fromValue<qint64>(r.likes);
        case LastModifiedRole:
            return QString::fromStdString(r.last_modified.substr(0, 10));
        default:
            return {};
    }
}

QHash<int, QByteArray> HubSearchModel::roleNames() const {
    return {{RepoRole, "repo"},
            {DownloadsRole, "downloads"},
            {LikesRole, "likes"},
            {LastModifiedRole, "lastModified"}};
}

void HubSearchModel::search(const QString& text) {
    const int generation = ++m_generation;
    if (!m_busy) {
        m_busy = true;
        emit busyChanged();
    }
    runAsync(
        this,
        [config = m_config, query = text.trimmed().toStdString()] {
            SearchResult r;
            try {
                r.repos = folio::hub::HubClient(config).search(query, kLimit);
            } catch (const std::exception& e) {
                r.error = QString::fromStdString(e.what());
            }
            return r;
        },
        [this, generation](const SearchResult& r) {
            if (generation != m_generation) return;
            const int before = rowCount();
            beginResetModel();
            m_rows = r.repos;
            endResetModel();
            if (before != rowCount()) emit countChanged();
            if (r.error != m_error) {
                m_error = r.error;
                emit errorChanged();
            }
            m_busy = false;
            emit busyChanged();
            emit finished();
        });
}
