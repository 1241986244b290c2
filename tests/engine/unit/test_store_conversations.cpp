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

QTEST_GUILESS_MAIN(TestStoreConversations)
#include "test_store_conversations.moc"
