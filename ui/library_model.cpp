#include "library_model.h"

#include <QLocale>
#include <exception>
#include <filesystem>

#include "models_async.h"

namespace {

struct Snapshot {
    std::vector<folio::store::ModelRecord> models;
    QString defaultPath;
    QString error;
};

}  // namespace

LibraryModel::LibraryModel(std::shared_ptr<folio::store::Library> library, QObject* parent)
    : QAbstractListModel(parent), m_library(std::move(library)) {
    try {
        m_settings = std::make_shared<folio::store::SettingsStore>(*m_library);
    } catch (const std::exception& e) {
        m_error = QString::fromStdString(e.what());
    }
    refresh();
}

int LibraryModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant LibraryModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const auto& m = m_rows[static_cast<size_t>(index.row())];
    const QString path = QString::fromStdString(m.path.string());
    switch (role) {
        case Qt::DisplayRole:
        case NameRole:
            return QString::fromStdString(m.path.stem().string());
        case IdRole:
            return QVariant::fromValue<qint64>(m.id);
        case RepoRole:
            return QString::fromStdString(m.repo);
        case FileRole:
            return QString::fromStdString(m.file);
        case PathRole:
            return path;
        case SizeRole:
            return QVariant::fromValue<qint64>(m.size);
        case SizeTextRole:
            return QLocale().formattedDataSize(m.size);
        case WeightTypeRole:
            return QString::fromStdString(m.weight_type);
        case ArchitectureRole:
            return QString::fromStdString(m.architecture);
        case ContextLengthRole:
            return QVariant::fromValue<qint64>(m.context_length);
        case IsDefaultRole:
            return !m_defaultPath.isEmpty() && path == m_defaultPath;
        default:
            return {};
    }
}

QHash<int, QByteArray> LibraryModel::roleNames() const {
    return {{NameRole, "name"},
            {IdRole, "modelId"},
            {RepoRole, "repo"},
            {FileRole, "file"},
            {PathRole, "path"},
            {SizeRole, "size"},
            {SizeTextRole, "sizeText"},
            {WeightTypeRole, "weightType"},
            {ArchitectureRole, "architecture"},
            {ContextLengthRole, "contextLength"},
            {IsDefaultRole, "isDefault"}};
}

void LibraryModel::refresh() {
    const int generation = ++m_generation;
    runAsync(
        this,
        [library = m_library, settings = m_settings] {
            Snapshot s;
            try {
                s.models = library->models();
                if (settings) {
                    s.defaultPath = QString::fromStdString(settings->get_or(kDefaultKey, ""));
                }
            } catch (const std::exception& e) {
                s.error = QString::fromStdString(e.what());
            }
            return s;
        },
        [this, generation](const Snapshot& s) {
            if (generation != m_generation) return;  // a newer refresh is on its way
            if (!s.error.isEmpty()) setError(s.error);
            const int before = rowCount();
            beginResetModel();
            m_rows = s.models;
            m_defaultPath = s.defaultPath;
            endResetModel();
            if (before != rowCount()) emit countChanged();
            emit defaultChanged();
            emit refreshed();
        });
}

bool LibraryModel::removeModel(int row) {
    if (row < 0 || row >= rowCount()) return false;
    setError({});
    const auto& m = m_rows[static_cast<size_t>(row)];
    const bool wasDefault = QString::fromStdString(m.path.string()) == m_defaultPath;
    runAsync(
        this,
        [library = m_library, settings = m_settings, id = m.id, path = m.path, wasDefault] {
            try {
                // Files outside the library's models folder (added by hand) are the user's.
                const auto models = std::filesystem::weakly_canonical(library->models_dir());
                const auto file = std::filesystem::weakly_canonical(path);
                const auto rel = file.lexically_relative(models);
                const bool ours = !rel.empty() && *rel.begin() != "..";
                library->remove_model(id, ours);
                if (wasDefault && settings) settings->remove(kDefaultKey);
            } catch (const std::exception& e) {
                return QString::fromStdString(e.what());
            }
            return QString();
        },
        [this](const QString& error) {
            setError(error);
            refresh();
        });
    return true;
}

bool LibraryModel::setDefault(int row) {
    if (row < 0 || row >= rowCount() || !m_settings) return false;
    m_defaultPath = QString::fromStdString(m_rows[static_cast<size_t>(row)].path.string());
    emit dataChanged(index(0), index(rowCount() - 1), {IsDefaultRole});
    emit defaultChanged();
    runAsync(
        this,
        [settings = m_settings, path = m_defaultPath.toStdString()] {
            try {
                settings->set(kDefaultKey, path);
            } catch (const std::exception& e) {
                return QString::fromStdString(e.what());
            }
            return QString();
        },
        [this](const QString& error) { setError(error); });
    return true;
}

void LibraryModel::setError(const QString& error) {
    if (error == m_error) return;
    m_error = error;
    emit errorChanged();
}
