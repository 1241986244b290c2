// `folio serve` as systemd and an administrator see it: readiness and watchdog notifications,
// graceful drain on SIGTERM, configuration layering and errors, and the API key rules.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <QtTest/QtTest>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "folio_process.h"
#include "shared_data.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string model_path(const char* name) {
    return folio::test::shared_path(std::string("models/") + name).string();
}

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// The environment of a folio child: no FOLIO_* or config files of the machine or the user.
QProcessEnvironment clean_env(const std::string& scratch) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& k : env.keys())
        if (k.startsWith("FOLIO_") && k != "FOLIO_SHARED_DIR") env.remove(k);
    for (const char* k : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
                          "XDG_CONFIG_HOME", "LISTEN_FDS"})
        env.remove(k);
    const fs::path dir = folio::test::scratch_dir(scratch);
    fs::create_directories(dir / "home");
    fs::create_directories(dir / "etc");
    env.insert("HOME", QString::fromStdString((dir / "home").string()));
    env.insert("CONFIGURATION_DIRECTORY", QString::fromStdString((dir / "etc").string()));
    return env;
}

struct Result {
    int exit_code = -1;
    std::string out, err;
};

Result run_folio(const QStringList& args, const QProcessEnvironment& env, int timeout_ms = 60000) {
    const folio::test::FolioRun r = folio::test::run_folio(args, timeout_ms, env);
    return {r.exit_code, r.out.toStdString(), r.err.toStdString()};
}

// ---- a tiny HTTP/1.1 client over a blocking socket ----

int connect_local(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool send_request(int fd, const std::string& method, const std::string& path,
                  const std::string& body, const std::string& key) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
    if (!body.empty())
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n";
    req += "\r\n" + body;
    return send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
}

struct HttpResponse {
    int status = 0;  // 0: no connection or no answer
    std::string body;
};

HttpResponse http(int port, const std::string& method, const std::string& path,
                  const std::string& body = {}, const std::string& key = {}) {
    HttpResponse r;
    const int fd = connect_local(port);
    if (fd < 0) return r;
    if (send_request(fd, method, path, body, key)) {
        std::string raw;
        char buf[16384];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) raw.append(buf, static_cast<size_t>(n));
        if (raw.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(raw.c_str() + 9);
        if (auto p = raw.find("\r\n\r\n"); p != std::string::npos) r.body = raw.substr(p + 4);
    }
    close(fd);
    return r;
}

// ---- the notification socket systemd would listen on ----

class NotifySocket {
  public:
    NotifySocket() {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        name_ = "folio-test-notify-" + std::to_string(getpid()) + "-" + std::to_string(++count_);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path + 1, name_.data(), name_.size());  // abstract namespace
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name_.size());
        bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0;
    }
    ~NotifySocket() { close(fd_); }
    bool ok() const { return bound_; }
    QString address() const { return QString::fromStdString("@" + name_); }
    int fd() const { return fd_; }

    // Every datagram that arrived within `wait`, split into "KEY=value" lines.
    std::vector<std::string> receive(std::chrono::milliseconds wait) {
        std::vector<std::string> lines;
        pollfd p{fd_, POLLIN, 0};
        while (poll(&p, 1, static_cast<int>(wait.count())) > 0) {
            char buf[4096];
            const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
            if (n <= 0) break;
            std::string msg(buf, static_cast<size_t>(n));
            size_t start = 0;
            while (start < msg.size()) {
                size_t end = msg.find('\n', start);
                if (end == std::string::npos) end = msg.size();
                lines.push_back(msg.substr(start, end - start));
                start = end + 1;
            }
            wait = 0ms;
        }
        return lines;
    }

  private:
    inline static int count_ = 0;
    int fd_ = -1;
    bool bound_ = false;
    std::string name_;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// Reads the child's stderr until "listening on http://127.0.0.1:PORT" appears; 0 on timeout.
int wait_for_port(QProcess& p, std::string& err, std::chrono::seconds timeout = 30s) {
    static const std::regex re("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline && p.state() != QProcess::NotRunning) {
        p.waitForReadyRead(20);
        err += p.readAllStandardError().toStdString();
        std::smatch m;
        if (std::regex_search(err, m, re)) return std::stoi(m[1]);
    }
    return 0;
}

