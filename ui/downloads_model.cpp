#include "downloads_model.h"

#include <QLocale>
#include <QMetaObject>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <utility>

#include "quant_choices_model.h"

namespace store = folio::store;

// State shared between the GUI thread, the pull's waiting thread and the download threads.
struct DownloadsModel::Shared {
    std::mutex mutex;
    std::shared_ptr<store::DownloadTask> task;
    bool cancelRequested = false;
    store::DownloadProgress latest;
    bool posted = false;  // an applyProgress is queued

    void cancel() {
        std::lock_guard lock(mutex);
        cancelRequested = true;
        if (task) task->cancel();
    }
};

struct DownloadsModel::Entry {
    quint64 id = 0;
    store::PullSpec spec;
    QString label;
    std::shared_ptr<Shared> shared;
    store::DownloadProgress progress;
    QString state;
    QString error;
    bool resumable = true;  // false for a restored download with parts missing
};

struct DownloadsModel::Outcome {
    QString state;  // "done", "paused" or "failed"
    QString error;
    QString path;
};

DownloadsModel::DownloadsModel(std::shared_ptr<store::Library> library,
                               folio::hub::HubConfig config, store::DownloadOptions options,
                               QObject* parent)
    : QAbstractListModel(parent),
      m_library(std::move(library)),
      m_manager(std::make_unique<store::DownloadManager>(*m_library, std::move(config),
                                                         std::move(options))) {
    m_pool.setMaxThreadCount(64);  // one waiting thread per pull in flight
    restore();
}

void DownloadsModel::restore() {
    namespace fs = std::filesystem;
    std::map<std::pair<std::string, std::string>, std::vector<store::DownloadRecord>> byRevision;
    try {
        for (auto& d : m_library->downloads()) {
            byRevision[{d.repo, d.revision}].push_back(std::move(d));
        }
    } catch (const std::exception& e) {
        qWarning("folio: the unfinished downloads cannot be read: %s", e.what());
        return;
    }
    for (const auto& [key, records] : byRevision) {
        std::vector<folio::hub::RepoFile> files;
        for (const auto& d : records) files.push_back({d.file, d.expected_size, d.sha256});
        // One row per model: a single file, or all parts of a split one.
        for (const auto& option : folio::hub::group_quant_options(files)) {
            Entry e;
            e.id = m_nextId++;
            e.shared = std::make_shared<Shared>();
            e.spec.repo = key.first;
            e.spec.revision = key.second;
            e.spec.files = option.files;
            const QString name = QString::fromStdString(
                option.quant == "unknown" ? fs::path(option.name).filename().string()
                                          : option.quant);
            e.label = QStringLiteral("%1 %2").arg(QString::fromStdString(key.first), name);
            e.state = QStringLiteral("paused");
            for (const auto& f : option.files) {
                e.progress.total += f.size;
                for (const auto& d : records) {
                    if (d.file != f.path) continue;
                    std::error_code ec;
                    const auto have = fs::file_size(d.part_path, ec);
                    e.progress.bytes_done += ec ? d.bytes_done : static_cast<int64_t>(have);
                    if (d.state == store::DownloadState::Failed) {
                        e.state = QStringLiteral("failed");
                        e.error = QString::fromStdString(d.error);
                    }
                }
            }
            if (!option.complete) {
                e.state = QStringLiteral("failed");
                e.error = tr("Parts of this model are missing: download it again from the hub.");
                e.resumable = false;
            }
            m_rows.push_back(std::move(e));
        }
    }
}

DownloadsModel::~DownloadsModel() {
    for (auto& e : m_rows) e.shared->cancel();
    m_pool.waitForDone();  // the waiting threads return once their pulls stopped
    m_manager.reset();     // joins the download threads: no callback runs after this
}

int DownloadsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int DownloadsModel::active() const {
    int n = 0;
    for (const auto& e : m_rows)
        n += e.state == QLatin1String("running") || e.state == QLatin1String("waiting");
    return n;
}

