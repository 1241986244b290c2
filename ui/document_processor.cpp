#include "document_processor.h"

#include <QDebug>
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QUrl>
#include <algorithm>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chat/chat_template.h"
#include "document_text.h"
#include "engine_client.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

namespace {

constexpr const char* kSlot = "\x1f@@DOCUMENT@@\x1f";

std::string instructionFor(const std::string& task, const std::string& question, bool combine) {
    if (task == "keypoints") {
        return combine ? "Merge these key points of the parts of a document into one list of "
                         "the document's key points:"
                       : "List the key points of this text as short bullet points:";
    }
    if (task == "ask") {
        return combine ? "These are answers to the question \"" + question +
                             "\" from the parts of a document. Combine them into one answer:"
                       : "Answer the question \"" + question +
                             "\" from this text (say so if it does not tell):";
    }
    return combine ? "Combine these summaries of the parts of a document into one summary:"
                   : "Summarize this text:";
}

// A prompt template rendered with the model's chat template around a slot for document tokens:
// prefix + <document tokens> + suffix, so a chunk's prompt length is exact.
struct PromptFrame {
    std::vector<int32_t> prefix, suffix;
    size_t overhead() const { return prefix.size() + suffix.size(); }
    std::vector<int32_t> with(std::span<const int32_t> body) const {
        std::vector<int32_t> out(prefix);
        out.insert(out.end(), body.begin(), body.end());
        out.insert(out.end(), suffix.begin(), suffix.end());
        return out;
    }
};

PromptFrame makeFrame(const folio::Engine& engine, const folio::chat::ChatTemplate& tmpl,
                      const std::string& instruction) {
    const folio::Vocab& vocab = engine.model().vocab();
    const nlohmann::json messages =
        nlohmann::json::array({{{"role", "user"}, {"content", instruction + "\n\n" + kSlot}}});
    const std::string text =
        tmpl.render(messages, folio::chat::RenderOptions::for_model(engine.model()));
    const size_t at = text.find(kSlot);
    if (at == std::string::npos) throw std::runtime_error("the chat template dropped the text");
    PromptFrame frame;
    frame.prefix = vocab.tokenize(text.substr(0, at), false, true);
    frame.suffix = vocab.tokenize(text.substr(at + std::string(kSlot).size()), false, true);
    bool templateHasBos = false;
    if (vocab.bos() != folio::kNoToken) {
        const std::string_view bosText = vocab.token_text(vocab.bos());
        templateHasBos = !bosText.empty() && std::string_view(text).starts_with(bosText);
    }
    if (vocab.add_bos() && vocab.bos() != folio::kNoToken && !templateHasBos) {
        frame.prefix.insert(frame.prefix.begin(), vocab.bos());
    }
    return frame;
}

}  // namespace

struct DocumentProcessor::Work {
    int id = 0;
    std::string path, task, question;
    std::shared_ptr<folio::Engine> engine;
    std::shared_ptr<folio::store::DocumentStore> store;
    std::shared_ptr<std::atomic<bool>> cancelled;
    int answerTokens = 256;
};

DocumentProcessor::DocumentProcessor(EngineClient* client,
                                     std::shared_ptr<folio::store::DocumentStore> store,
                                     QObject* parent)
    : QObject(parent), m_client(client), m_store(std::move(store)) {
    loadStored();
}

void DocumentProcessor::loadStored() {
    if (!m_store) return;
    struct Stored {
        folio::store::DocumentRecord doc;
        folio::store::DocumentResultRecord result;
    };
    std::vector<Stored> stored;
    try {
        for (const auto& doc : m_store->documents()) {
            for (const auto& r : m_store->results(doc.id)) stored.push_back({doc, r});
        }
    } catch (const std::exception& e) {
        qWarning() << "documents: cannot load stored results:" << e.what();
        return;
    }
    // In the order they were stored, like the jobs run since.
    std::sort(stored.begin(), stored.end(),
              [](const Stored& a, const Stored& b) { return a.result.id < b.result.id; });
    for (const auto& s : stored) {
        DocumentJob job;
        job.id = m_nextId++;
        job.documentId = s.doc.id;
        job.resultId = s.result.id;
        job.path = QString::fromStdString(s.doc.path);
        job.title = QString::fromStdString(s.doc.title);
        job.task = QString::fromStdString(s.result.task);
        job.question = QString::fromStdString(s.result.question);
        job.result = QString::fromStdString(s.result.result);
        job.created = s.result.created;
        job.state = QStringLiteral("done");
        m_jobs.add(job);
    }
}

