// DocumentStore: the documents and document_results tables (schema v2 and v3).
#include <mutex>

#include "folio/store.h"
#include "store/sqlite_handle.h"

namespace folio::store {

namespace {}  // namespace

struct DocumentStore::Impl {
    mutable std::mutex mu;
    std::unique_ptr<Database> db;
};

DocumentStore::DocumentStore(const Library& library) : m_impl(std::make_unique<Impl>()) {
    m_impl->db = std::make_unique<Database>(library.db_path());
    m_impl->db->exec("PRAGMA foreign_keys = ON");
}

DocumentStore::~DocumentStore() = default;

int64_t DocumentStore::add_document(const std::string& path, const std::string& title,
                                    const std::string& sha256) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 "INSERT INTO documents (path, title, sha256, added) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(path) DO UPDATE SET title = excluded.title, "
                 "sha256 = excluded.sha256 RETURNING id");
    st.bind(1, path).bind(2, title).bind(3, sha256).bind(4, unix_now());
    if (!st.step()) throw StoreError("could not add the document " + path);
    const int64_t id = st.column_int(0);
    st.reset();
    return id;
}

std::optional<DocumentRecord> DocumentStore::find_document(int64_t id) const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "SELECT id, path, title, sha256, added FROM documents WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return DocumentRecord{st.column_int(0), st.column_text(1), st.column_text(2), st.column_text(3),
                          st.column_int(4)};
}

std::vector<DocumentRecord> DocumentStore::documents() const {
    std::lock_guard lock(m_impl->mu);
    Statement st(
        *m_impl->db,
        "SELECT id, path, title, sha256, added FROM documents ORDER BY added DESC, id DESC");
    return st.rows([](const Statement& r) {
        return DocumentRecord{r.column_int(0), r.column_text(1), r.column_text(2), r.column_text(3),
                              r.column_int(4)};
    });
}

void DocumentStore::remove_document(int64_t id) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "DELETE FROM documents WHERE id = ?");
    st.bind(1, id).run();
    if (m_impl->db->changes() == 0) throw StoreError("no document " + std::to_string(id));
}

int64_t DocumentStore::add_result(int64_t document_id, const std::string& task,
                                  const std::string& question, const std::string& result) {
    std::lock_guard lock(m_impl->mu);
    {
        Statement check(*m_impl->db, "SELECT 1 FROM documents WHERE id = ?");
        check.bind(1, document_id);
        if (!check.step()) throw StoreError("no document " + std::to_string(document_id));
    }
    Statement st(*m_impl->db,
                 "INSERT INTO document_results (document_id, task, question, result, created) "
                 "VALUES (?, ?, ?, ?, ?)");
    st.bind(1, document_id).bind(2, task).bind(3, question).bind(4, result).bind(5, unix_now());
    st.run();
    return m_impl->db->last_insert_rowid();
}

std::vector<DocumentResultRecord> DocumentStore::results(int64_t document_id) const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 "SELECT id, document_id, task, question, result, created FROM document_results "
                 "WHERE document_id = ? ORDER BY id");
    st.bind(1, document_id);
    return st.rows([](const Statement& r) {
        return DocumentResultRecord{r.column_int(0),  r.column_int(1),  r.column_text(2),
                                    r.column_text(3), r.column_text(4), r.column_int(5)};
    });
}

void DocumentStore::remove_result(int64_t result_id) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "DELETE FROM document_results WHERE id = ?");
    st.bind(1, result_id).run();
    if (m_impl->db->changes() == 0)
        throw StoreError("no document result " + std::to_string(result_id));
}

}  // namespace folio::store
