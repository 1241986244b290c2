#pragma once
// HubSearchModel: GGUF repos on the hub (folio::hub::HubClient::search) matching a search text,
// most downloaded first. The request runs on a worker thread; a newer search supersedes an
// older one. Errors (offline, unreachable hub) go to `error`. GUI thread only.
#include <QAbstractListModel>
#include <QString>
#include <vector>

#include "folio/hub.h"

class HubSearchModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)

  public:
    enum Roles { RepoRole = Qt::UserRole + 1, DownloadsRole, LikesRole, LastModifiedRole };

    explicit HubSearchModel(folio::hub::HubConfig config, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    bool busy() const { return m_busy; }
    QString error() const { return m_error; }

  public slots:
    // Starts a search; finished() follows (the rows are replaced, or `error` is set).
    void search(const QString& text);

  signals:
    void countChanged();
    void busyChanged();
    void errorChanged();
    void finished();

  private:
    folio::hub::HubConfig m_config;
    std::vector<folio::hub::RepoSummary> m_rows;
    bool m_busy = false;
    QString m_error;
    int m_generation = 0;
};
