#pragma once
// DocumentProcessor: the Documents page's engine work — summarize a .txt, .md or .pdf file,
// extract its key points, or answer a question about it.
//
// process() starts a job on a worker thread of its own: it reads the file's text (DocumentText:
// PDFs through Poppler), tokenizes it with the
// model's vocabulary and splits it into chunks that fit the context with room for the
// instruction (rendered with the model's chat template) and the answer. All chunk requests are
// submitted at once, so the engine runs them batched; each one finished moves the job's
// progress. Several chunks are then combined by a final request over their results. The result
// is stored in the library (documents + document_results) and can be exported as Markdown;
// results stored by earlier runs are loaded as "done" jobs when the processor is created.
// cancel() aborts every request of the job. Everything the worker tells the GUI thread goes
// through queued invocations; the job's state lives in the DocumentListModel.
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariant>
#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include "document_list_model.h"

class EngineClient;
namespace folio::store {
class DocumentStore;
}

class DocumentProcessor : public QObject {
    Q_OBJECT
    Q_PROPERTY(QObject* jobs READ jobsObject CONSTANT)
    // Why the last process() or remove() call refused ("" after one that did not).
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
    // File dialog filters: the supported documents first.
    Q_PROPERTY(QStringList nameFilters READ nameFilters CONSTANT)

  public:
    // The store is shared with the worker threads; its stored results become "done" jobs.
    DocumentProcessor(EngineClient* client, std::shared_ptr<folio::store::DocumentStore> store,
                      QObject* parent = nullptr);
    // Cancels every job and waits for the worker threads.
    ~DocumentProcessor() override;

    DocumentListModel* jobs() { return &m_jobs; }
    QObject* jobsObject() { return &m_jobs; }
    // Tokens kept free for each answer (chunk answers and the combined one).
    void setAnswerTokens(int tokens) { m_answerTokens = tokens; }

    QString lastError() const { return m_lastError; }
    QStringList nameFilters() const;

    // Starts a job; its id, or -1 (and nothing starts, lastError says why) for a file type
    // other than .txt/.md/.pdf, without a model, for an unknown task or an "ask" without a
    // question. task: "summarize", "keypoints" or "ask". path: a local path or a file:// URL.
    Q_INVOKABLE int process(const QString& path, const QString& task,
                            const QString& question = QString());
    // Aborts the job's requests; it ends in state "cancelled".
    Q_INVOKABLE void cancel(int id);
    // Writes the job's result as a Markdown file; false when it has none or the write fails.
    Q_INVOKABLE bool exportMarkdown(int id, const QString& path);
    // Where Export suggests writing the job's result: "<title>.<task>.md" beside the document
    // (in the home folder when that folder is gone), as a file URL; empty for an unknown job.
    Q_INVOKABLE QUrl exportSuggestion(int id) const;
    // Removes a finished, failed or cancelled job from the list, and its stored result from the
    // library (the document too once no result of it is left). false for a running or unknown
    // job, or when the library refuses (lastError).
    Q_INVOKABLE bool remove(int id);
    // Dropped or chosen files (QUrl, URL text or path; one or a list) as local paths of the
    // supported types, in order; the others are left out.
    Q_INVOKABLE QStringList supportedPaths(const QVariant& urls) const;

  signals:
    // Every chunk request of the job was submitted (before this, no chunk is counted done).
    void chunksSubmitted(int id, int total);
    void progress(int id, int done, int total);
    // state: "done", "cancelled" or "error".
    void finished(int id, const QString& state);
    void lastErrorChanged();

  private:
    struct Work;
    void loadStored();
    void setLastError(const QString& error);
    void run(std::shared_ptr<Work> work);
    void finish(int id, const QString& state, const QString& result, const QString& error,
                qint64 documentId, qint64 resultId, bool batched);

    EngineClient* m_client;
    std::shared_ptr<folio::store::DocumentStore> m_store;
    DocumentListModel m_jobs;
    std::map<int, std::shared_ptr<std::atomic<bool>>> m_cancel;
    std::map<int, std::thread> m_threads;
    int m_nextId = 1;
    int m_answerTokens = 256;
    QString m_lastError;
};
