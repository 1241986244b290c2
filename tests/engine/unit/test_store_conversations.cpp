// ConversationStore: conversations and messages CRUD over folio.db.
#include <QTest>
#include <filesystem>

#include "folio/store.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using folio::store::ConversationStore;
using folio::store::Library;
using folio::store::StoreError;

namespace {

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = folio::test::scratch_dir("conversations_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

class TestStoreConversations : public QObject {
    Q_OBJECT

  private slots:
    void createsListsRenamesAndDeletes();
    void storesMessagesInOrder();
    void rejectsUnknownIdsAndRoles();
    void persistsAcrossOpens();
    void keepsPerConversationSettings();
    void searchesTitlesAndMessages();
    void deletesMessagesFromOneOn();
};

void TestStoreConversations::createsListsRenamesAndDeletes() {
    Library lib(fresh_dir("crud"));
    ConversationStore store(lib);
    QVERIFY(store.conversations().empty());
    const int64_t a = store.create_conversation("first");
    const int64_t b = store.create_conversation("second");
    QVERIFY(a > 0 && b > a);
    auto list = store.conversations();
    QCOMPARE(list.size(), size_t{2});
    QCOMPARE(list[0].id, b);  // same second: newest id first
    QCOMPARE(list[1].title, std::string("first"));
    QCOMPARE(list[1].model_id, int64_t{0});
    QVERIFY(list[1].created > 0);

    store.rename_conversation(a, "renamed");
    QCOMPARE(store.find_conversation(a)->title, std::string("renamed"));
    store.delete_conversation(b);
    QVERIFY(!store.find_conversation(b));
    QCOMPARE(store.conversations().size(), size_t{1});
}

void TestStoreConversations::storesMessagesInOrder() {
    Library lib(fresh_dir("messages"));
    ConversationStore store(lib);
    const int64_t c = store.create_conversation("chat");
    const int64_t other = store.create_conversation("other");
    store.add_message(c, "user", "Once upon a time");
    const int64_t reply = store.add_message(c, "assistant", "there was");
    store.add_message(other, "user", "elsewhere");
    store.update_message(reply, "there was a cat");

    const auto messages = store.messages(c);
    QCOMPARE(messages.size(), size_t{2});
    QCOMPARE(messages[0].role, std::string("user"));
    QCOMPARE(messages[0].content, std::string("Once upon a time"));
    QCOMPARE(messages[1].id, reply);
    QCOMPARE(messages[1].content, std::string("there was a cat"));
    QCOMPARE(messages[1].conversation_id, c);

    store.delete_conversation(c);  // cascades
    QVERIFY(store.messages(c).empty());
    QCOMPARE(store.messages(other).size(), size_t{1});
}

void TestStoreConversations::rejectsUnknownIdsAndRoles() {
    Library lib(fresh_dir("errors"));
    ConversationStore store(lib);
    const int64_t c = store.create_conversation("chat");
    QVERIFY_THROWS_EXCEPTION(StoreError, store.rename_conversation(c + 1, "x"));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.delete_conversation(c + 1));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.add_message(c + 1, "user", "x"));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.add_message(c, "wizard", "x"));
    QVERIFY_THROWS_EXCEPTION(StoreError, store.update_message(12345, "x"));
    QVERIFY(store.messages(c).empty());
}

void TestStoreConversations::persistsAcrossOpens() {
    const fs::path dir = fresh_dir("persist");
    int64_t c = 0;
    {
        Library lib(dir);
        ConversationStore store(lib);
        c = store.create_conversation("kept");
        store.add_message(c, "user", "hello");
    }
    Library lib(dir);
    ConversationStore store(lib);
    QCOMPARE(store.conversations().size(), size_t{1});
    QCOMPARE(store.find_conversation(c)->title, std::string("kept"));
    QCOMPARE(store.messages(c).at(0).content, std::string("hello"));
}

