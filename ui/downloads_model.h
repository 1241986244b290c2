#pragma once
// DownloadsModel: the pulls started from the Models page (folio::store::DownloadManager), each a
// row with bytes, rate, ETA and state: "running", "waiting" (another process pulls the file),
// "paused" (cancelled; the .part is kept and resume() continues it), "failed" or "done".
//
// Downloads left by an earlier run (rows of the library's downloads table: paused, failed, or
// cut off by a crash) are listed from the start as "paused" rows ("failed" when they failed),
// which resume() continues from their .part files. dismiss() of a paused or failed row discards
// the download: its .part files (and parts already complete but not yet in the library) and its
// downloads rows are deleted, so it is not listed again at the next start. A "done" row is only
// forgotten.
//
// Threads: each pull is started and waited for on a thread of the model's own pool; the
// manager's progress callbacks (download threads) are coalesced and marshalled to the GUI thread
// with queued invocations. Destruction cancels every pull and joins those threads. When a pull
// finishes, modelAdded(path) is emitted (the library list refreshes on it).
#include <QAbstractListModel>
#include <QString>
#include <QThreadPool>
#include <memory>
#include <vector>

#include "folio/store.h"

class QuantChoicesModel;

class DownloadsModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int active READ active NOTIFY activeChanged)

  public:
    enum Roles {
        LabelRole = Qt::UserRole + 1,
        RepoRole,
        FileRole,
        BytesDoneRole,
        TotalRole,
        ProgressRole,  // 0..1
        DetailRole,    // "1.2 MB of 3.4 MB · 800 kB/s · 3 s left"
        StateRole,
        ErrorRole,
        CanCancelRole,
        CanResumeRole,
    };

    DownloadsModel(std::shared_ptr<folio::store::Library> library, folio::hub::HubConfig config,
                   folio::store::DownloadOptions options = {}, QObject* parent = nullptr);
    ~DownloadsModel() override;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    int active() const;

    // Starts a pull as a new row (the row of the same repo/files when there is one, resumed).
    // False when the spec has no files.
    bool pull(const folio::store::PullSpec& spec, const QString& label);

  public slots:
    // Pulls `quants`'s choice at `row` (a QuantChoicesModel).
    bool pullQuant(QObject* quants, int row);
    void cancel(int row);
    void resume(int row);
    // Forgets a row that is not running; a paused or failed one is discarded (see above).
    void dismiss(int row);

  signals:
    void countChanged();
    void activeChanged();
    void modelAdded(const QString& path);
    // A pull ended: state "done", "paused" or "failed".
    void pullEnded(int row, const QString& state);

  private:
    struct Shared;
    struct Entry;
    struct Outcome;
    void restore();
    void discardPartial(const folio::store::PullSpec& spec);
    void start(Entry& entry);
    void applyProgress(quint64 id);
    void finish(quint64 id, const Outcome& outcome);
    int rowOf(quint64 id) const;
    void changed(int row);

    std::shared_ptr<folio::store::Library> m_library;
    std::unique_ptr<folio::store::DownloadManager> m_manager;
    std::vector<Entry> m_rows;
    quint64 m_nextId = 1;
    QThreadPool m_pool;
};
