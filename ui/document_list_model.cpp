#include "document_list_model.h"

int DocumentListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_jobs.size());
}

QVariant DocumentListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const DocumentJob& j = m_jobs[static_cast<size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
        case TitleRole:
            return j.title;
        case IdRole:
            return j.id;
        case PathRole:
            return j.path;
        case TaskRole:
            return j.task;
        case QuestionRole:
            return j.question;
        case StateRole:
            return j.state;
        case ProgressRole:
            if (j.state == QLatin1String("done")) return 1.0;
            return j.chunksTotal > 0 ? static_cast<double>(j.chunksDone) / j.chunksTotal : 0.0;
        case ChunksDoneRole:
            return j.chunksDone;
        case ChunksTotalRole:
            return j.chunksTotal;
        case ResultRole:
            return j.result;
        case ErrorRole:
            return j.error;
        default:
            return {};
    }
}

QHash<int, QByteArray> DocumentListModel::roleNames() const {
    return {{IdRole, "jobId"},
            {TitleRole, "title"},
            {PathRole, "path"},
            {TaskRole, "task"},
            {QuestionRole, "question"},
            {StateRole, "jobState"},
            {ProgressRole, "progress"},
            {ChunksDoneRole, "chunksDone"},
            {ChunksTotalRole, "chunksTotal"},
            {ResultRole, "result"},
            {ErrorRole, "error"}};
}

void DocumentListModel::add(const DocumentJob& job) {
    const int row = rowCount();
    beginInsertRows(QModelIndex(), row, row);
    m_jobs.push_back(job);
    endInsertRows();
    emit countChanged();
}

void DocumentListModel::update(int id, const std::function<void(DocumentJob&)>& change) {
    const int row = rowOf(id);
    if (row < 0) return;
    change(m_jobs[static_cast<size_t>(row)]);
    const QModelIndex i = index(row);
    emit dataChanged(i, i);
}

bool DocumentListModel::remove(int id) {
    const int row = rowOf(id);
    if (row < 0) return false;
    beginRemoveRows(QModelIndex(), row, row);
    m_jobs.erase(m_jobs.begin() + row);
    endRemoveRows();
    emit countChanged();
    return true;
}

const DocumentJob* DocumentListModel::find(int id) const {
    const int row = rowOf(id);
    return row < 0 ? nullptr : &m_jobs[static_cast<size_t>(row)];
}

int DocumentListModel::rowOf(int id) const {
    for (size_t i = 0; i < m_jobs.size(); ++i) {
        if (m_jobs[i].id == id) return static_cast<int>(i);
    }
    return -1;
}
