#pragma once
// QuantChoicesModel: the quantizations one hub repo offers (folio::hub::group_quant_options),
// best quality first, each with its size, the memory it needs at min(model context, 4096) tokens
// (estimate_memory against available_memory_bytes) and a fit badge; the best one that fits is
// marked recommended. The file list and one GGUF header are read on a worker thread, like
// `folio quants`. Options whose estimate is unknown show fit "unknown". GUI thread only.
#include <QAbstractListModel>
#include <QString>
#include <vector>

#include "folio/hub.h"
#include "folio/store.h"

class QuantChoicesModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(QString repo READ repo NOTIFY repoChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
    Q_PROPERTY(qint64 availableBytes READ availableBytes NOTIFY finished)
    Q_PROPERTY(qint64 contextLength READ contextLength NOTIFY finished)

  public:
    enum Roles {
        QuantRole = Qt::UserRole + 1,
        FileRole,
        PartsRole,
        SizeRole,
        SizeTextRole,
        MemoryRole,
        MemoryTextRole,
        FitRole,
        RecommendedRole,
        CompleteRole,
    };

    // One row's data, computed off the GUI thread.
    struct Choice {
        folio::hub::QuantOption option;
        bool known = false;  // an estimate exists
        folio::hub::MemoryEstimate estimate;
        bool recommended = false;
    };

    explicit QuantChoicesModel(folio::hub::HubConfig config, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString repo() const { return m_repo; }
    bool busy() const { return m_busy; }
    QString error() const { return m_error; }
    qint64 availableBytes() const { return m_available; }
    qint64 contextLength() const { return m_context; }

    // What to pull for `row` (empty files for a bad or incomplete row).
    folio::store::PullSpec pullSpec(int row) const;

  public slots:
    // Lists "owner/name[@revision]"'s quantizations; finished() follows.
    void load(const QString& repo);

  signals:
    void repoChanged();
    void countChanged();
    void busyChanged();
    void errorChanged();
    void finished();

  private:
    folio::hub::HubConfig m_config;
    QString m_repo;
    std::string m_repoId, m_revision;
    std::vector<Choice> m_rows;
    bool m_busy = false;
    QString m_error;
    qint64 m_available = 0;
    qint64 m_context = 0;
    int m_generation = 0;
};
