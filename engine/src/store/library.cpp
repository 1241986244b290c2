// The model library: folio.db (see store.h for the crash-safety rules) and models/.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>

#include "folio/store.h"
#include "gguf/gguf_file.h"
#include "hub/sha256.h"
#include "store/schema.h"
#include "store/sqlite_handle.h"

namespace folio::store {
namespace fs = std::filesystem;

namespace {

DownloadState parse_state(const std::string& s) {
    if (s == "running") return DownloadState::Running;
    if (s == "paused") return DownloadState::Paused;
    if (s == "failed") return DownloadState::Failed;
    return DownloadState::Queued;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Fills architecture, parameters, context length and weight type from the GGUF headers.
void read_gguf_facts(ModelRecord& m) {
    int64_t params = 0;
    std::map<std::string, uint64_t> bytes_by_type;
    for (size_t i = 0; i < m.files.size(); ++i) {
        std::unique_ptr<gguf::GgufFile> g;
        try {
            g = gguf::GgufFile::open(m.files[i].path);
        } catch (const std::exception&) {
            return;  // not a GGUF (or unreadable): leave the facts unknown
        }
        if (i == 0) {
            if (m.architecture.empty()) {
                if (auto a = g->get_string("general.architecture")) m.architecture = *a;
            }
            if (m.context_length == 0 && !m.architecture.empty()) {
                if (auto c = g->get_int(m.architecture + ".context_length")) {
                    m.context_length = *c;
                }
            }
        }
        for (const auto& t : g->tensors()) {
            params += t.num_elements();
            if (t.n_dims >= 2) bytes_by_type[std::string(dtype_name(t.type))] += t.nbytes;
        }
    }
    if (m.parameters == 0) m.parameters = params;
    if (m.weight_type.empty()) m.weight_type = hub::quant_from_filename(m.file);
    if (m.weight_type.empty() && !bytes_by_type.empty()) {
        auto top = std::max_element(bytes_by_type.begin(), bytes_by_type.end(),
                                    [](auto& a, auto& b) { return a.second < b.second; });
        m.weight_type = upper(top->first);
    }
}

bool safe_component(const fs::path& p) {
    if (p.empty() || p.is_absolute()) return false;
    for (const auto& part : p) {
        if (part == ".." || part == "." || part.empty()) return false;
    }
    return true;
}

std::string canonical_text(const fs::path& p) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
    return (ec ? fs::absolute(p) : c).string();
}

void remove_empty_parents(fs::path dir, const fs::path& stop) {
    std::error_code ec;
    while (dir.has_parent_path() && dir != stop && dir.string().starts_with(stop.string())) {
        if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec)) return;
        fs::remove(dir, ec);
        dir = dir.parent_path();
    }
}

constexpr const char* kModelColumns =
    "SELECT id, repo, revision, file, path, size, sha256, architecture, parameters, "
    "context_length, weight_type, added, last_used FROM models";

ModelRecord read_model(const Statement& st) {
    ModelRecord m;
    m.id = st.column_int(0);
    m.repo = st.column_text(1);
    m.revision = st.column_text(2);
    m.file = st.column_text(3);
    m.path = st.column_text(4);
    m.size = st.column_int(5);
    m.sha256 = st.column_text(6);
    m.architecture = st.column_text(7);
    m.parameters = st.column_int(8);
    m.context_length = st.column_int(9);
    m.weight_type = st.column_text(10);
    m.added = st.column_int(11);
    m.last_used = st.column_int(12);
    return m;
}

constexpr const char* kDownloadColumns =
    "SELECT id, repo, revision, file, url, expected_size, sha256, bytes_done, part_path, state, "
    "error, updated FROM downloads";

DownloadRecord read_download(const Statement& st) {
    DownloadRecord d;
    d.id = st.column_int(0);
    d.repo = st.column_text(1);
    d.revision = st.column_text(2);
    d.file = st.column_text(3);
    d.url = st.column_text(4);
    d.expected_size = st.column_int(5);
    d.sha256 = st.column_text(6);
    d.bytes_done = st.column_int(7);
    d.part_path = st.column_text(8);
    d.state = parse_state(st.column_text(9));
    d.error = st.column_text(10);
    d.updated = st.column_int(11);
    return d;
}

}  // namespace