void DocumentProcessor::setLastError(const QString& error) {
    if (m_lastError == error) return;
    m_lastError = error;
    emit lastErrorChanged();
}

QStringList DocumentProcessor::nameFilters() const {
    return {tr("Documents (*.txt *.md *.pdf)"), tr("Text (*.txt *.md)"), tr("PDF (*.pdf)")};
}

QStringList DocumentProcessor::supportedPaths(const QVariant& urls) const {
    QVariantList items;
    if (urls.canConvert<QVariantList>() && urls.typeId() != QMetaType::QString &&
        urls.typeId() != QMetaType::QUrl) {
        items = urls.toList();
    } else {
        items = {urls};
    }
    QStringList out;
    for (const QVariant& item : items) {
        const QString path = item.typeId() == QMetaType::QUrl
                                 ? DocumentText::localPath(item.toUrl())
                                 : DocumentText::localPath(item.toString());
        if (!path.isEmpty() && DocumentText::isSupported(path)) out << path;
    }
    return out;
}

DocumentProcessor::~DocumentProcessor() {
    for (auto& [id, flag] : m_cancel) *flag = true;
    for (auto& [id, t] : m_threads) {
        if (t.joinable()) t.join();
    }
}

int DocumentProcessor::process(const QString& path, const QString& task, const QString& question) {
    const QString local = DocumentText::localPath(path);
    const QString unsupported = DocumentText::unsupportedMessage(local);
    if (!unsupported.isEmpty()) {
        setLastError(unsupported);
        return -1;
    }
    const auto engine = m_client ? m_client->engine() : nullptr;
    if (!engine) {
        setLastError(tr("Load a model first (Models page)."));
        return -1;
    }
    if (task != QLatin1String("summarize") && task != QLatin1String("keypoints") &&
        task != QLatin1String("ask")) {
        setLastError(tr("Unknown task \"%1\".").arg(task));
        return -1;
    }
    if (task == QLatin1String("ask") && question.trimmed().isEmpty()) {
        setLastError(tr("Type the question to ask."));
        return -1;
    }
    setLastError(QString());

    DocumentJob job;
    job.id = m_nextId++;
    job.path = local;
    job.title = QFileInfo(local).completeBaseName();
    job.task = task;
    job.question = question.trimmed();
    job.state = QStringLiteral("reading");
    m_jobs.add(job);

    auto work = std::make_shared<Work>();
    work->id = job.id;
    work->path = local.toStdString();
    work->task = task.toStdString();
    work->question = job.question.toStdString();
    work->engine = engine;
    work->store = m_store;
    work->cancelled = std::make_shared<std::atomic<bool>>(false);
    work->answerTokens = m_answerTokens;
    m_cancel[job.id] = work->cancelled;
    m_threads[job.id] = std::thread([this, work] { run(work); });
    return job.id;
}

void DocumentProcessor::cancel(int id) {
    const auto it = m_cancel.find(id);
    if (it != m_cancel.end()) *it->second = true;
}

bool DocumentProcessor::exportMarkdown(int id, const QString& path) {
    const DocumentJob* job = m_jobs.find(id);
    if (!job || job->state != QLatin1String("done")) return false;
    const QString local = DocumentText::localPath(path);
    if (local.isEmpty()) return false;
    const QString heading = job->task == QLatin1String("keypoints") ? tr("Key points")
                            : job->task == QLatin1String("ask")     ? tr("Answer")
                                                                    : tr("Summary");
    QString md = QStringLiteral("# %1: %2\n\n").arg(heading, job->title);
    md += QStringLiteral("Source: `%1`\n\n").arg(job->path);
    if (!job->question.isEmpty()) md += QStringLiteral("**Question:** %1\n\n").arg(job->question);
    md += job->result.trimmed() + QLatin1Char('\n');
    QSaveFile file(local);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    file.write(md.toUtf8());
    return file.commit();
}

QUrl DocumentProcessor::exportSuggestion(int id) const {
    const DocumentJob* job = m_jobs.find(id);
    if (!job) return {};
    QDir dir = QFileInfo(job->path).dir();
    if (job->path.isEmpty() || !dir.exists()) dir = QDir::home();
    QString name = job->title.isEmpty() ? QStringLiteral("document") : job->title;
    name.replace(QLatin1Char('/'), QLatin1Char('_'));
    return QUrl::fromLocalFile(
        dir.filePath(name + QLatin1Char('.') + job->task + QStringLiteral(".md")));
}

