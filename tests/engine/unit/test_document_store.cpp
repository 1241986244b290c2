// The documents and document_results tables (schema v3): migration from v2, results per
// document, cascade on removal, unknown ids refused, every document listed newest first and
// kept across a reopen (an app restart), one result removed on its own.
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
    void listsDocumentsNewestFirst();
    void keepsDocumentsAcrossRestart();
    void removesOneResult();
};

void TestDocumentStore::migratesFromVersion2() {
    const fs::path dir = fresh_dir("migrate");
    {
        Database db(dir / "folio.db");
        folio::store::migrate(db, 2);
        db.exec("INSERT INTO documents (path, title, sha256, added) VALUES ('/a.txt', 'a', '', 1)");
    }
    Library lib(dir);
    QCOMPARE(lib.schema_version(), Library::kSchemaVersion);
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

void TestDocumentStore::listsDocumentsNewestFirst() {
    const fs::path dir = fresh_dir("list");
    Library lib(dir);
    DocumentStore docs(lib);
    QVERIFY(docs.documents().empty());
    const int64_t a = docs.add_document("/d/a.txt", "a", "1");
    const int64_t b = docs.add_document("/d/b.pdf", "b", "2");
    const int64_t c = docs.add_document("/d/c.md", "c", "3");
    {
        // Added at different times: a last, then c, then b (ids do not follow).
        Database db(lib.db_path());
        db.exec("UPDATE documents SET added = 300 WHERE path = '/d/a.txt'");
        db.exec("UPDATE documents SET added = 100 WHERE path = '/d/b.pdf'");
        db.exec("UPDATE documents SET added = 200 WHERE path = '/d/c.md'");
    }
    const auto list = docs.documents();
    QCOMPARE(list.size(), size_t{3});
    QCOMPARE(list[0].id, a);
    QCOMPARE(list[1].id, c);
    QCOMPARE(list[2].id, b);
    QCOMPARE(list[0].path, std::string("/d/a.txt"));
    QCOMPARE(list[1].title, std::string("c"));
    QCOMPARE(list[2].sha256, std::string("2"));
    QCOMPARE(list[0].added, int64_t{300});
    // Same added time: the later id first.
    const int64_t d = docs.add_document("/d/d.txt", "d", "4");
    const int64_t e = docs.add_document("/d/e.txt", "e", "5");
    {
        Database db(lib.db_path());
        db.exec("UPDATE documents SET added = 400 WHERE path IN ('/d/d.txt', '/d/e.txt')");
    }
    const auto again = docs.documents();
    QCOMPARE(again.size(), size_t{5});
    QCOMPARE(again[0].id, e);
    QCOMPARE(again[1].id, d);
    docs.remove_document(a);
    QCOMPARE(docs.documents().size(), size_t{4});
}

void TestDocumentStore::keepsDocumentsAcrossRestart() {
    const fs::path dir = fresh_dir("restart");
    int64_t id = 0;
    {
        Library lib(dir);
        DocumentStore docs(lib);
        id = docs.add_document("/d/report.pdf", "report", "abc");
        docs.add_result(id, "keypoints", "", "- one\n- two");
    }
    Library lib(dir);
    DocumentStore docs(lib);
    const auto list = docs.documents();
    QCOMPARE(list.size(), size_t{1});
    QCOMPARE(list[0].id, id);
    QCOMPARE(list[0].title, std::string("report"));
    const auto results = docs.results(id);
    QCOMPARE(results.size(), size_t{1});
    QCOMPARE(results[0].task, std::string("keypoints"));
    QCOMPARE(results[0].result, std::string("- one\n- two"));
}

void TestDocumentStore::removesOneResult() {
    const fs::path dir = fresh_dir("remove_result");
    Library lib(dir);
    DocumentStore docs(lib);
    const int64_t id = docs.add_document("/d/notes.md", "notes", "abc");
    const int64_t first = docs.add_result(id, "summarize", "", "First.");
    const int64_t second = docs.add_result(id, "ask", "Who?", "Lily.");
    docs.remove_result(first);
    const auto left = docs.results(id);
    QCOMPARE(left.size(), size_t{1});
    QCOMPARE(left[0].id, second);
    QVERIFY(docs.find_document(id));  // the document stays
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, docs.remove_result(first));
    QCOMPARE(docs.results(id).size(), size_t{1});
}

QTEST_GUILESS_MAIN(TestDocumentStore)
#include "test_document_store.moc"