const char* download_state_name(DownloadState state) {
    switch (state) {
        case DownloadState::Queued:
            return "queued";
        case DownloadState::Running:
            return "running";
        case DownloadState::Paused:
            return "paused";
        case DownloadState::Failed:
            return "failed";
    }
    return "queued";
}

std::string sha256_file(const fs::path& path) {
    try {
        return hub::sha256_file(path);
    } catch (const std::runtime_error& e) {
        throw StoreError(e.what());
    }
}

struct Library::Impl {
    fs::path data_dir;
    mutable std::mutex mu;
    std::unique_ptr<Database> db;
    ReconcileReport last;

    std::vector<ModelFile> files_of(int64_t model_id) const {
        Statement st(*db,
                     "SELECT file, path, size, sha256 FROM model_files WHERE model_id = ? "
                     "ORDER BY id");
        st.bind(1, model_id);
        return st.rows([](const Statement& r) {
            return ModelFile{r.column_text(0), r.column_text(1), r.column_int(2), r.column_text(3)};
        });
    }

    std::vector<ModelRecord> query_models(const std::string& where, int64_t id,
                                          const std::vector<std::string>& texts) const {
        Statement st(*db, std::string(kModelColumns) + where + " ORDER BY id");
        int i = 1;
        if (id != 0) st.bind(i++, id);
        for (const auto& t : texts) st.bind(i++, t);
        std::vector<ModelRecord> out = st.rows(read_model);
        for (auto& m : out) m.files = files_of(m.id);
        return out;
    }

    ReconcileReport reconcile() {
        ReconcileReport report;
        std::vector<int64_t> doomed;
        for (const auto& m : query_models("", 0, {})) {
            std::vector<ModelFile> files = m.files;
            if (files.empty()) files.push_back({m.file, m.path, m.size, m.sha256});
            for (const auto& f : files) {
                std::error_code ec;
                const auto size = fs::file_size(f.path, ec);
                if (ec) {
                    report.removed.push_back(f.path.string() + ": missing");
                } else if (static_cast<int64_t>(size) != f.size) {
                    report.removed.push_back(f.path.string() + ": size " + std::to_string(size) +
                                             ", expected " + std::to_string(f.size));
                } else {
                    continue;
                }
                doomed.push_back(m.id);
                break;
            }
        }
        if (!doomed.empty()) {
            Transaction tx(*db);
            Statement del(*db, "DELETE FROM models WHERE id = ?");
            for (int64_t id : doomed) {
                del.bind(1, id);
                del.run();
                del.reset();
            }
            tx.commit();
        }
        // .part files without a downloads row can never be resumed: remove them.
        std::set<std::string> known;
        {
            Statement st(*db, "SELECT part_path FROM downloads");
            while (st.step()) known.insert(canonical_text(st.column_text(0)));
        }
        std::error_code ec;
        const fs::path models = data_dir / "models";
        for (auto it = fs::recursive_directory_iterator(models, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_regular_file(ec) || it->path().extension() != ".part") continue;
            if (known.count(canonical_text(it->path())) == 0) {
                report.orphan_parts.push_back(it->path());
            }
        }
        for (const auto& p : report.orphan_parts) fs::remove(p, ec);
        last = report;
        return report;
    }
};

fs::path Library::default_data_dir() {
    if (const char* d = std::getenv("FOLIO_DATA_DIR"); d && *d) return fs::path(d);
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "folio";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : ".") / ".local" / "share" / "folio";
}

Library::Library(const fs::path& data_dir) : m_impl(std::make_unique<Impl>()) {
    m_impl->data_dir = fs::absolute(data_dir);
    std::error_code ec;
    fs::create_directories(m_impl->data_dir / "models", ec);
    if (ec) {
        throw StoreError("cannot create " + (m_impl->data_dir / "models").string() + ": " +
                         ec.message());
    }
    m_impl->db = std::make_unique<Database>(m_impl->data_dir / "folio.db");
    Database& db = *m_impl->db;
    if (db.query_text("PRAGMA journal_mode = WAL") != "wal") {
        throw StoreError(db_path().string() + ": cannot switch to WAL mode");
    }
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db, kSchemaVersion);
    std::lock_guard lock(m_impl->mu);
    m_impl->reconcile();
}

Library::~Library() = default;

