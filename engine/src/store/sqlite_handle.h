#pragma once
// RAII for sqlite3 connections and prepared statements. Every SQL with values goes through
// Statement binds; exec() is for fixed SQL text only (schema, pragmas, BEGIN/COMMIT).
// A Database is used by one thread at a time (the Library serializes with its own mutex).
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "folio/store.h"

namespace folio::store {

class Statement;

class Database {
  public:
    // Opens (creating if needed) the file; throws StoreError naming the path.
    explicit Database(const std::filesystem::path& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    sqlite3* get() const { return m_db; }
    // Runs fixed SQL (may hold several statements); throws StoreError with sqlite's message.
    void exec(const char* sql);
    Statement prepare(std::string_view sql);
    int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db); }
    int changes() const { return sqlite3_changes(m_db); }
    [[noreturn]] void fail(const std::string& what) const;

    // The first column of the first row of a fixed query (PRAGMA user_version, ...).
    int64_t query_int(const char* sql);
    std::string query_text(const char* sql);

  private:
    sqlite3* m_db = nullptr;
    std::string m_path;
};

class Statement {
  public:
    Statement(Database& db, std::string_view sql);
    ~Statement();
    Statement(Statement&& other) noexcept : m_db(other.m_db), m_stmt(other.m_stmt) {
        other.m_stmt = nullptr;
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;

    // 1-based parameter indices, as sqlite3_bind_*.
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, const std::string& value);
    Statement& bind(int index, const char* value) = delete;  // pass a std::string
    Statement& bind_null(int index);
    // Steps once: true while a row is available. Throws StoreError on errors.
    bool step();
    // Steps until done (INSERT/UPDATE/DELETE).
    void run();
    void reset();

    int64_t column_int(int col) const { return sqlite3_column_int64(m_stmt, col); }
    std::string column_text(int col) const;
    bool column_is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }

    // Steps to the end; each row as read(*this), in order.
    template <class Read>
    std::vector<std::invoke_result_t<Read&, const Statement&>> rows(Read read) {
        std::vector<std::invoke_result_t<Read&, const Statement&>> out;
        while (step()) out.push_back(read(*this));
        return out;
    }

  private:
    Database* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called.
class Transaction {
  public:
    explicit Transaction(Database& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!m_done) sqlite3_exec(m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        m_db.exec("COMMIT");
        m_done = true;
    }

  private:
    Database& m_db;
    bool m_done = false;
};

// Unix time in seconds (the store's created / updated / added columns).
int64_t unix_now();

}  // namespace folio::store
