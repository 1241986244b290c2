// SettingsStore: the settings(key, value) table of folio.db.
#include <QTest>
#include <filesystem>

#include "folio/store.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using folio::store::ConversationStore;
using folio::store::Library;
using folio::store::SettingsStore;

namespace {

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = folio::test::scratch_dir("settings_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

class TestStoreSettings : public QObject {
    Q_OBJECT

  private slots:
    void getsSetsAndRemoves();
    void persistsAcrossOpens();
};

void TestStoreSettings::getsSetsAndRemoves() {
    Library lib(fresh_dir("crud"));
    SettingsStore settings(lib);
    QVERIFY(!settings.get("engine.threads"));
    QCOMPARE(settings.get_or("engine.threads", "0"), std::string("0"));
    QVERIFY(settings.all().empty());

    settings.set("engine.threads", "4");
    settings.set("ui.theme", "dark");
    settings.set("engine.threads", "8");  // replaces
    QCOMPARE(settings.get("engine.threads").value(), std::string("8"));
    settings.set("api.key", "");  // an empty value is a value
    QCOMPARE(settings.get("api.key").value(), std::string());

    const auto all = settings.all();
    QCOMPARE(all.size(), size_t{3});
    QCOMPARE(all[0].first, std::string("api.key"));
    QCOMPARE(all[1], std::make_pair(std::string("engine.threads"), std::string("8")));

    settings.remove("ui.theme");
    settings.remove("never.set");
    QVERIFY(!settings.get("ui.theme"));
    QCOMPARE(settings.all().size(), size_t{2});
}

void TestStoreSettings::persistsAcrossOpens() {
    const fs::path dir = fresh_dir("reopen");
    {
        Library lib(dir);
        SettingsStore settings(lib);
        settings.set("sampling.temperature", "0.7");
        settings.set("data.folder", "/tmp/folio ünïcode");
        ConversationStore conversations(lib);  // another connection beside it
        conversations.create_conversation("chat");
    }
    Library lib(dir);
    SettingsStore settings(lib);
    QCOMPARE(settings.get("sampling.temperature").value(), std::string("0.7"));
    QCOMPARE(settings.get("data.folder").value(), std::string("/tmp/folio ünïcode"));
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

QTEST_GUILESS_MAIN(TestStoreSettings)
#include "test_store_settings.moc"
