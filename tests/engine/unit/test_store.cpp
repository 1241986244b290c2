// The model library (folio.db): schema and migrations, add/list/remove, reconcile on open.
#include <QTest>
#include <filesystem>
#include <fstream>

#include "folio/store.h"
#include "shared_data.h"
#include "store/schema.h"
#include "store/sqlite_handle.h"

namespace fs = std::filesystem;
using folio::store::Database;
using folio::store::Library;
using folio::store::ModelRecord;

namespace {

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = folio::test::scratch_dir("store_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Copies a shared model into the library's models folder as owner/name/<file>.
fs::path place_model(const Library& lib, const std::string& shared_name,
                     const std::string& repo = "test/micro") {
    const fs::path dest = lib.model_path(repo, shared_name);
    fs::create_directories(dest.parent_path());
    fs::copy_file(folio::test::shared_path("models/" + shared_name), dest,
                  fs::copy_options::overwrite_existing);
    return dest;
}

ModelRecord record_for(const std::string& repo, const std::string& file, const fs::path& path) {
    ModelRecord m;
    m.repo = repo;
    m.revision = "main";
    m.file = file;
    m.path = path;
    m.size = static_cast<int64_t>(fs::file_size(path));
    m.sha256 = folio::store::sha256_file(path);
    return m;
}

int64_t count_rows(const fs::path& db_path, const char* sql) {
    Database db(db_path);
    return db.query_int(sql);
}

}  // namespace

class TestStore : public QObject {
    Q_OBJECT

