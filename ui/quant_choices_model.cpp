#include "quant_choices_model.h"

#include <QLocale>
#include <algorithm>
#include <exception>
#include <optional>

#include "models_async.h"

namespace {

constexpr int64_t kContextCap = 4096;

struct Loaded {
    std::vector<QuantChoicesModel::Choice> choices;
    int64_t available = 0;
    int64_t context = 0;
    QString error;
};

// The same steps as `folio quants` (app/folio/cmd_quants.cpp).
Loaded loadChoices(const folio::hub::HubConfig& config, const std::string& repo,
                   const std::string& revision) {
    namespace hub = folio::hub;
    Loaded out;
    try {
        const hub::HubClient client(config);
        const auto options = hub::group_quant_options(client.list_files(repo, revision));
        if (options.empty()) {
            out.error = QObject::tr("%1 has no GGUF files").arg(QString::fromStdString(repo));
            return out;
        }
        const hub::ProbedHeaders probed =
            hub::probe_option_headers(client, repo, revision, options);
        const std::optional<hub::RemoteGgufInfo>& header = probed.header;
        const std::vector<bool>& failed = probed.failed;
        if (!probed.warnings.empty()) out.error = QString::fromStdString(probed.warnings.back());
        out.context = header && header->context_length > 0
                          ? std::min(header->context_length, kContextCap)
                          : kContextCap;
        out.available = hub::available_memory_bytes();
        std::vector<hub::QuantOption> knownOptions;
        std::vector<hub::MemoryEstimate> knownEstimates;
        std::vector<size_t> knownIndex;
        for (size_t i = 0; i < options.size(); ++i) {
            QuantChoicesModel::Choice c;
            c.option = options[i];
            c.known = header.has_value() && !failed[i] && out.available > 0;
            if (c.known) {
                c.estimate =
                    hub::estimate_memory(*header, c.option.total_size, out.context, out.available);
                knownOptions.push_back(c.option);
                knownEstimates.push_back(c.estimate);
                knownIndex.push_back(i);
            }
            out.choices.push_back(std::move(c));
        }
        const int rec = hub::recommend_option(knownOptions, knownEstimates);
        if (rec >= 0) out.choices[knownIndex[static_cast<size_t>(rec)]].recommended = true;
    } catch (const std::exception& e) {
        out.choices.clear();
        out.error = QString::fromStdString(e.what());
    }
    return out;
}

}  // namespace

QuantChoicesModel::QuantChoicesModel(folio::hub::HubConfig config, QObject* parent)
    : QAbstractListModel(parent), m_config(std::move(config)) {}

int QuantChoicesModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant QuantChoicesModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Choice& c = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
        case QuantRole:
            return QString::fromStdString(c.option.quant);
        case FileRole:
            return QString::fromStdString(c.option.files.front().path);
        case PartsRole:
            return static_cast<int>(c.option.files.size());
        case SizeRole:
            return QVariant::fromValue<qint64>(c.option.total_size);
        case SizeTextRole:
            return QLocale().formattedDataSize(c.option.total_size);
        case MemoryRole:
            return QVariant::fromValue<qint64>(c.known ? c.estimate.total_bytes : 0);
        case MemoryTextRole:
            return c.known ? QLocale().formattedDataSize(c.estimate.total_bytes)
                           : QStringLiteral("?");
        case FitRole:
            return c.known ? QString::fromUtf8(folio::hub::fit_name(c.estimate.fit))
                           : QStringLiteral("unknown");
        case RecommendedRole:
            return c.recommended;
        case CompleteRole:
            return c.option.complete;
        default:
            return {};
    }
}

QHash<int, QByteArray> QuantChoicesModel::roleNames() const {
    return {{QuantRole, "quant"},
            {FileRole, "file"},
            {PartsRole, "parts"},
            {SizeRole, "size"},
            {SizeTextRole, "sizeText"},
            {MemoryRole, "memory"},
            {MemoryTextRole, "memoryText"},
            {FitRole, "fit"},
            {RecommendedRole, "recommended"},
            {CompleteRole, "complete"}};
}

folio::store::PullSpec QuantChoicesModel::pullSpec(int row) const {
    folio::store::PullSpec spec;
    spec.repo = m_repoId;
    spec.revision = m_revision;
    if (row >= 0 && row < rowCount() && m_rows[static_cast<size_t>(row)].option.complete) {
        spec.files = m_rows[static_cast<size_t>(row)].option.files;
    }
    return spec;
}

void QuantChoicesModel::load(const QString& repo) {
    const int generation = ++m_generation;
    auto [id, revision] = folio::hub::split_repo_revision(repo.trimmed().toStdString());
    m_repo = repo.trimmed();
    m_repoId = id;
    m_revision = revision;
    emit repoChanged();
    beginResetModel();
    const bool hadRows = !m_rows.empty();
    m_rows.clear();
    endResetModel();
    if (hadRows) emit countChanged();
    if (!m_busy) {
        m_busy = true;
        emit busyChanged();
    }
    runAsync(
        this, [config = m_config, id, revision] { return loadChoices(config, id, revision); },
        [this, generation](const Loaded& l) {
            if (generation != m_generation) return;
            beginResetModel();
            m_rows = l.choices;
            endResetModel();
            if (!m_rows.empty()) emit countChanged();
            m_available = l.available;
            m_context = l.context;
            if (l.error != m_error) {
                m_error = l.error;
                emit errorChanged();
            }
            m_busy = false;
            emit busyChanged();
            emit finished();
        });
}