const fs::path& Library::data_dir() const {
    return m_impl->data_dir;
}
fs::path Library::db_path() const {
    return m_impl->data_dir / "folio.db";
}
fs::path Library::models_dir() const {
    return m_impl->data_dir / "models";
}

fs::path Library::model_path(const std::string& repo, const std::string& file) const {
    const fs::path r(repo), f(file);
    if (!safe_component(r) || std::distance(r.begin(), r.end()) != 2) {
        throw StoreError("bad repo id \"" + repo + "\": expected owner/name");
    }
    if (!safe_component(f)) throw StoreError("bad file path \"" + file + "\" in " + repo);
    return models_dir() / r / f;
}

ReconcileReport Library::last_reconcile() const {
    std::lock_guard lock(m_impl->mu);
    return m_impl->last;
}

ReconcileReport Library::reconcile() {
    std::lock_guard lock(m_impl->mu);
    return m_impl->reconcile();
}

std::vector<ModelRecord> Library::models() const {
    std::lock_guard lock(m_impl->mu);
    return m_impl->query_models("", 0, {});
}

std::optional<ModelRecord> Library::find_model(int64_t id) const {
    std::lock_guard lock(m_impl->mu);
    auto v = m_impl->query_models(" WHERE id = ?", id, {});
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::optional<ModelRecord> Library::find_model_by_path(const fs::path& path) const {
    std::lock_guard lock(m_impl->mu);
    auto v = m_impl->query_models(
        " WHERE id IN (SELECT model_id FROM model_files WHERE path = ?) OR path = ?", 0,
        {canonical_text(path), canonical_text(path)});
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::optional<ModelRecord> Library::find_model(const std::string& repo, const std::string& revision,
                                               const std::string& file) const {
    std::lock_guard lock(m_impl->mu);
    auto v = m_impl->query_models(" WHERE repo = ? AND revision = ? AND file = ?", 0,
                                  {repo, revision, file});
    if (v.empty()) return std::nullopt;
    return v.front();
}

int64_t Library::add_model(ModelRecord m) {
    if (m.files.empty()) {
        if (m.path.empty()) throw StoreError("add_model: no file");
        m.files.push_back(
            {m.file.empty() ? m.path.filename().string() : m.file, m.path, m.size, m.sha256});
    }
    int64_t total = 0;
    for (auto& f : m.files) {
        if (f.path.empty()) throw StoreError("add_model: a file has no path");
        f.path = canonical_text(f.path);
        std::error_code ec;
        const auto size = fs::file_size(f.path, ec);
        if (ec) throw StoreError("cannot add " + f.path.string() + ": " + ec.message());
        if (f.size == 0) f.size = static_cast<int64_t>(size);
        if (static_cast<int64_t>(size) != f.size) {
            throw StoreError("cannot add " + f.path.string() + ": size " + std::to_string(size) +
                             ", expected " + std::to_string(f.size));
        }
        if (f.file.empty()) f.file = f.path.filename().string();
        total += f.size;
    }
    m.file = m.files.front().file;
    m.path = m.files.front().path;
    m.sha256 = m.files.front().sha256;
    m.size = total;
    read_gguf_facts(m);

    std::lock_guard lock(m_impl->mu);
    Database& db = *m_impl->db;
    Transaction tx(db);
    {
        Statement del(db, "DELETE FROM models WHERE repo = ? AND revision = ? AND file = ?");
        del.bind(1, m.repo).bind(2, m.revision).bind(3, m.file).run();
    }
    Statement ins(db,
                  "INSERT INTO models (repo, revision, file, path, size, sha256, architecture, "
                  "parameters, context_length, weight_type, added, last_used) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)");
    ins.bind(1, m.repo).bind(2, m.revision).bind(3, m.file).bind(4, m.path.string());
    ins.bind(5, m.size).bind(6, m.sha256).bind(7, m.architecture).bind(8, m.parameters);
    ins.bind(9, m.context_length).bind(10, m.weight_type).bind(11, unix_now());
    ins.run();
    const int64_t id = db.last_insert_rowid();
    Statement file_ins(db,
                       "INSERT INTO model_files (model_id, file, path, size, sha256) "
                       "VALUES (?, ?, ?, ?, ?)");
    Statement dl_del(db, "DELETE FROM downloads WHERE repo = ? AND revision = ? AND file = ?");
    for (const auto& f : m.files) {
        file_ins.bind(1, id).bind(2, f.file).bind(3, f.path.string()).bind(4, f.size);
        file_ins.bind(5, f.sha256).run();
        file_ins.reset();
        dl_del.bind(1, m.repo).bind(2, m.revision).bind(3, f.file).run();
        dl_del.reset();
    }
    tx.commit();
    return id;
}

void Library::remove_model(int64_t id, bool delete_files) {
    auto m = find_model(id);
    if (!m) throw StoreError("no model with id " + std::to_string(id) + " in the library");
    {
        std::lock_guard lock(m_impl->mu);
        Statement del(*m_impl->db, "DELETE FROM models WHERE id = ?");
        del.bind(1, id).run();
    }
    // The row goes first: a crash in between leaves a stray file, never a row without a file.
    if (!delete_files) return;
    std::vector<ModelFile> files = m->files;
    if (files.empty()) files.push_back({m->file, m->path, m->size, m->sha256});
    for (const auto& f : files) {
        std::error_code ec;
        fs::remove(f.path, ec);
        remove_empty_parents(f.path.parent_path(), models_dir());
    }
}

void Library::touch_model(int64_t id) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "UPDATE models SET last_used = ? WHERE id = ?");
    st.bind(1, unix_now()).bind(2, id).run();
}

