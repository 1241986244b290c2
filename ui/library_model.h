#pragma once
// LibraryModel: the models in the local library (folio::store::Library) for the Models page, with
// the default model (settings key "models.default": its path) marked. Reads and changes run on a
// worker thread; the rows are replaced when a refresh finishes (refreshed()). Errors go to
// `error`, never as exceptions. GUI thread only.
#include <QAbstractListModel>
#include <QString>
#include <memory>
#include <vector>

#include "folio/store.h"

class LibraryModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QString defaultPath READ defaultPath NOTIFY defaultChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)

  public:
    enum Roles {
        NameRole = Qt::UserRole + 1,
        IdRole,
        RepoRole,
        FileRole,
        PathRole,
        SizeRole,
        SizeTextRole,
        WeightTypeRole,
        ArchitectureRole,
        ContextLengthRole,
        IsDefaultRole,
    };
    static constexpr const char* kDefaultKey = "models.default";

    // Starts the first refresh. The library is shared with the worker threads.
    explicit LibraryModel(std::shared_ptr<folio::store::Library> library,
                          QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString defaultPath() const { return m_defaultPath; }
    QString error() const { return m_error; }

  public slots:
    // Reloads the rows from the library (refreshed() follows).
    void refresh();
    // Deletes the model of `row` and, when they lie in the library's models folder, its files
    // (a file added by hand stays on disk), then refreshes. False for a bad row.
    bool removeModel(int row);
    // Makes the model of `row` the default (saved in the settings table). False for a bad row.
    bool setDefault(int row);

  signals:
    void countChanged();
    void defaultChanged();
    void errorChanged();
    void refreshed();

  private:
    void setError(const QString& error);

    std::shared_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::SettingsStore> m_settings;
    std::vector<folio::store::ModelRecord> m_rows;
    QString m_defaultPath;
    QString m_error;
    int m_generation = 0;
};
