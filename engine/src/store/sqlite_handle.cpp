#include "store/sqlite_handle.h"

#include <chrono>

namespace folio::store {

Database::Database(const std::filesystem::path& path) : m_path(path.string()) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(m_path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
        const std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        sqlite3_close(m_db);
        m_db = nullptr;
        throw StoreError("cannot open " + m_path + ": " + msg);
    }
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, 5000);
}

Database::~Database() {
    sqlite3_close(m_db);
}

void Database::fail(const std::string& what) const {
    throw StoreError(m_path + ": " + what + ": " + sqlite3_errmsg(m_db));
}

void Database::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err ? err : sqlite3_errmsg(m_db);
        sqlite3_free(err);
        throw StoreError(m_path + ": " + msg);
    }
}

Statement Database::prepare(std::string_view sql) {
    return Statement(*this, sql);
}

int64_t Database::query_int(const char* sql) {
    Statement st(*this, sql);
    return st.step() ? st.column_int(0) : 0;
}

std::string Database::query_text(const char* sql) {
    Statement st(*this, sql);
    return st.step() ? st.column_text(0) : std::string();
}

Statement::Statement(Database& db, std::string_view sql) : m_db(&db) {
    if (sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &m_stmt, nullptr) !=
        SQLITE_OK) {
        db.fail("cannot prepare \"" + std::string(sql.substr(0, 60)) + "\"");
    }
}

Statement::~Statement() {
    sqlite3_finalize(m_stmt);
}

Statement& Statement::bind(int index, int64_t value) {
    if (sqlite3_bind_int64(m_stmt, index, value) != SQLITE_OK) m_db->fail("bind");
    return *this;
}

Statement& Statement::bind(int index, const std::string& value) {
    if (sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
        m_db->fail("bind");
    }
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (sqlite3_bind_null(m_stmt, index) != SQLITE_OK) m_db->fail("bind");
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    m_db->fail("query failed");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::string Statement::column_text(int col) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
    return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col)))
                : std::string();
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace folio::store