void TestStoreConversations::keepsPerConversationSettings() {
    const fs::path dir = fresh_dir("settings");
    int64_t c = 0;
    {
        Library lib(dir);
        ConversationStore store(lib);
        c = store.create_conversation("tuned");
        const int64_t other = store.create_conversation("plain");
        store.set_system_prompt(c, "You are terse.");
        store.set_sampling(c, R"({"temperature":0.2,"max_tokens":64})");
        QCOMPARE(store.find_conversation(other)->system_prompt, std::string());
        QCOMPARE(store.find_conversation(other)->sampling, std::string());
        // An unknown model or conversation throws and changes nothing.
        QVERIFY_THROWS_EXCEPTION(StoreError, store.set_conversation_model(c, 12345));
        QVERIFY_THROWS_EXCEPTION(StoreError, store.set_system_prompt(999, "x"));
        QVERIFY_THROWS_EXCEPTION(StoreError, store.set_sampling(999, "{}"));
        QCOMPARE(store.find_conversation(c)->model_id, int64_t{0});
    }
    Library lib(dir);
    ConversationStore store(lib);
    const auto record = store.find_conversation(c);
    QVERIFY(record);
    QCOMPARE(record->system_prompt, std::string("You are terse."));
    QCOMPARE(record->sampling, std::string(R"({"temperature":0.2,"max_tokens":64})"));
    store.set_system_prompt(c, "");
    QCOMPARE(store.find_conversation(c)->system_prompt, std::string());
}

void TestStoreConversations::searchesTitlesAndMessages() {
    Library lib(fresh_dir("search"));
    ConversationStore store(lib);
    const int64_t dragons = store.create_conversation("Dragons");
    const int64_t recipes = store.create_conversation("Recipes");
    const int64_t percent = store.create_conversation("Budget");
    store.add_message(recipes, "user", "How do I bake bread with a dragon fruit?");
    store.add_message(percent, "user", "What is 50% of 80?");

    auto ids = [](const std::vector<folio::store::ConversationRecord>& list) {
        std::vector<int64_t> out;
        for (const auto& r : list) out.push_back(r.id);
        return out;
    };
    // Title (case-insensitive) and message text both match; most recently updated first.
    QCOMPARE(ids(store.search_conversations("dragon")), (std::vector<int64_t>{recipes, dragons}));
    QCOMPARE(ids(store.search_conversations("BREAD")), std::vector<int64_t>{recipes});
    // LIKE wildcards in the query are literal characters.
    QCOMPARE(ids(store.search_conversations("50%")), std::vector<int64_t>{percent});
    QVERIFY(store.search_conversations("%%").empty());
    QVERIFY(store.search_conversations("_x").empty());
    QCOMPARE(store.search_conversations("").size(), size_t{3});
}

void TestStoreConversations::deletesMessagesFromOneOn() {
    Library lib(fresh_dir("truncate"));
    ConversationStore store(lib);
    const int64_t c = store.create_conversation("chat");
    const int64_t other = store.create_conversation("other");
    const int64_t u1 = store.add_message(c, "user", "one");
    store.add_message(other, "user", "elsewhere");
    store.add_message(c, "assistant", "two");
    const int64_t u2 = store.add_message(c, "user", "three");
    store.add_message(c, "assistant", "four");

    QCOMPARE(store.delete_messages_from(u2), 2);  // "three" and its reply
    auto left = store.messages(c);
    QCOMPARE(left.size(), size_t{2});
    QCOMPARE(left.back().content, std::string("two"));
    QCOMPARE(store.messages(other).size(), size_t{1});  // other conversations untouched

    QVERIFY_THROWS_EXCEPTION(StoreError, store.delete_messages_from(u2));  // already gone
    QCOMPARE(store.delete_messages_from(u1), 2);
    QVERIFY(store.messages(c).empty());
}

QTEST_GUILESS_MAIN(TestStoreConversations)
#include "test_store_conversations.moc"
