// The documents and document_results tables (schema v3): migration from v2, results per
// document, cascade on removal, unknown ids refused.
#include <QTest>
#include <filesystem>

#include "folio/store.h"
#include "shared_data.h"
#include "store/schema.h"
#include "store/sqlite_handle.h"

namespace fs = std::filesystem;
using folio::store::Database;
using folio::store::DocumentStore;
using folio::store::Library;

namespace {

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = folio::test::scratch_dir("docstore_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

class TestDocumentStore : public QObject {
    Q_OBJECT

  private slots:
    void migratesFromVersion2();
    void storesResults();
};

void TestDocumentStore::migratesFromVersion2() {
    const fs::path dir = fresh_dir("migrate");
    {
        Database db(dir / "folio.db");
        folio::store::migrate(db, 2);
        db.exec("INSERT INTO documents (path, title, sha256, added) VALUES ('/a.txt', 'a', '', 1)");
    }
    Library lib(dir);
    QCOMPARE(lib.schema_version(), 3);
    DocumentStore docs(lib);
    const auto doc = docs.find_document(1);
    QVERIFY(doc);
    QCOMPARE(doc->path, std::string("/a.txt"));
    QVERIFY(docs.results(1).empty());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDocumentStore::storesResults() {
    const fs::path dir = fresh_dir("results");
    Library lib(dir);
    DocumentStore docs(lib);
    const int64_t id = docs.add_document("/d/notes.md", "notes", "abc");
    QVERIFY(id > 0);
    QCOMPARE(docs.add_document("/d/notes.md", "notes 2", "def"), id);  // same path, same row
    QCOMPARE(docs.find_document(id)->title, std::string("notes 2"));
    docs.add_result(id, "summarize", "", "A summary.");
    docs.add_result(id, "ask", "Who?", "Lily.");
    const auto results = docs.results(id);
    QCOMPARE(results.size(), size_t{2});
    QCOMPARE(results[0].task, std::string("summarize"));
    QCOMPARE(results[1].question, std::string("Who?"));
    QCOMPARE(results[1].result, std::string("Lily."));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, docs.add_result(999, "ask", "", "x"));
    docs.remove_document(id);
    QVERIFY(!docs.find_document(id));
    QVERIFY(docs.results(id).empty());  // cascaded
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, docs.remove_document(id));
}

QTEST_GUILESS_MAIN(TestDocumentStore)
#include "test_document_store.moc"