QVariant DownloadsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Entry& e = m_rows[static_cast<size_t>(index.row())];
    const auto& p = e.progress;
    const bool running = e.state == QLatin1String("running") || e.state == QLatin1String("waiting");
    switch (role) {
        case Qt::DisplayRole:
        case LabelRole:
            return e.label;
        case RepoRole:
            return QString::fromStdString(e.spec.repo);
        case FileRole:
            return QString::fromStdString(e.spec.files.front().path);
        case BytesDoneRole:
            return QVariant::fromValue<qint64>(p.bytes_done);
        case TotalRole:
            return QVariant::fromValue<qint64>(p.total);
        case ProgressRole:
            return p.total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.total)
                               : 0.0;
        case DetailRole: {
            const QLocale locale;
            QString s =
                tr("%1 of %2")
                    .arg(locale.formattedDataSize(p.bytes_done), locale.formattedDataSize(p.total));
            if (running && p.rate > 0) {
                s += tr(" · %1/s").arg(locale.formattedDataSize(static_cast<qint64>(p.rate)));
            }
            if (running && p.eta_s >= 0) {
                s += tr(" · %1 s left").arg(static_cast<int>(p.eta_s + 0.5));
            }
            return s;
        }
        case StateRole:
            return e.state;
        case ErrorRole:
            return e.error;
        case CanCancelRole:
            return running;
        case CanResumeRole:
            return e.resumable &&
                   (e.state == QLatin1String("paused") || e.state == QLatin1String("failed"));
        default:
            return {};
    }
}

QHash<int, QByteArray> DownloadsModel::roleNames() const {
    return {{LabelRole, "label"},         {RepoRole, "repo"},          {FileRole, "file"},
            {BytesDoneRole, "bytesDone"}, {TotalRole, "total"},        {ProgressRole, "progress"},
            {DetailRole, "detail"},       {StateRole, "state"},        {ErrorRole, "error"},
            {CanCancelRole, "canCancel"}, {CanResumeRole, "canResume"}};
}

bool DownloadsModel::pullQuant(QObject* quants, int row) {
    const auto* model = qobject_cast<QuantChoicesModel*>(quants);
    if (!model) return false;
    const store::PullSpec spec = model->pullSpec(row);
    if (spec.files.empty()) return false;
    return pull(
        spec, QStringLiteral("%1 %2").arg(
                  model->repo(), model->index(row).data(QuantChoicesModel::QuantRole).toString()));
}

bool DownloadsModel::pull(const store::PullSpec& spec, const QString& label) {
    if (spec.files.empty()) return false;
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const auto& s = m_rows[i].spec;
        const bool same = s.repo == spec.repo && s.revision == spec.revision &&
                          s.files.size() == spec.files.size() &&
                          s.files.front().path == spec.files.front().path;
        if (same) {
            resume(static_cast<int>(i));
            return true;
        }
    }
    const int row = rowCount();
    beginInsertRows({}, row, row);
    Entry e;
    e.id = m_nextId++;
    e.spec = spec;
    e.label = label;
    for (const auto& f : spec.files) e.progress.total += f.size;
    m_rows.push_back(std::move(e));
    endInsertRows();
    emit countChanged();
    start(m_rows.back());
    return true;
}