  private slots:
    void createsSchema();
    void migratesFromVersion1();
    void refusesNewerSchema();
    void addsListsAndRemovesModels();
    void reconcilesOnOpen();
    void badInputsLeaveTheDatabaseUnchanged();
    void downloadsTable();
    void conversationsCascade();
};

void TestStore::createsSchema() {
    const fs::path dir = fresh_dir("schema");
    Library lib(dir);
    QCOMPARE(lib.schema_version(), Library::kSchemaVersion);
    QCOMPARE(lib.journal_mode(), std::string("wal"));
    QVERIFY(lib.foreign_keys());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
    QVERIFY(fs::is_directory(dir / "models"));
    QVERIFY(fs::exists(dir / "folio.db"));
    Database db(lib.db_path());
    for (const char* table : {"models", "model_files", "downloads", "conversations", "messages",
                              "documents", "settings"}) {
        auto st =
            db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
        st.bind(1, std::string(table));
        QVERIFY(st.step());
        QVERIFY2(st.column_int(0) == 1, table);
    }
    QVERIFY(lib.models().empty());
}

void TestStore::migratesFromVersion1() {
    const fs::path dir = fresh_dir("migrate");
    fs::create_directories(dir / "models/test/micro");
    const fs::path model = dir / "models/test/micro/micro-llama-Q8_0.gguf";
    fs::copy_file(folio::test::shared_path("models/micro-llama-Q8_0.gguf"), model);
    {
        Database db(dir / "folio.db");
        folio::store::migrate(db, 1);
        QCOMPARE(db.query_int("PRAGMA user_version"), int64_t{1});
        auto st = db.prepare(
            "INSERT INTO models (repo, revision, file, path, size, sha256, added) "
            "VALUES (?, 'main', ?, ?, ?, 'abc', 1)");
        st.bind(1, std::string("test/micro")).bind(2, std::string("micro-llama-Q8_0.gguf"));
        st.bind(3, model.string()).bind(4, static_cast<int64_t>(fs::file_size(model))).run();
    }
    Library lib(dir);
    QCOMPARE(lib.schema_version(), Library::kSchemaVersion);
    const auto models = lib.models();
    QCOMPARE(models.size(), size_t{1});
    QCOMPARE(models[0].files.size(), size_t{1});  // model_files back-filled by step 2
    QCOMPARE(models[0].files[0].path, model);
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestStore::refusesNewerSchema() {
    const fs::path dir = fresh_dir("newer");
    {
        Database db(dir / "folio.db");
        db.exec("PRAGMA user_version = 99");
    }
    try {
        Library lib(dir);
        QFAIL("opened a newer database");
    } catch (const folio::store::StoreError& e) {
        QVERIFY2(std::string(e.what()).find("newer than this folio") != std::string::npos,
                 e.what());
    }
}

void TestStore::addsListsAndRemovesModels() {
    const fs::path dir = fresh_dir("crud");
    Library lib(dir);
    const fs::path a = place_model(lib, "micro-llama-Q4_K_M.gguf");
    const fs::path b = place_model(lib, "stories260K.gguf", "test/stories");
    const int64_t id_a = lib.add_model(record_for("test/micro", "micro-llama-Q4_K_M.gguf", a));
    const int64_t id_b = lib.add_model(record_for("test/stories", "stories260K.gguf", b));
    QVERIFY(id_a != id_b);
    const auto models = lib.models();
    QCOMPARE(models.size(), size_t{2});
    const ModelRecord& m = models[0];
    QCOMPARE(m.id, id_a);
    QCOMPARE(m.architecture, std::string("llama"));
    QCOMPARE(m.weight_type, std::string("Q4_K_M"));
    QVERIFY(m.parameters > 0);
    QVERIFY(m.context_length > 0);
    QVERIFY(m.added > 0);
    QCOMPARE(m.size, static_cast<int64_t>(fs::file_size(a)));
    QCOMPARE(m.sha256.size(), size_t{64});
    QCOMPARE(lib.find_model_by_path(a)->id, id_a);
    QCOMPARE(lib.find_model("test/stories", "main", "stories260K.gguf")->id, id_b);
    QVERIFY(!lib.find_model(12345).has_value());

    lib.touch_model(id_b);
    QVERIFY(lib.find_model(id_b)->last_used > 0);

    lib.remove_model(id_a);
    QVERIFY(!fs::exists(a));
    QVERIFY(!fs::exists(a.parent_path()));  // empty folders go too
    QCOMPARE(lib.models().size(), size_t{1});
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.remove_model(id_a));
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestStore::reconcilesOnOpen() {
    const fs::path dir = fresh_dir("reconcile");
    fs::path missing, truncated, kept, orphan_part, owned_part;
    {
        Library lib(dir);
        missing = place_model(lib, "micro-llama-Q4_0.gguf");
        truncated = place_model(lib, "micro-llama-Q5_0.gguf");
        kept = place_model(lib, "micro-llama-Q8_0.gguf");
        for (const auto& p : {missing, truncated, kept}) {
            lib.add_model(record_for("test/micro", p.filename().string(), p));
        }
        orphan_part = dir / "models/test/micro/stray.gguf.part";
        owned_part = dir / "models/test/other/resume.gguf.part";
        fs::create_directories(owned_part.parent_path());
        std::ofstream(orphan_part) << "partial";
        std::ofstream(owned_part) << "partial";
        folio::store::DownloadRecord d;
        d.repo = "test/other";
        d.revision = "main";
        d.file = "resume.gguf";
        d.part_path = owned_part;
        d.expected_size = 100;
        lib.upsert_download(d);
    }
    fs::remove(missing);
    fs::resize_file(truncated, 1000);  // a partial file must never be listed
    Library lib(dir);
    const auto report = lib.last_reconcile();
    QCOMPARE(report.removed.size(), size_t{2});
    QVERIFY(report.removed[0].find("missing") != std::string::npos);
    QVERIFY(report.removed[1].find("size 1000") != std::string::npos);
    const auto models = lib.models();
    QCOMPARE(models.size(), size_t{1});
    QCOMPARE(models[0].path, kept);
    QCOMPARE(report.orphan_parts.size(), size_t{1});
    QVERIFY(!fs::exists(orphan_part));
    QVERIFY(fs::exists(owned_part));
    QCOMPARE(count_rows(lib.db_path(), "SELECT count(*) FROM model_files"), int64_t{1});
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestStore::badInputsLeaveTheDatabaseUnchanged() {
    const fs::path dir = fresh_dir("bad_inputs");
    Library lib(dir);
    const fs::path a = place_model(lib, "micro-llama-Q4_K_M.gguf");
    lib.add_model(record_for("test/micro", "micro-llama-Q4_K_M.gguf", a));
    const auto before = lib.models();

    ModelRecord no_file = record_for("test/micro", "micro-llama-Q4_K_M.gguf", a);
    no_file.path = dir / "models/test/micro/nope.gguf";
    no_file.file = "nope.gguf";
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.add_model(no_file));
    ModelRecord wrong_size = record_for("test/micro", "other.gguf", a);
    wrong_size.size += 1;
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.add_model(wrong_size));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.add_model(ModelRecord{}));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.model_path("test/../../etc", "x"));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.model_path("noslash", "x.gguf"));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.model_path("a/b", "../../x.gguf"));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError, lib.model_path("a/b", "/etc/passwd"));
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError,
                             lib.upsert_download(folio::store::DownloadRecord{}));

    const auto after = lib.models();
    QCOMPARE(after.size(), before.size());
    QCOMPARE(after[0].id, before[0].id);
    QCOMPARE(after[0].sha256, before[0].sha256);
    QVERIFY(lib.downloads().empty());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestStore::downloadsTable() {
    const fs::path dir = fresh_dir("downloads");
    Library lib(dir);
    folio::store::DownloadRecord d;
    d.repo = "o/n";
    d.revision = "main";
    d.file = "m.gguf";
    d.url = "http://127.0.0.1/o/n/resolve/main/m.gguf";
    d.expected_size = 1000;
    d.sha256 = std::string(64, 'a');
    d.part_path = dir / "models/o/n/m.gguf.part";
    const int64_t id = lib.upsert_download(d);
    QCOMPARE(lib.upsert_download(d), id);  // same key: same row
    lib.update_download(id, 500, folio::store::DownloadState::Paused, "");
    auto got = lib.find_download("o/n", "main", "m.gguf");
    QVERIFY(got.has_value());
    QCOMPARE(got->bytes_done, int64_t{500});
    QCOMPARE(got->state, folio::store::DownloadState::Paused);
    QCOMPARE(got->expected_size, int64_t{1000});
    lib.update_download(id, 0, folio::store::DownloadState::Failed, "sha256 mismatch");
    QCOMPARE(lib.downloads().at(0).error, std::string("sha256 mismatch"));
    lib.remove_download(id);
    QVERIFY(lib.downloads().empty());
}

void TestStore::conversationsCascade() {
    const fs::path dir = fresh_dir("cascade");
    Library lib(dir);
    Database db(lib.db_path());
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("INSERT INTO conversations (id, title, created, updated) VALUES (1, 't', 1, 1)");
    db.exec(
        "INSERT INTO messages (conversation_id, role, content, created) "
        "VALUES (1, 'user', 'hi', 1)");
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError,
                             db.exec("INSERT INTO messages (conversation_id, role, content, "
                                     "created) VALUES (7, 'user', 'x', 1)"));
    db.exec("DELETE FROM conversations WHERE id = 1");
    QCOMPARE(db.query_int("SELECT count(*) FROM messages"), int64_t{0});
    db.exec("INSERT INTO settings (key, value) VALUES ('theme', 'dark')");
    QVERIFY_THROWS_EXCEPTION(folio::store::StoreError,
                             db.exec("INSERT INTO settings (key, value) VALUES ('theme', 'x')"));
}

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