QStringList serve_args(const QStringList& extra) {
    return QStringList{"serve", "--port", "0", "--threads", "1"} + extra;
}

}  // namespace

class TestServeAppliance : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() {
        QVERIFY2(fs::exists(folio::test::folio_binary()), "build the folio target first");
    }

    // What systemd sees: READY=1 with STATUS only once /health says 200, watchdog pings, and on
    // SIGTERM STOPPING=1, the running stream finishing, new work refused, and exit status 0.
    void notifiesReadinessAndDrainsOnSigterm() {
        NotifySocket notify;
        QVERIFY(notify.ok());
        QProcessEnvironment env = clean_env("serve-notify");
        env.insert("NOTIFY_SOCKET", notify.address());
        env.insert("WATCHDOG_USEC", "400000");
        QProcess p;
        p.setProcessEnvironment(env);
        // Several models: /health answers 503 while the later ones load.
        p.start(QString::fromStdString(folio::test::folio_binary().string()),
                serve_args({"-m", QString::fromStdString(model_path("stories260K.gguf")), "-m",
                            QString::fromStdString(model_path("tiny-llama3-Q8_0.gguf")), "-m",
                            QString::fromStdString(model_path("tiny-qwen2-Q8_0.gguf")),
                            "--kv-cache-memory", "16M", "--shutdown-grace", "20"}));
        std::string err;
        const int port = wait_for_port(p, err);
        QVERIFY2(port > 0, err.c_str());

        // Until READY=1: /health must never be 200 before systemd hears READY... the other way
        // round: when READY=1 arrives, /health is already 200.
        bool saw_503 = false, ready = false;
        std::vector<std::string> notes;
        const auto deadline = Clock::now() + 60s;
        while (!ready && Clock::now() < deadline && p.state() == QProcess::Running) {
            const int health = http(port, "GET", "/health").status;
            if (health == 503) saw_503 = true;
            for (const std::string& n : notify.receive(5ms)) {
                notes.push_back(n);
                if (n == "READY=1") ready = true;
            }
        }
        err += p.readAllStandardError().toStdString();
        QVERIFY2(ready, err.c_str());
        QCOMPARE(http(port, "GET", "/health").status, 200);
        const std::string status = "STATUS=serving 3 models on 127.0.0.1:" + std::to_string(port);
        QVERIFY2(contains(notes, status), status.c_str());
        QVERIFY2(saw_503, "no 503 from /health while the models loaded");
        QVERIFY(!contains(notes, "STOPPING=1"));

        // Watchdog: WATCHDOG=1 every 0.2 s.
        int pings = 0;
        const auto until = Clock::now() + 1s;
        while (Clock::now() < until)
            for (const std::string& n : notify.receive(100ms)) pings += n == "WATCHDOG=1";
        QVERIFY2(pings >= 3, std::to_string(pings).c_str());

        // A long stream, then SIGTERM while it runs.
        const int fd = connect_local(port);
        QVERIFY(fd >= 0);
        const nlohmann::json body = {{"model", "stories260K"}, {"prompt", "Once upon a time"},
                                     {"max_tokens", 1500},     {"ignore_eos", true},
                                     {"temperature", 0},       {"stream", true}};
        QVERIFY(send_request(fd, "POST", "/v1/completions", body.dump(), ""));
        std::string stream;
        int chunks_before = 0, chunks_after = 0;
        bool stopping = false, sent_term = false;
        int status_while_draining = 0;
        pollfd pf[2] = {{fd, POLLIN, 0}, {notify.fd(), POLLIN, 0}};
        const auto stream_deadline = Clock::now() + 60s;
        while (Clock::now() < stream_deadline) {
            if (poll(pf, 2, 1000) <= 0) continue;
            if (pf[1].revents & POLLIN)
                for (const std::string& n : notify.receive(0ms))
                    if (n == "STOPPING=1" && !stopping) {
                        stopping = true;
                        // Draining: new work is refused while the stream goes on.
                        // (drain() begins right after STOPPING=1 is sent.)
                        const auto until = Clock::now() + 2s;
                        do {
                            status_while_draining = http(port, "GET", "/v1/models").status;
                        } while (status_while_draining == 200 && Clock::now() < until);
                    }
            if (pf[0].revents & (POLLIN | POLLHUP)) {
                char buf[8192];
                const ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0) break;
                const std::string part(buf, static_cast<size_t>(n));
                stream += part;
                int c = 0;
                for (size_t at = part.find("data: {"); at != std::string::npos;
                     at = part.find("data: {", at + 1))
                    ++c;
                (stopping ? chunks_after : chunks_before) += c;
                if (!sent_term && chunks_before > 0) {
                    p.terminate();  // SIGTERM
                    sent_term = true;
                }
            }
        }
        close(fd);
        QVERIFY(sent_term);
        QVERIFY2(stopping, "no STOPPING=1 after SIGTERM");
        QVERIFY2(chunks_after > 0, "the stream ended before SIGTERM: make it longer");
        QVERIFY2(stream.find("data: [DONE]") != std::string::npos, stream.c_str());
        QVERIFY2(stream.find("\"finish_reason\":\"length\"") != std::string::npos, stream.c_str());
        QCOMPARE(status_while_draining, 503);

        QVERIFY(p.waitForFinished(30000));
        err += p.readAllStandardError().toStdString();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QVERIFY2(p.exitCode() == 0, err.c_str());
        QVERIFY2(err.find("received SIGTERM") != std::string::npos, err.c_str());
        QVERIFY2(err.find("every running request finished") != std::string::npos, err.c_str());
        // The log: one line per event, model loads with their time, no color codes.
        QVERIFY2(std::regex_search(err, std::regex("model 'tiny-qwen2-Q8_0' loaded from .* in "
                                                   "[0-9.]+ s")),
                 err.c_str());
        QVERIFY(err.find('\x1b') == std::string::npos);
    }

    // The grace period ends: the running request is aborted, the exit is still clean.
    void graceExpiryAbortsAndExitsZero() {
        QProcess p;
        p.setProcessEnvironment(clean_env("serve-grace"));
        p.start(QString::fromStdString(folio::test::folio_binary().string()),
                serve_args({"-m", QString::fromStdString(model_path("tiny-llama2-Q8_0.gguf")),
                            "--shutdown-grace", "0.3", "--kv-cache-memory", "64M"}));
        std::string err;
        const int port = wait_for_port(p, err);
        QVERIFY2(port > 0, err.c_str());
        while (http(port, "GET", "/health").status != 200) QTest::qWait(20);
        const int fd = connect_local(port);
        const nlohmann::json body = {{"model", "tiny-llama2-Q8_0"},
                                     {"prompt", "Hello"},
                                     {"max_tokens", 2000},
                                     {"ignore_eos", true},
                                     {"stream", true}};
        QVERIFY(send_request(fd, "POST", "/v1/completions", body.dump(), ""));
        char buf[4096];
        QVERIFY(recv(fd, buf, sizeof(buf), 0) > 0);
        p.terminate();
        const auto t0 = Clock::now();
        QVERIFY(p.waitForFinished(20000));
        close(fd);
        err += p.readAllStandardError().toStdString();
        QVERIFY2(Clock::now() - t0 < 10s, err.c_str());
        QVERIFY2(p.exitCode() == 0, err.c_str());
        QVERIFY2(err.find("1 request aborted") != std::string::npos, err.c_str());
    }

    // /etc (here $CONFIGURATION_DIRECTORY), then the user's file, then FOLIO_*, then flags.
    void configLayersLaterWins() {
        QProcessEnvironment env = clean_env("serve-layers");
        const fs::path dir = folio::test::scratch_dir("serve-layers");
        write_file(dir / "etc" / "folio.toml",
                   "[server]\nport = 1000\nshutdown_grace = 5\n"
                   "[engine]\nthreads = 1\nmax_num_seqs = 5\n"
                   "[[model]]\npath = \"/models/system.gguf\"\n");
        write_file(dir / "xdg" / "folio" / "folio.toml",
                   "[server]\nhost = \"127.0.0.2\"\nport = 1111\n"
                   "[engine]\nthreads = 3\nkv_type = \"f32\"\n"
                   "[[model]]\npath = \"models/a.gguf\"\nid = \"alpha\"\n"
                   "[[model]]\npath = \"/m/b.gguf\"\n");
        env.insert("XDG_CONFIG_HOME", QString::fromStdString((dir / "xdg").string()));
        env.insert("FOLIO_PORT", "2222");
        env.insert("FOLIO_THREADS", "4");
        env.insert("FOLIO_PREFIX_CACHING", "false");
        const Result r = run_folio({"serve", "--port", "3333", "--print-config"}, env);
        QVERIFY2(r.exit_code == 0, r.err.c_str());
        const std::string user = (dir / "xdg" / "folio" / "folio.toml").string();
        const std::string sys = (dir / "etc" / "folio.toml").string();
        for (const std::string& line :
             {std::string("port = 3333  # --port"), std::string("threads = 4  # FOLIO_THREADS"),
              std::string("prefix_caching = false  # FOLIO_PREFIX_CACHING"),
              "host = \"127.0.0.2\"  # " + user + ":2", "kv_type = \"f32\"  # " + user + ":6",
              "max_num_seqs = 5  # " + sys + ":6", "shutdown_grace = 5  # " + sys + ":3",
              "path = \"" + (dir / "xdg" / "folio" / "models" / "a.gguf").string() + "\"",
              std::string("id = \"alpha\""), std::string("id = \"b\""),
              std::string("max_num_batched_tokens = 512  # default")})
            QVERIFY2(r.out.find(line + "\n") != std::string::npos, (line + "\n" + r.out).c_str());
        QVERIFY(r.out.find("system.gguf") == std::string::npos);  // the user's list replaced it

        // FOLIO_MODELS replaces the files' models; -m replaces FOLIO_MODELS.
        env.insert("FOLIO_MODELS", "/m/x.gguf:/m/y.gguf,/m/z.bin");
        Result m = run_folio({"serve", "--print-config"}, env);
        QVERIFY2(m.exit_code == 0, m.err.c_str());
        for (const char* id : {"id = \"x\"", "id = \"y\"", "id = \"z.bin\""})
            QVERIFY2(m.out.find(id) != std::string::npos, m.out.c_str());
        m = run_folio({"serve", "--print-config", "-m", "/m/flag.gguf"}, env);
        QVERIFY(m.out.find("id = \"flag\"") != std::string::npos);
        QVERIFY(m.out.find("id = \"x\"") == std::string::npos);

        // --config replaces both files.
        write_file(dir / "only.toml", "[engine]\nctx_size = 256\n");
        env.remove("FOLIO_MODELS");
        const Result c =
            run_folio({"serve", "--config", QString::fromStdString((dir / "only.toml").string()),
                       "-m", "/m/q.gguf", "--print-config"},
                      env);
        QVERIFY2(c.exit_code == 0, c.err.c_str());
        QVERIFY(c.out.find("ctx_size = 256  # ") != std::string::npos);
        QVERIFY(c.out.find("host = \"127.0.0.1\"  # default") != std::string::npos);
        QVERIFY(c.out.find("max_num_seqs = 64  # default") != std::string::npos);
        QVERIFY(c.out.find("port = 2222  # FOLIO_PORT") != std::string::npos);
    }

    // The documented example parses, and its values are the real defaults.
    void exampleConfigMatchesDefaults() {
        const QProcessEnvironment env = clean_env("serve-example");
        const std::string example = (fs::path(__FILE__).parent_path().parent_path().parent_path() /
                                     "packaging" / "folio.toml.example")
                                        .string();
        const Result r = run_folio({"serve", "--config", QString::fromStdString(example), "-m",
                                    "/m/a.gguf", "--print-config"},
                                   env);
        QVERIFY2(r.exit_code == 0, r.err.c_str());
        const Result d = run_folio({"serve", "-m", "/m/a.gguf", "--print-config"}, env);
        QVERIFY2(d.exit_code == 0, d.err.c_str());
        // Same values line by line; only the sources differ.
        auto values = [](const std::string& text) {
            std::vector<std::string> out;
            std::istringstream in(text);
            std::string line;
            while (std::getline(in, line))
                if (!line.empty() && line[0] != '#')
                    out.push_back(line.substr(0, line.find("  #")));
            return out;
        };
        QCOMPARE(values(r.out), values(d.out));
    }

    // One line naming the file, the line and the key; exit status 1; nothing started.
    void badConfigIsOneClearLine_data() {
        QTest::addColumn<QString>("toml");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown key") << "[server]\nport = 8080\nhots = \"x\"\n"
                                     << "bad.toml:3: unknown key 'server.hots'";
        QTest::newRow("wrong type") << "[server]\nport = \"8080\"\n"
                                    << "bad.toml:2: key 'server.port': expected an integer";
        QTest::newRow("out of range") << "\n[engine]\nthreads = -2\n"
                                      << "bad.toml:3: key 'engine.threads': expected a value";
        QTest::newRow("bad choice") << "[engine]\nkv_type = \"q4\"\n"
                                    << "bad.toml:2: key 'engine.kv_type': expected one of";
        QTest::newRow("unknown table") << "[sever]\nport = 1\n"
                                       << "bad.toml:1: unknown key 'sever'";
        QTest::newRow("model without path") << "[[model]]\nid = \"x\"\n"
                                            << "bad.toml:1: a [[model]] needs path";
        QTest::newRow("bad toml") << "[server]\nport = = 3\n"
                                  << "bad.toml:2:";
    }
    void badConfigIsOneClearLine() {
        QFETCH(QString, toml);
        QFETCH(QString, expected);
        const fs::path file = folio::test::scratch_dir("serve-bad") / "bad.toml";
        write_file(file, toml.toStdString());
        const Result r = run_folio({"serve", "--config", QString::fromStdString(file.string()),
                                    "-m", QString::fromStdString(model_path("stories260K.gguf"))},
                                   clean_env("serve-bad"));
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.find(expected.toStdString()) != std::string::npos, r.err.c_str());
        QCOMPARE(std::count(r.err.begin(), r.err.end(), '\n'), 1);
        QVERIFY(r.err.find("listening") == std::string::npos);
    }

    void badEnvironmentNamesTheVariable() {
        QProcessEnvironment env = clean_env("serve-bad-env");
        env.insert("FOLIO_PORT", "80a");
        const Result r = run_folio({"serve", "-m", "/m/a.gguf", "--print-config"}, env);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.find("FOLIO_PORT") != std::string::npos, r.err.c_str());
        QCOMPARE(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    }

    void missingConfigFileIsAnError() {
        const Result r =
            run_folio({"serve", "--config", "/nonexistent/folio.toml", "-m", "/m/a.gguf"},
                      clean_env("serve-no-config"), 10000);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(
            r.err.find("cannot read the config file /nonexistent/folio.toml") != std::string::npos,
            r.err.c_str());
    }

    void nonLoopbackNeedsAnApiKey() {
        QProcessEnvironment env = clean_env("serve-loopback");
        const QString model = QString::fromStdString(model_path("stories260K.gguf"));
        const Result r = run_folio({"serve", "-m", model, "--host", "0.0.0.0"}, env, 10000);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(
            r.err.find("refusing to listen on 0.0.0.0 without an API key") != std::string::npos,
            r.err.c_str());
        QCOMPARE(std::count(r.err.begin(), r.err.end(), '\n'), 1);
        // A key from any layer lifts the refusal.
        env.insert("FOLIO_API_KEY", "k1");
        const Result ok =
            run_folio({"serve", "-m", model, "--host", "0.0.0.0", "--print-config"}, env, 10000);
        QVERIFY2(ok.exit_code == 0, ok.err.c_str());
        QVERIFY(ok.out.find("k1") == std::string::npos);  // never printed
        QVERIFY(ok.out.find("api_key = [\"<redacted>\"]  # FOLIO_API_KEY") != std::string::npos);
    }

    // Keys from a file; model ids from the config; /health stays open.
    void apiKeyFileAndConfiguredModelIds() {
        const fs::path dir = folio::test::scratch_dir("serve-keys");
        write_file(dir / "keys", "# clients\nkey-one\n\n  key-two  \n");
        write_file(dir / "folio.toml", "[[model]]\npath = \"" + model_path("stories260K.gguf") +
                                           "\"\nid = \"stories\"\n");
        QProcess p;
        p.setProcessEnvironment(clean_env("serve-keys"));
        p.start(QString::fromStdString(folio::test::folio_binary().string()),
                serve_args({"--config", QString::fromStdString((dir / "folio.toml").string()),
                            "--api-key-file", QString::fromStdString((dir / "keys").string())}));
        std::string err;
        const int port = wait_for_port(p, err);
        QVERIFY2(port > 0, err.c_str());
        auto deadline = Clock::now() + 30s;
        while (http(port, "GET", "/health").status != 200 && Clock::now() < deadline)
            QTest::qWait(20);
        QCOMPARE(http(port, "GET", "/health").status, 200);
        QCOMPARE(http(port, "GET", "/v1/models").status, 401);
        QCOMPARE(http(port, "GET", "/v1/models", "", "key-three").status, 401);
        QCOMPARE(http(port, "GET", "/v1/models", "", "key-two").status, 200);
        const HttpResponse models = http(port, "GET", "/v1/models", "", "key-one");
        QCOMPARE(models.status, 200);
        const auto j = nlohmann::json::parse(models.body);
        QCOMPARE(j["data"].size(), size_t{1});
        QCOMPARE(j["data"][0]["id"].get<std::string>(), std::string("stories"));
        p.terminate();
        QVERIFY(p.waitForFinished(30000));
        err += p.readAllStandardError().toStdString();
        QVERIFY2(p.exitCode() == 0, err.c_str());
        QVERIFY(err.find("key-one") == std::string::npos);
        QVERIFY2(err.find("auth on (2 keys)") != std::string::npos, err.c_str());
    }

    // SIGINT while the models load: no READY=1, the loading stops, exit status 0.
    void signalWhileLoadingExitsCleanly() {
        NotifySocket notify;
        QVERIFY(notify.ok());
        QProcessEnvironment env = clean_env("serve-early-stop");
        env.insert("NOTIFY_SOCKET", notify.address());
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(QString::fromStdString(folio::test::folio_binary().string()),
                serve_args({"-m", QString::fromStdString(model_path("tiny-llama3-Q8_0.gguf")), "-m",
                            QString::fromStdString(model_path("tiny-qwen2-Q8_0.gguf")),
                            "--kv-cache-memory", "16M"}));
        std::string err;
        QVERIFY2(wait_for_port(p, err) > 0, err.c_str());
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(30000));
        err += p.readAllStandardError().toStdString();
        QVERIFY2(p.exitCode() == 0, err.c_str());
        const auto notes = notify.receive(100ms);
        QVERIFY(contains(notes, "STOPPING=1"));
        QVERIFY(!contains(notes, "READY=1"));
        QVERIFY2(err.find("model 'tiny-qwen2-Q8_0' loaded") == std::string::npos, err.c_str());
    }

    // Under systemd (stderr is $JOURNAL_STREAM) each line carries its priority, "<6>" or "<3>".
    void journalLinesCarryPriorities() {
        const fs::path file = folio::test::scratch_dir("serve-journal") / "stderr";
        write_file(file, "");
        struct stat st {};
        QCOMPARE(::stat(file.c_str(), &st), 0);
        QProcessEnvironment env = clean_env("serve-journal");
        env.insert("JOURNAL_STREAM", QString("%1:%2").arg(st.st_dev).arg(st.st_ino));
        QProcess p;
        p.setProcessEnvironment(env);
        p.setStandardErrorFile(QString::fromStdString(file.string()));
        p.start(QString::fromStdString(folio::test::folio_binary().string()),
                {"serve", "-m", "/nonexistent/m.gguf"});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 1);
        const std::string log = folio::test::read_file(file);
        QVERIFY2(log.rfind("<6>folio ", 0) == 0, log.c_str());
        QVERIFY2(log.find("\n<3>model file not found: /nonexistent/m.gguf\n") != std::string::npos,
                 log.c_str());
    }

    void missingModelFailsBeforeListening() {
        const Result r = run_folio({"serve", "-m", "/nonexistent/m.gguf", "--port", "0"},
                                   clean_env("serve-missing"), 10000);
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.find("model file not found: /nonexistent/m.gguf") != std::string::npos,
                 r.err.c_str());
        QVERIFY(r.err.find("listening") == std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestServeAppliance)
#include "test_serve_appliance.moc"
