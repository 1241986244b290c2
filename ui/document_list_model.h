#pragma once
// DocumentListModel: the Documents page's jobs (one row per document run), newest last; results
// stored by earlier runs come first, loaded as "done" rows. Rows are added, updated and removed
// by the DocumentProcessor on the GUI thread.
#include <QAbstractListModel>
#include <QString>
#include <functional>
#include <vector>

struct DocumentJob {
    int id = 0;             // the processor's job id
    qint64 documentId = 0;  // documents.id once stored
    qint64 resultId = 0;    // document_results.id once stored
    QString path;
    QString title;
    QString task;  // "summarize", "keypoints", "ask"
    QString question;
    QString state;  // "reading", "running", "combining", "done", "cancelled", "error"
    int chunksDone = 0;
    int chunksTotal = 0;
    QString result;
    QString error;
    qint64 created = 0;  // unix seconds the result was stored (rows loaded from the library)
    // Every chunk request was submitted before any of them finished (they ran batched).
    bool batched = false;
};

class DocumentListModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

  public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        TitleRole,
        PathRole,
        TaskRole,
        QuestionRole,
        StateRole,
        ProgressRole,  // 0..1: chunks done / total (1 when done)
        ChunksDoneRole,
        ChunksTotalRole,
        ResultRole,
        ErrorRole,
    };

    using QAbstractListModel::QAbstractListModel;

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void add(const DocumentJob& job);
    // Applies `change` to the job with that id (ignored when unknown) and signals the row.
    void update(int id, const std::function<void(DocumentJob&)>& change);
    // Removes the job's row; false when unknown.
    bool remove(int id);
    const DocumentJob* find(int id) const;
    Q_INVOKABLE int rowOf(int id) const;

  signals:
    void countChanged();

  private:
    std::vector<DocumentJob> m_jobs;
};