int64_t Library::upsert_download(const DownloadRecord& d) {
    if (d.repo.empty() || d.file.empty() || d.part_path.empty()) {
        throw StoreError("upsert_download: repo, file and part path are required");
    }
    std::lock_guard lock(m_impl->mu);
    Database& db = *m_impl->db;
    Statement st(db,
                 "INSERT INTO downloads (repo, revision, file, url, expected_size, sha256, "
                 "bytes_done, part_path, state, error, updated) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (repo, revision, file) DO UPDATE SET url = excluded.url, "
                 "expected_size = excluded.expected_size, sha256 = excluded.sha256, "
                 "bytes_done = excluded.bytes_done, part_path = excluded.part_path, "
                 "state = excluded.state, error = excluded.error, updated = excluded.updated "
                 "RETURNING id");
    st.bind(1, d.repo).bind(2, d.revision).bind(3, d.file).bind(4, d.url);
    st.bind(5, d.expected_size).bind(6, d.sha256).bind(7, d.bytes_done);
    st.bind(8, canonical_text(d.part_path)).bind(9, std::string(download_state_name(d.state)));
    st.bind(10, d.error).bind(11, unix_now());
    if (!st.step()) db.fail("upsert_download");
    const int64_t id = st.column_int(0);
    st.run();
    return id;
}

void Library::update_download(int64_t id, int64_t bytes_done, DownloadState state,
                              const std::string& error) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 "UPDATE downloads SET bytes_done = ?, state = ?, error = ?, "
                 "updated = ? WHERE id = ?");
    st.bind(1, bytes_done).bind(2, std::string(download_state_name(state))).bind(3, error);
    st.bind(4, unix_now()).bind(5, id).run();
}

void Library::remove_download(int64_t id) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "DELETE FROM downloads WHERE id = ?");
    st.bind(1, id).run();
}

std::vector<DownloadRecord> Library::downloads() const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, std::string(kDownloadColumns) + " ORDER BY id");
    return st.rows(read_download);
}

std::optional<DownloadRecord> Library::find_download(const std::string& repo,
                                                     const std::string& revision,
                                                     const std::string& file) const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 std::string(kDownloadColumns) + " WHERE repo = ? AND revision = ? AND file = ?");
    st.bind(1, repo).bind(2, revision).bind(3, file);
    if (!st.step()) return std::nullopt;
    return read_download(st);
}

int Library::schema_version() const {
    std::lock_guard lock(m_impl->mu);
    return static_cast<int>(m_impl->db->query_int("PRAGMA user_version"));
}

std::string Library::integrity_check() const {
    std::lock_guard lock(m_impl->mu);
    return m_impl->db->query_text("PRAGMA integrity_check");
}

std::string Library::journal_mode() const {
    std::lock_guard lock(m_impl->mu);
    return m_impl->db->query_text("PRAGMA journal_mode");
}

bool Library::foreign_keys() const {
    std::lock_guard lock(m_impl->mu);
    return m_impl->db->query_int("PRAGMA foreign_keys") == 1;
}

}  // namespace folio::store
