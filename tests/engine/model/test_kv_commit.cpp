// EngineConfig::commit_kv_memory: the KV pool's memory is resident from creation (what
// `folio serve` asks for, so its footprint stays flat under load), or committed block by block.
#include <QtTest/QtTest>

#include <fstream>
#include <memory>
#include <string>

#include "folio/engine.h"
#include "model/model.h"
#include "shared_data.h"

using namespace folio;

namespace {

int64_t resident_bytes() {
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        if (key == "VmRSS:") {
            int64_t kib = 0;
            in >> kib;
            return kib * 1024;
        }
    }
    return -1;
}

}  // namespace

class TestKvCommit : public QObject {
    Q_OBJECT

    std::shared_ptr<const Model> model_;

    // Resident memory added by creating an engine with a 256 MiB KV pool.
    int64_t growth(bool commit) {
        EngineConfig c;
        c.num_threads = 1;
        c.kv_cache_memory = int64_t{256} << 20;
        c.max_model_len = 256;
        c.commit_kv_memory = commit;
        const int64_t before = resident_bytes();
        auto engine = Engine::create(model_, c);
        const int64_t after = resident_bytes();
        if (engine->info().kv_cache_bytes < (int64_t{200} << 20)) return -1;
        return after - before;
    }

  private slots:
    void initTestCase() { model_ = Model::load(test::shared_path("models/stories260K.gguf")); }

    void committed_pool_is_resident_at_creation() {
        const int64_t lazy = growth(false);
        const int64_t committed = growth(true);
        QVERIFY2(lazy >= 0 && committed >= 0, "the KV pool was not sized as asked");
        QVERIFY2(committed > (int64_t{200} << 20),
                 qPrintable(QString("committed pool added only %1 MiB").arg(committed >> 20)));
        QVERIFY2(lazy < (int64_t{64} << 20),
                 qPrintable(QString("lazy pool added %1 MiB").arg(lazy >> 20)));
    }
};

QTEST_GUILESS_MAIN(TestKvCommit)
#include "test_kv_commit.moc"