void DownloadsModel::start(Entry& entry) {
    entry.shared = std::make_shared<Shared>();
    entry.state = QStringLiteral("running");
    entry.error.clear();
    const quint64 id = entry.id;
    auto shared = entry.shared;
    store::DownloadManager* manager = m_manager.get();
    const store::PullSpec spec = entry.spec;
    emit activeChanged();
    // The waiting thread: starts the pull (disk and database work), then blocks on it.
    m_pool.start([this, id, shared, manager, spec] {
        Outcome out;
        try {
            auto task = manager->pull(spec, [this, id, shared](const store::DownloadProgress& p) {
                std::lock_guard lock(shared->mutex);
                shared->latest = p;
                if (shared->posted) return;
                shared->posted = true;
                QMetaObject::invokeMethod(
                    this, [this, id] { applyProgress(id); }, Qt::QueuedConnection);
            });
            {
                std::lock_guard lock(shared->mutex);
                shared->task = task;
                if (shared->cancelRequested) task->cancel();
            }
            const store::ModelRecord model = task->wait();
            out.state = QStringLiteral("done");
            out.path = QString::fromStdString(model.path.string());
        } catch (const store::DownloadError& e) {
            const bool cancelled = e.kind() == store::DownloadError::Kind::Cancelled;
            out.state = cancelled ? QStringLiteral("paused") : QStringLiteral("failed");
            if (!cancelled) out.error = QString::fromStdString(e.what());
        } catch (const std::exception& e) {
            out.state = QStringLiteral("failed");
            out.error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            this, [this, id, out] { finish(id, out); }, Qt::QueuedConnection);
    });
}

void DownloadsModel::applyProgress(quint64 id) {
    const int row = rowOf(id);
    if (row < 0) return;
    Entry& e = m_rows[static_cast<size_t>(row)];
    {
        std::lock_guard lock(e.shared->mutex);
        e.shared->posted = false;
        if (e.state != QLatin1String("running") && e.state != QLatin1String("waiting")) return;
        e.progress = e.shared->latest;
    }
    const QString state =
        e.progress.waiting ? QStringLiteral("waiting") : QStringLiteral("running");
    e.state = state;
    changed(row);
}

void DownloadsModel::finish(quint64 id, const Outcome& outcome) {
    const int row = rowOf(id);
    if (row < 0) return;
    Entry& e = m_rows[static_cast<size_t>(row)];
    e.state = outcome.state;
    e.error = outcome.error;
    if (outcome.state == QLatin1String("done")) e.progress.bytes_done = e.progress.total;
    changed(row);
    emit activeChanged();
    if (outcome.state == QLatin1String("done")) emit modelAdded(outcome.path);
    emit pullEnded(row, outcome.state);
}

void DownloadsModel::cancel(int row) {
    if (row < 0 || row >= rowCount()) return;
    m_rows[static_cast<size_t>(row)].shared->cancel();  // finish() reports "paused"
}

void DownloadsModel::resume(int row) {
    if (row < 0 || row >= rowCount()) return;
    Entry& e = m_rows[static_cast<size_t>(row)];
    if (e.state != QLatin1String("paused") && e.state != QLatin1String("failed")) return;
    if (!e.resumable) return;
    start(e);
    changed(row);
}

void DownloadsModel::dismiss(int row) {
    if (row < 0 || row >= rowCount()) return;
    const Entry& e = m_rows[static_cast<size_t>(row)];
    if (e.state == QLatin1String("running") || e.state == QLatin1String("waiting")) return;
    if (e.state != QLatin1String("done")) discardPartial(e.spec);
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    emit countChanged();
}

void DownloadsModel::discardPartial(const store::PullSpec& spec) {
    namespace fs = std::filesystem;
    try {
        for (const auto& f : spec.files) {
            std::error_code ec;
            if (const auto d = m_library->find_download(spec.repo, spec.revision, f.path)) {
                fs::remove(d->part_path, ec);
                m_library->remove_download(d->id);
            }
            // A part already complete, not in the library (it would be registered with the rest).
            const fs::path done = m_library->model_path(spec.repo, f.path);
            if (fs::exists(done, ec) && !m_library->find_model_by_path(done)) fs::remove(done, ec);
        }
    } catch (const std::exception& e) {
        qWarning("folio: cannot discard the download of %s: %s", spec.repo.c_str(), e.what());
    }
}

int DownloadsModel::rowOf(quint64 id) const {
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].id == id) return static_cast<int>(i);
    }
    return -1;
}

void DownloadsModel::changed(int row) {
    emit dataChanged(index(row), index(row));
}
