// SettingsStore: get/set over the settings(key, value) table (schema v2).
#include <mutex>

#include "folio/store.h"
#include "store/sqlite_handle.h"

namespace folio::store {

struct SettingsStore::Impl {
    mutable std::mutex mu;
    std::unique_ptr<Database> db;
};

SettingsStore::SettingsStore(const Library& library) : m_impl(std::make_unique<Impl>()) {
    m_impl->db = std::make_unique<Database>(library.db_path());
}

SettingsStore::~SettingsStore() = default;

std::optional<std::string> SettingsStore::get(const std::string& key) const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "SELECT value FROM settings WHERE key = ?");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    return st.column_text(0);
}

std::string SettingsStore::get_or(const std::string& key, const std::string& fallback) const {
    return get(key).value_or(fallback);
}

void SettingsStore::set(const std::string& key, const std::string& value) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 "INSERT INTO settings (key, value) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    st.bind(1, key).bind(2, value).run();
}

void SettingsStore::remove(const std::string& key) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "DELETE FROM settings WHERE key = ?");
    st.bind(1, key).run();
}

std::vector<std::pair<std::string, std::string>> SettingsStore::all() const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "SELECT key, value FROM settings ORDER BY key");
    return st.rows(
        [](const Statement& r) { return std::pair(r.column_text(0), r.column_text(1)); });
}

}  // namespace folio::store