bool DocumentProcessor::remove(int id) {
    const DocumentJob* found = m_jobs.find(id);
    if (!found) return false;
    const DocumentJob job = *found;
    if (m_threads.count(id) != 0) {
        setLastError(tr("Cancel %1 before removing it.").arg(job.title));
        return false;
    }
    if (m_store && job.resultId > 0) {
        try {
            m_store->remove_result(job.resultId);
        } catch (const folio::store::StoreError&) {
            // Already gone from the library: the row still goes.
        } catch (const std::exception& e) {
            setLastError(QString::fromStdString(e.what()));
            return false;
        }
    }
    // The document goes with its last result, unless a job of it is still running.
    if (m_store && job.documentId > 0) {
        bool running = false;
        for (const auto& [otherId, t] : m_threads) {
            const DocumentJob* other = m_jobs.find(otherId);
            running |= other && other->path == job.path;
        }
        try {
            if (!running && m_store->results(job.documentId).empty()) {
                m_store->remove_document(job.documentId);
            }
        } catch (const std::exception& e) {
            qWarning() << "documents: cannot remove document" << job.documentId << e.what();
        }
    }
    setLastError(QString());
    return m_jobs.remove(id);
}

// Worker thread.
void DocumentProcessor::run(std::shared_ptr<Work> w) {
    QString state = QStringLiteral("error");
    QString result, error;
    qint64 documentId = 0, resultId = 0;
    bool batched = false;
    std::vector<folio::RequestHandle> handles;
    const auto post = [this](auto fn) {
        QMetaObject::invokeMethod(this, fn, Qt::QueuedConnection);
    };
    try {
        const DocumentText::Result read = DocumentText::read(QString::fromStdString(w->path));
        if (!read.ok()) throw std::runtime_error(read.error.toStdString());
        const std::string text = read.text.toStdString();
        const std::string sha = folio::store::sha256_file(w->path);
        const std::string title =
            QFileInfo(QString::fromStdString(w->path)).completeBaseName().toStdString();
        documentId = w->store->add_document(w->path, title, sha);

        folio::Engine& engine = *w->engine;
        const folio::Vocab& vocab = engine.model().vocab();
        const auto tmpl = folio::chat::ChatTemplate::for_model(engine.model());
        const int64_t context = engine.info().max_model_len;
        const int answer = static_cast<int>(
            std::clamp<int64_t>(w->answerTokens, 16, std::max<int64_t>(16, context / 4)));
        const PromptFrame chunkFrame =
            makeFrame(engine, tmpl, instructionFor(w->task, w->question, false));
        const int64_t room = context - answer - static_cast<int64_t>(chunkFrame.overhead());
        if (room < 16) throw std::runtime_error("the context is too small for documents");

        const std::vector<int32_t> tokens = vocab.tokenize(text, false, false);
        std::vector<std::span<const int32_t>> chunks;
        for (size_t at = 0; at < tokens.size(); at += static_cast<size_t>(room)) {
            const size_t n = std::min(static_cast<size_t>(room), tokens.size() - at);
            chunks.emplace_back(tokens.data() + at, n);
        }
        const int total = static_cast<int>(chunks.size());
        post([this, id = w->id, total] {
            m_jobs.update(id, [total](DocumentJob& j) {
                j.state = QStringLiteral("running");
                j.chunksTotal = total;
            });
        });

        folio::SamplingParams sampling;
        sampling.temperature = 0.3f;
        sampling.top_p = 0.95f;
        sampling.max_tokens = answer;
        sampling.min_tokens = 1;
        // Every chunk at once: the engine batches them.
        for (int i = 0; i < total && !*w->cancelled; ++i) {
            folio::RequestSpec spec;
            spec.prompt_tokens = chunkFrame.with(chunks[static_cast<size_t>(i)]);
            spec.sampling = sampling;
            handles.push_back(engine.submit(std::move(spec)));
        }
        post([this, id = w->id, total] { emit chunksSubmitted(id, total); });

        std::vector<std::string> texts(handles.size());
        std::vector<bool> done(handles.size(), false);
        std::vector<folio::RequestMetrics> metrics(handles.size());
        int numDone = 0;
        bool aborted = false;
        while (numDone < static_cast<int>(handles.size())) {
            if (*w->cancelled && !aborted) {
                for (auto& h : handles) h.abort();
                aborted = true;
            }
            bool progressed = false;
            for (size_t i = 0; i < handles.size(); ++i) {
                if (done[i]) continue;
                while (auto out = handles[i].try_next()) {
                    for (const auto& c : out->outputs) {
                        if (c.index == 0) texts[i] += c.text;
                    }
                    if (!out->finished) continue;
                    if (!out->error.empty()) throw std::runtime_error(out->error);
                    done[i] = true;
                    metrics[i] = out->metrics;
                    ++numDone;
                    progressed = true;
                    break;
                }
            }
            if (progressed && !aborted) {
                post([this, id = w->id, numDone, total] {
                    m_jobs.update(id, [numDone](DocumentJob& j) { j.chunksDone = numDone; });
                    emit progress(id, numDone, total);
                });
            } else if (!progressed) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
        if (*w->cancelled) {
            state = QStringLiteral("cancelled");
        } else {
            // Batched: the last request arrived before the first one finished.
            auto lastArrival = metrics.front().arrival_time;
            auto firstFinish = metrics.front().finished_time;
            for (const auto& m : metrics) {
                lastArrival = std::max(lastArrival, m.arrival_time);
                firstFinish = std::min(firstFinish, m.finished_time);
            }
            batched = handles.size() > 1 && lastArrival < firstFinish;
            std::string combined;
            if (texts.size() == 1) {
                combined = texts[0];
            } else {
                post([this, id = w->id] {
                    m_jobs.update(id,
                                  [](DocumentJob& j) { j.state = QStringLiteral("combining"); });
                });
                const PromptFrame frame =
                    makeFrame(engine, tmpl, instructionFor(w->task, w->question, true));
                std::string joined;
                for (size_t i = 0; i < texts.size(); ++i) {
                    joined += "Part " + std::to_string(i + 1) + ":\n" + texts[i] + "\n\n";
                }
                std::vector<int32_t> body = vocab.tokenize(joined, false, false);
                const int64_t fit = context - answer - static_cast<int64_t>(frame.overhead());
                if (fit < 1) throw std::runtime_error("the context is too small to combine");
                if (static_cast<int64_t>(body.size()) > fit) body.resize(static_cast<size_t>(fit));
                folio::RequestSpec spec;
                spec.prompt_tokens = frame.with(body);
                spec.sampling = sampling;
                folio::RequestHandle h = engine.submit(std::move(spec));
                if (*w->cancelled) h.abort();
                while (!h.done()) {
                    if (*w->cancelled) h.abort();
                    auto out = h.try_next();
                    if (!out) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(2));
                        continue;
                    }
                    for (const auto& c : out->outputs) {
                        if (c.index == 0) combined += c.text;
                    }
                    if (out->finished && !out->error.empty()) throw std::runtime_error(out->error);
                }
            }
            if (*w->cancelled) {
                state = QStringLiteral("cancelled");
            } else {
                resultId = w->store->add_result(documentId, w->task, w->question, combined);
                result = QString::fromStdString(combined);
                state = QStringLiteral("done");
            }
        }
    } catch (const std::exception& e) {
        for (auto& h : handles) h.abort();
        state = *w->cancelled ? QStringLiteral("cancelled") : QStringLiteral("error");
        error = QString::fromStdString(e.what());
    }
    handles.clear();  // aborts any request still live
    post([this, id = w->id, state, result, error, documentId, resultId, batched] {
        finish(id, state, result, error, documentId, resultId, batched);
    });
}

void DocumentProcessor::finish(int id, const QString& state, const QString& result,
                               const QString& error, qint64 documentId, qint64 resultId,
                               bool batched) {
    const auto t = m_threads.find(id);
    if (t != m_threads.end()) {
        if (t->second.joinable()) t->second.join();
        m_threads.erase(t);
    }
    m_cancel.erase(id);
    m_jobs.update(id, [&](DocumentJob& j) {
        j.state = state;
        j.result = result;
        j.error = error;
        j.documentId = documentId;
        j.resultId = resultId;
        j.batched = batched;
        if (state == QLatin1String("done")) j.chunksDone = j.chunksTotal;
    });
    emit finished(id, state);
}
