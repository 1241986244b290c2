// ConversationStore: CRUD over the conversations and messages tables (schema v2; settings columns
// v4).
#include <mutex>

#include "folio/store.h"
#include "store/sqlite_handle.h"

namespace folio::store {
namespace {

constexpr const char* kConversationColumns =
    "SELECT id, title, coalesce(model_id, 0), created, updated, system_prompt, sampling "
    "FROM conversations";

ConversationRecord read_conversation(const Statement& st) {
    return {st.column_int(0), st.column_text(1), st.column_int(2), st.column_int(3),
            st.column_int(4), st.column_text(5), st.column_text(6)};
}

// `text` as a LIKE pattern matching it anywhere ('\' escapes % and _).
std::string contains_pattern(const std::string& text) {
    std::string out = "%";
    for (const char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

}  // namespace

struct ConversationStore::Impl {
    mutable std::mutex mu;
    std::unique_ptr<Database> db;

    void touch(int64_t conversation_id) {
        Statement st(*db, "UPDATE conversations SET updated = ? WHERE id = ?");
        st.bind(1, unix_now()).bind(2, conversation_id).run();
    }
    // Runs an UPDATE of one conversation column; throws when no row had that id.
    void update_column(int64_t id, const char* sql, const std::string& value) {
        Statement st(*db, sql);
        st.bind(1, value).bind(2, id).run();
        if (db->changes() == 0) throw StoreError("no conversation with id " + std::to_string(id));
    }
    // The conversation holding the message; throws for an unknown message.
    int64_t conversation_of_message(int64_t message_id) {
        Statement find(*db, "SELECT conversation_id FROM messages WHERE id = ?");
        find.bind(1, message_id);
        if (!find.step()) throw StoreError("no message with id " + std::to_string(message_id));
        return find.column_int(0);
    }
    void require_conversation(int64_t id) {
        Statement st(*db, "SELECT 1 FROM conversations WHERE id = ?");
        st.bind(1, id);
        if (!st.step()) throw StoreError("no conversation with id " + std::to_string(id));
    }
};

ConversationStore::ConversationStore(const Library& library) : m_impl(std::make_unique<Impl>()) {
    m_impl->db = std::make_unique<Database>(library.db_path());
    m_impl->db->exec("PRAGMA foreign_keys = ON");
}

ConversationStore::~ConversationStore() = default;

std::vector<ConversationRecord> ConversationStore::conversations() const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 std::string(kConversationColumns) + " ORDER BY updated DESC, id DESC");
    return st.rows(read_conversation);
}

std::optional<ConversationRecord> ConversationStore::find_conversation(int64_t id) const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, std::string(kConversationColumns) + " WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_conversation(st);
}

int64_t ConversationStore::create_conversation(const std::string& title, int64_t model_id) {
    std::lock_guard lock(m_impl->mu);
    const int64_t now = unix_now();
    Statement st(
        *m_impl->db,
        "INSERT INTO conversations (title, model_id, created, updated) VALUES (?, ?, ?, ?)");
    st.bind(1, title);
    if (model_id > 0) {
        st.bind(2, model_id);
    } else {
        st.bind_null(2);
    }
    st.bind(3, now).bind(4, now).run();
    return m_impl->db->last_insert_rowid();
}

void ConversationStore::rename_conversation(int64_t id, const std::string& title) {
    std::lock_guard lock(m_impl->mu);
    m_impl->update_column(id, "UPDATE conversations SET title = ? WHERE id = ?", title);
}

void ConversationStore::set_conversation_model(int64_t id, int64_t model_id) {
    std::lock_guard lock(m_impl->mu);
    if (model_id > 0) {
        Statement find(*m_impl->db, "SELECT 1 FROM models WHERE id = ?");
        find.bind(1, model_id);
        if (!find.step()) throw StoreError("no model with id " + std::to_string(model_id));
    }
    Statement st(*m_impl->db, "UPDATE conversations SET model_id = ? WHERE id = ?");
    if (model_id > 0) {
        st.bind(1, model_id);
    } else {
        st.bind_null(1);
    }
    st.bind(2, id).run();
    if (m_impl->db->changes() == 0) {
        throw StoreError("no conversation with id " + std::to_string(id));
    }
}

void ConversationStore::set_system_prompt(int64_t id, const std::string& system_prompt) {
    std::lock_guard lock(m_impl->mu);
    m_impl->update_column(id, "UPDATE conversations SET system_prompt = ? WHERE id = ?",
                          system_prompt);
}

void ConversationStore::set_sampling(int64_t id, const std::string& sampling_json) {
    std::lock_guard lock(m_impl->mu);
    m_impl->update_column(id, "UPDATE conversations SET sampling = ? WHERE id = ?", sampling_json);
}

std::vector<ConversationRecord> ConversationStore::search_conversations(
    const std::string& text) const {
    if (text.empty()) return conversations();
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 std::string(kConversationColumns) +
                     " WHERE title LIKE ?1 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m "
                     "WHERE m.conversation_id = conversations.id AND m.content LIKE ?1 "
                     "ESCAPE '\\') ORDER BY updated DESC, id DESC");
    st.bind(1, contains_pattern(text));
    return st.rows(read_conversation);
}

void ConversationStore::delete_conversation(int64_t id) {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db, "DELETE FROM conversations WHERE id = ?");
    st.bind(1, id).run();
    if (m_impl->db->changes() == 0) {
        throw StoreError("no conversation with id " + std::to_string(id));
    }
}

std::vector<MessageRecord> ConversationStore::messages(int64_t conversation_id) const {
    std::lock_guard lock(m_impl->mu);
    Statement st(*m_impl->db,
                 "SELECT id, conversation_id, role, content, created FROM messages "
                 "WHERE conversation_id = ? ORDER BY id");
    st.bind(1, conversation_id);
    return st.rows([](const Statement& r) {
        return MessageRecord{r.column_int(0), r.column_int(1), r.column_text(2), r.column_text(3),
                             r.column_int(4)};
    });
}

int64_t ConversationStore::add_message(int64_t conversation_id, const std::string& role,
                                       const std::string& content) {
    std::lock_guard lock(m_impl->mu);
    Transaction tx(*m_impl->db);
    m_impl->require_conversation(conversation_id);
    Statement st(*m_impl->db,
                 "INSERT INTO messages (conversation_id, role, content, created) "
                 "VALUES (?, ?, ?, ?)");
    st.bind(1, conversation_id).bind(2, role).bind(3, content).bind(4, unix_now()).run();
    const int64_t id = m_impl->db->last_insert_rowid();
    m_impl->touch(conversation_id);
    tx.commit();
    return id;
}

void ConversationStore::update_message(int64_t message_id, const std::string& content) {
    std::lock_guard lock(m_impl->mu);
    Transaction tx(*m_impl->db);
    const int64_t conversation_id = m_impl->conversation_of_message(message_id);
    Statement st(*m_impl->db, "UPDATE messages SET content = ? WHERE id = ?");
    st.bind(1, content).bind(2, message_id).run();
    m_impl->touch(conversation_id);
    tx.commit();
}

int ConversationStore::delete_messages_from(int64_t message_id) {
    std::lock_guard lock(m_impl->mu);
    Transaction tx(*m_impl->db);
    const int64_t conversation_id = m_impl->conversation_of_message(message_id);
    Statement st(*m_impl->db, "DELETE FROM messages WHERE conversation_id = ? AND id >= ?");
    st.bind(1, conversation_id).bind(2, message_id).run();
    const int removed = static_cast<int>(m_impl->db->changes());
    m_impl->touch(conversation_id);
    tx.commit();
    return removed;
}

}  // namespace folio::store
