// Resumable, verified downloads into the library, against the fake hub on 127.0.0.1.
#include <QTest>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_hub.h"
#include "folio/hub.h"
#include "folio/store.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using folio::store::DownloadError;
using folio::store::DownloadManager;
using folio::store::Library;
using folio::store::PullSpec;

namespace {

constexpr const char* kRepo = "test/micro";
constexpr const char* kFile = "micro-llama-Q4_K_M.gguf";  // ~900 KB

fs::path fresh_dir(const std::string& name) {
    const fs::path dir = folio::test::scratch_dir("downloads_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

folio::store::DownloadOptions fast_options() {
    folio::store::DownloadOptions o;
    o.backoff_initial_ms = 10;
    o.backoff_max_ms = 50;
    return o;
}

// The hub's listing of one file (size and sha256 as a real pull would get them).
PullSpec spec_for(const folio::hub::HubConfig& config, const std::string& repo,
                  const std::string& file) {
    folio::hub::HubClient client(config);
    for (const auto& f : client.list_files(repo, "main")) {
        if (f.path == file) return {repo, "main", {f}};
    }
    throw std::runtime_error("fake hub does not list " + file);
}

DownloadError::Kind wait_error(const std::shared_ptr<folio::store::DownloadTask>& task,
                               std::string* message = nullptr) {
    try {
        task->wait();
    } catch (const DownloadError& e) {
        if (message) *message = e.what();
        return e.kind();
    }
    throw std::runtime_error("the download succeeded");
}

}  // namespace

class TestDownloads : public QObject {
    Q_OBJECT

  private:
    std::unique_ptr<folio::test::FakeHub> m_hub;
    folio::hub::HubConfig m_config;

  private slots:
    void initTestCase();
    void init();
    void cleanDownload();
    void droppedConnectionResumes();
    void wrongHashFailsCleanly();
    void notFoundAndGated();
    void rangeNotSatisfiable();
    void serverIgnoringRangeRestartsFromZero();
    void twoLibrariesPullTheSameFileOnce();
    void cancelThenResumeAfterRestart();
    void sameFileTwiceDownloadsOnce();
    void multiPartModelRegistersOnce();
    void refusesWhenDiskIsFull();
};

void TestDownloads::initTestCase() {
    m_hub = std::make_unique<folio::test::FakeHub>();
    m_hub->add_shared_model(kRepo, kFile);
    m_hub->add_shared_model(kRepo, "micro-llama-Q8_0.gguf");
    m_hub->add_shared_model("test/gated", kFile);
    m_hub->set_gated("test/gated", "secret");
    m_config.endpoint = m_hub->endpoint();
}

void TestDownloads::init() {
    m_hub->clear_faults();
    m_hub->reset_counters();
}

void TestDownloads::cleanDownload() {
    const fs::path dir = fresh_dir("clean");
    Library lib(dir);
    DownloadManager manager(lib, m_config, fast_options());
    std::atomic<int64_t> last_done{0}, last_total{0};
    auto task = manager.pull(spec_for(m_config, kRepo, kFile),
                             [&](const folio::store::DownloadProgress& p) {
                                 last_done = p.bytes_done;
                                 last_total = p.total;
                             });
    const auto model = task->wait();
    QCOMPARE(model.sha256, m_hub->sha256_of(kRepo, kFile));
    QCOMPARE(model.path, lib.model_path(kRepo, kFile));
    QCOMPARE(model.weight_type, std::string("Q4_K_M"));
    QCOMPARE(model.architecture, std::string("llama"));
    QCOMPARE(folio::test::read_file(model.path),
             folio::test::read_file(folio::test::shared_path(std::string("models/") + kFile)));
    QVERIFY(!fs::exists(model.path.string() + ".part"));
    QCOMPARE(last_done.load(), last_total.load());
    QCOMPARE(lib.models().size(), size_t{1});
    QVERIFY(lib.downloads().empty());
    QCOMPARE(m_hub->download_count(kRepo, kFile), 1);
    // Asking again: already in the library, nothing transferred.
    QCOMPARE(manager.pull(spec_for(m_config, kRepo, kFile))->wait().id, model.id);
    QCOMPARE(m_hub->download_count(kRepo, kFile), 1);
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::droppedConnectionResumes() {
    const fs::path dir = fresh_dir("dropped");
    Library lib(dir);
    folio::test::FakeHub::Fault fault;
    fault.drop_after_bytes = 300000;
    m_hub->set_fault(kRepo, kFile, fault);
    DownloadManager manager(lib, m_config, fast_options());
    bool resumed = false;
    auto task = manager.pull(spec_for(m_config, kRepo, kFile),
                             [&](const folio::store::DownloadProgress& p) {
                                 if (p.resumed) resumed = true;
                             });
    const auto model = task->wait();
    QVERIFY(resumed);
    QCOMPARE(m_hub->download_count(kRepo, kFile), 2);
    QCOMPARE(folio::store::sha256_file(model.path), m_hub->sha256_of(kRepo, kFile));
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::wrongHashFailsCleanly() {
    const fs::path dir = fresh_dir("wrong_hash");
    Library lib(dir);
    folio::test::FakeHub::Fault fault;
    fault.wrong_content = true;
    m_hub->set_fault(kRepo, kFile, fault);
    DownloadManager manager(lib, m_config, fast_options());
    std::string message;
    QCOMPARE(wait_error(manager.pull(spec_for(m_config, kRepo, kFile)), &message),
             DownloadError::Kind::Integrity);
    QVERIFY2(message.starts_with(std::string("sha256 mismatch for test/micro/") + kFile +
                                 ": expected " + m_hub->sha256_of(kRepo, kFile) + ", got "),
             message.c_str());
    const fs::path dest = lib.model_path(kRepo, kFile);
    QVERIFY(!fs::exists(dest));
    QVERIFY(!fs::exists(dest.string() + ".part"));
    QVERIFY(lib.models().empty());
    const auto row = lib.find_download(kRepo, "main", kFile);
    QVERIFY(row.has_value());
    QCOMPARE(row->state, folio::store::DownloadState::Failed);
    QCOMPARE(row->error, message);
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::notFoundAndGated() {
    const fs::path dir = fresh_dir("errors");
    Library lib(dir);
    DownloadManager manager(lib, m_config, fast_options());
    PullSpec missing{kRepo, "main", {{"no-such-file.gguf", 1000, ""}}};
    std::string message;
    QCOMPARE(wait_error(manager.pull(missing), &message), DownloadError::Kind::Hub);
    QVERIFY2(message.find("not found") != std::string::npos, message.c_str());

    PullSpec gated{"test/gated", "main", {{kFile, 904928, ""}}};
    QCOMPARE(wait_error(manager.pull(gated), &message), DownloadError::Kind::Hub);
    QVERIFY2(message.find("HF_TOKEN") != std::string::npos, message.c_str());
    QVERIFY(lib.models().empty());
    QVERIFY(!fs::exists(lib.model_path("test/gated", kFile)));

    // With the token it works.
    folio::hub::HubConfig with_token = m_config;
    with_token.token = "secret";
    DownloadManager authorized(lib, with_token, fast_options());
    QCOMPARE(authorized.pull(spec_for(with_token, "test/gated", kFile))->wait().sha256,
             m_hub->sha256_of("test/gated", kFile));
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::rangeNotSatisfiable() {
    const fs::path dir = fresh_dir("range416");
    Library lib(dir);
    const PullSpec spec = spec_for(m_config, kRepo, kFile);
    const fs::path dest = lib.model_path(kRepo, kFile);
    const std::string bytes =
        folio::test::read_file(folio::test::shared_path(std::string("models/") + kFile));
    fs::create_directories(dest.parent_path());
    {
        // A partial .part whose range the server refuses: start over from byte 0.
        std::ofstream(dest.string() + ".part", std::ios::binary) << bytes.substr(0, 1000);
        folio::test::FakeHub::Fault fault;
        fault.range_not_satisfiable = true;
        m_hub->set_fault(kRepo, kFile, fault);
        DownloadManager manager(lib, m_config, fast_options());
        const auto model = manager.pull(spec)->wait();
        QCOMPARE(model.sha256, m_hub->sha256_of(kRepo, kFile));
        QCOMPARE(m_hub->download_count(kRepo, kFile), 2);  // the 416, then the whole file
        lib.remove_model(model.id);
    }
    {
        // A .part that already holds the whole file: verified and registered, nothing fetched.
        m_hub->reset_counters();
        fs::create_directories(dest.parent_path());  // remove_model took the empty folder
        std::ofstream(dest.string() + ".part", std::ios::binary) << bytes;
        DownloadManager manager(lib, m_config, fast_options());
        QCOMPARE(manager.pull(spec)->wait().sha256, m_hub->sha256_of(kRepo, kFile));
        QCOMPARE(m_hub->download_count(kRepo, kFile), 0);
    }
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::serverIgnoringRangeRestartsFromZero() {
    const fs::path dir = fresh_dir("ignore_range");
    Library lib(dir);
    const PullSpec spec = spec_for(m_config, kRepo, kFile);
    const fs::path dest = lib.model_path(kRepo, kFile);
    fs::create_directories(dest.parent_path());
    // Bytes that are not the file's: kept, they would break the sha256.
    std::ofstream(dest.string() + ".part", std::ios::binary) << std::string(1000, 'z');
    folio::test::FakeHub::Fault fault;
    fault.ignore_range = true;
    m_hub->set_fault(kRepo, kFile, fault);
    DownloadManager manager(lib, m_config, fast_options());
    std::atomic<int64_t> last_done{0};
    const auto model =
        manager
            .pull(spec, [&](const folio::store::DownloadProgress& p) { last_done = p.bytes_done; })
            ->wait();
    // One request: it asked to resume, got the whole file (200) and wrote it from byte 0.
    const std::string cdn = std::string("/cdn/") + kRepo + "/main/" + kFile;
    QCOMPARE(m_hub->range_headers(cdn), std::vector<std::string>{"bytes=1000-"});
    QCOMPARE(m_hub->download_count(kRepo, kFile), 1);
    QCOMPARE(model.sha256, m_hub->sha256_of(kRepo, kFile));
    QCOMPARE(folio::store::sha256_file(dest), m_hub->sha256_of(kRepo, kFile));
    QCOMPARE(static_cast<int64_t>(fs::file_size(dest)), spec.files[0].size);
    QCOMPARE(last_done.load(), spec.files[0].size);
    QVERIFY(!fs::exists(dest.string() + ".part"));
    QVERIFY(lib.downloads().empty());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::twoLibrariesPullTheSameFileOnce() {
    // Two Library/DownloadManager pairs on one data folder stand for two folio processes: the
    // transfer lock is a flock per open file, so it works in-process too.
    const fs::path dir = fresh_dir("two_libraries");
    const std::string file = "micro-llama-Q8_0.gguf";
    folio::test::FakeHub::Fault slow;
    slow.bytes_per_second = 1000000;
    m_hub->set_fault(kRepo, file, slow);
    Library lib_a(dir), lib_b(dir);
    DownloadManager a(lib_a, m_config, fast_options());
    DownloadManager b(lib_b, m_config, fast_options());
    const PullSpec spec = spec_for(m_config, kRepo, file);
    const fs::path dest = lib_a.model_path(kRepo, file);
    auto task_a = a.pull(spec);
    QTRY_VERIFY_WITH_TIMEOUT(fs::exists(dest.string() + ".part"), 10000);
    std::atomic<bool> waited{false}, resumed{false};
    auto task_b = b.pull(spec, [&](const folio::store::DownloadProgress& p) {
        if (p.waiting) waited = true;
        if (p.resumed) resumed = true;
    });
    const auto model_a = task_a->wait();
    const auto model_b = task_b->wait();
    QVERIFY(waited);
    QVERIFY(!resumed);                 // b never touched the .part
    QCOMPARE(model_b.id, model_a.id);  // b found a's registration
    QCOMPARE(model_b.sha256, m_hub->sha256_of(kRepo, file));
    QCOMPARE(m_hub->download_count(kRepo, file), 1);
    QCOMPARE(a.transfers_started() + b.transfers_started(), 1);
    QCOMPARE(lib_a.models().size(), size_t{1});
    QCOMPARE(lib_b.models().size(), size_t{1});
    QCOMPARE(folio::store::sha256_file(dest), m_hub->sha256_of(kRepo, file));
    QVERIFY(!fs::exists(dest.string() + ".part"));
    QVERIFY(!fs::exists(dest.string() + ".part.lock"));
    QVERIFY(lib_a.downloads().empty());
    QCOMPARE(lib_a.integrity_check(), std::string("ok"));
    QCOMPARE(lib_b.integrity_check(), std::string("ok"));
}

void TestDownloads::cancelThenResumeAfterRestart() {
    const fs::path dir = fresh_dir("cancel");
    const PullSpec spec = spec_for(m_config, kRepo, kFile);
    folio::test::FakeHub::Fault slow;
    slow.bytes_per_second = 200000;
    m_hub->set_fault(kRepo, kFile, slow);
    fs::path part;
    int64_t kept = 0;
    {
        Library lib(dir);
        DownloadManager manager(lib, m_config, fast_options());
        std::atomic<int64_t> done{0};
        auto task = manager.pull(
            spec, [&](const folio::store::DownloadProgress& p) { done = p.bytes_done; });
        QTRY_VERIFY_WITH_TIMEOUT(done.load() > 100000, 10000);
        task->cancel();
        QCOMPARE(wait_error(task), DownloadError::Kind::Cancelled);
        part = lib.model_path(kRepo, kFile).string() + ".part";
        QVERIFY(fs::exists(part));
        kept = static_cast<int64_t>(fs::file_size(part));
        QVERIFY(kept > 100000 && kept < spec.files[0].size);
        const auto row = lib.find_download(kRepo, "main", kFile);
        QVERIFY(row.has_value());
        QCOMPARE(row->state, folio::store::DownloadState::Paused);
        QCOMPARE(row->bytes_done, kept);
        QVERIFY(lib.models().empty());
        QCOMPARE(lib.integrity_check(), std::string("ok"));
    }
    // A new process: the downloads row and the .part survive reconcile; the pull resumes.
    m_hub->clear_faults();
    Library lib(dir);
    QVERIFY(fs::exists(part));
    QCOMPARE(lib.downloads().size(), size_t{1});
    DownloadManager manager(lib, m_config, fast_options());
    std::atomic<int64_t> first{-1};
    std::atomic<bool> resumed{false};
    auto task = manager.pull(spec, [&](const folio::store::DownloadProgress& p) {
        int64_t expected = -1;
        first.compare_exchange_strong(expected, p.bytes_done);
        if (p.resumed) resumed = true;
    });
    const auto model = task->wait();
    QVERIFY(resumed);
    QCOMPARE(first.load(), kept);
    QCOMPARE(model.sha256, m_hub->sha256_of(kRepo, kFile));
    QVERIFY(lib.downloads().empty());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::sameFileTwiceDownloadsOnce() {
    const fs::path dir = fresh_dir("twice");
    Library lib(dir);
    folio::test::FakeHub::Fault slow;
    slow.bytes_per_second = 2000000;
    m_hub->set_fault(kRepo, "micro-llama-Q8_0.gguf", slow);
    DownloadManager manager(lib, m_config, fast_options());
    const PullSpec spec = spec_for(m_config, kRepo, "micro-llama-Q8_0.gguf");
    auto a = manager.pull(spec);
    auto b = manager.pull(spec);
    QCOMPARE(a.get(), b.get());
    QCOMPARE(a->wait().id, b->wait().id);
    QCOMPARE(m_hub->download_count(kRepo, "micro-llama-Q8_0.gguf"), 1);
    QCOMPARE(manager.transfers_started(), 1);
    QCOMPARE(lib.models().size(), size_t{1});
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::multiPartModelRegistersOnce() {
    const fs::path dir = fresh_dir("multipart");
    Library lib(dir);
    const std::string p1 = "Q4_K_M/split-Q4_K_M-00001-of-00002.gguf";
    const std::string p2 = "Q4_K_M/split-Q4_K_M-00002-of-00002.gguf";
    m_hub->add_file_bytes("test/split", p1, std::string(300000, 'a'));
    m_hub->add_file_bytes("test/split", p2, std::string(200000, 'b'));
    folio::hub::HubClient client(m_config);
    PullSpec spec{"test/split", "main", {}};
    for (const auto& f : client.list_files("test/split", "main")) spec.files.push_back(f);
    std::sort(spec.files.begin(), spec.files.end(),
              [](const auto& a, const auto& b) { return a.path < b.path; });
    QCOMPARE(spec.files.size(), size_t{2});
    DownloadManager manager(lib, m_config, fast_options());
    const auto model = manager.pull(spec)->wait();
    QCOMPARE(model.files.size(), size_t{2});
    QCOMPARE(model.file, p1);
    QCOMPARE(model.size, int64_t{500000});
    QCOMPARE(model.files[1].sha256, m_hub->sha256_of("test/split", p2));
    QCOMPARE(lib.models().size(), size_t{1});
    lib.remove_model(model.id);
    QVERIFY(!fs::exists(lib.model_path("test/split", p1)));
    QVERIFY(!fs::exists(lib.model_path("test/split", p2)));
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

void TestDownloads::refusesWhenDiskIsFull() {
    const fs::path dir = fresh_dir("disk_full");
    Library lib(dir);
    auto options = fast_options();
    options.free_space = [](const fs::path&) -> int64_t { return 500000; };
    DownloadManager manager(lib, m_config, options);
    try {
        manager.pull(spec_for(m_config, kRepo, kFile));
        QFAIL("pull did not refuse");
    } catch (const DownloadError& e) {
        QCOMPARE(e.kind(), DownloadError::Kind::DiskSpace);
        QVERIFY2(std::string(e.what()).find("not enough disk space") != std::string::npos,
                 e.what());
    }
    QCOMPARE(m_hub->download_count(kRepo, kFile), 0);
    QVERIFY(lib.downloads().empty());
    QCOMPARE(lib.integrity_check(), std::string("ok"));
}

QTEST_GUILESS_MAIN(TestDownloads)
#include "test_downloads.moc"
