// Many clients at once: 64 concurrent greedy streams each get exactly their solo tokens; clients
// that vanish or stop reading are aborted and free their KV blocks without stalling others;
// drain() refuses new work, lets short requests finish and aborts the rest after its grace.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "server_test_util.h"

using folio::test::json;

namespace {

// A bare TCP client: sends one HTTP request and reads as the test wishes (or not at all).
class RawClient {
  public:
    RawClient(int port, int rcvbuf = 0) {
        m_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (rcvbuf > 0) setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
            throw std::runtime_error("connect failed");
    }
    ~RawClient() { close(); }
    void post(const std::string& path, const json& body) {
        std::string b = body.dump();
        std::string req = "POST " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Content-Length: " +
                          std::to_string(b.size()) + "\r\n\r\n" + b;
        if (::send(m_fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size()))
            throw std::runtime_error("send failed");
    }
    // Reads until `needle` shows up (or EOF); returns what was read.
    std::string read_until(const std::string& needle) {
        std::string got;
        char buf[4096];
        while (got.find(needle) == std::string::npos) {
            ssize_t n = ::recv(m_fd, buf, sizeof(buf), 0);
            if (n <= 0) break;
            got.append(buf, size_t(n));
        }
        return got;
    }
    void close() {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }

  private:
    int m_fd = -1;
};

json greedy(const std::string& prompt, int max_tokens) {
    return {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
}

// A long generation: about `tokens` tokens unless aborted.
json long_request(int tokens) {
    return {{"prompt", "Once upon a time"},
            {"max_tokens", tokens},
            {"temperature", 0},
            {"ignore_eos", true}};
}

}  // namespace

class TestServerConcurrency : public QObject {
    Q_OBJECT

    std::shared_ptr<folio::Engine> m_stories;
    std::shared_ptr<folio::Engine> m_qwen;  // slower per token: long generations to interrupt

  private slots:
    void initTestCase() {
        m_stories = folio::test::make_engine("stories260K.gguf", 1, 1024);
        m_qwen = folio::test::make_engine("tiny-qwen2-Q8_0.gguf", 1, 512, 8192);
    }

    void concurrent_streams_match_solo() {
        folio::test::TestServer srv;
        srv.server->add_model("stories", m_stories);
        srv.server->set_ready();
        constexpr int kClients = 64;
        std::vector<std::string> prompts, solo;
        auto client = folio::test::client_for(srv.port());
        const char* subjects[] = {"dog", "cat", "girl", "boy", "bird", "fish", "king", "tree"};
        for (int i = 0; i < kClients; ++i) {
            prompts.push_back("Once upon a time there was a " + std::string(subjects[i % 8]) +
                              " who had " + std::to_string(i) + " friends");
            auto r = folio::test::post_json(*client, "/v1/completions", greedy(prompts.back(), 10));
            QCOMPARE(r.status, 200);
            solo.push_back(r.body["choices"][0]["text"]);
        }
        std::vector<std::future<std::pair<std::string, bool>>> results;
        std::atomic<int> ready{0};
        for (int i = 0; i < kClients; ++i) {
            results.push_back(std::async(std::launch::async, [&, i] {
                auto c = folio::test::client_for(srv.port());
                ready++;
                while (ready < kClients) std::this_thread::yield();
                auto sse = folio::test::post_sse(*c, "/v1/completions", greedy(prompts[i], 10));
                return std::make_pair(folio::test::streamed_text(sse), sse.done);
            }));
        }
        for (int i = 0; i < kClients; ++i) {
            std::pair<std::string, bool> got;
            try {
                got = results[i].get();
            } catch (const std::exception& e) {
                for (const auto& l : srv.logs()) qWarning("%s", l.c_str());
                QFAIL(e.what());
            }
            auto [text, done] = got;
            QVERIFY(done);
            QCOMPARE(text, solo[i]);
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_stories->stats().kv_blocks_used, int64_t{0}, 5000);
    }

    void vanishing_clients_are_aborted() {
        folio::test::TestServer srv;
        srv.server->add_model("qwen", m_qwen);
        srv.server->set_ready();
        const int64_t generated_before = m_qwen->stats().generation_tokens_total;

        // Streaming: read the first token's chunk, then hang up.
        {
            json body = long_request(6000);
            body["stream"] = true;
            RawClient raw(srv.port());
            raw.post("/v1/completions", body);
            QVERIFY(raw.read_until("\"text\"").find("data: ") != std::string::npos);
            QVERIFY(m_qwen->stats().kv_blocks_used > 0);
        }
        // Another client is served meanwhile.
        auto client = folio::test::client_for(srv.port());
        auto other = folio::test::post_json(*client, "/v1/completions", greedy("Hello", 4));
        QCOMPARE(other.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(m_qwen->stats().kv_blocks_used, int64_t{0}, 5000);

        // Non-streaming: hang up while it generates.
        {
            RawClient raw(srv.port());
            raw.post("/v1/completions", long_request(6000));
            QTRY_VERIFY_WITH_TIMEOUT(m_qwen->stats().kv_blocks_used > 0, 5000);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_qwen->stats().kv_blocks_used, int64_t{0}, 5000);
        // Far fewer tokens than the two requests asked for were generated: both were aborted.
        QVERIFY(m_qwen->stats().generation_tokens_total - generated_before < 6000);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                int aborted = 0;
                for (const auto& l : srv.logs())
                    if (l.find("POST /v1/completions 200") != std::string::npos &&
                        l.find("abort") != std::string::npos)
                        ++aborted;
                return aborted >= 2;
            }(),
            5000);
    }

    void slow_reader_does_not_stall_others() {
        folio::server::ServerConfig config;
        config.write_timeout = std::chrono::milliseconds(500);
        folio::test::TestServer srv(config);
        srv.server->add_model("qwen", m_qwen);
        srv.server->set_ready();
        // A stream with large chunks (20 logprobs per token) into a tiny receive buffer that
        // nobody reads.
        json body = long_request(6000);
        body["stream"] = true;
        body["logprobs"] = 20;
        RawClient stalled(srv.port(), 2048);
        stalled.post("/v1/completions", body);
        QTRY_VERIFY_WITH_TIMEOUT(m_qwen->stats().kv_blocks_used > 0, 5000);
        // Others are served while it stalls.
        auto client = folio::test::client_for(srv.port());
        for (int i = 0; i < 3; ++i) {
            auto r = folio::test::post_json(*client, "/v1/completions", greedy("Hello", 4));
            QCOMPARE(r.status, 200);
        }
        // The server gives up on it (write timeout) and frees its blocks while the socket is
        // still open.
        QTRY_COMPARE_WITH_TIMEOUT(m_qwen->stats().kv_blocks_used, int64_t{0}, 15000);
        bool logged = false;
        for (const auto& l : srv.logs())
            if (l.find("client disconnected") != std::string::npos) logged = true;
        QVERIFY(logged);
        stalled.close();
    }

    void drain_lets_short_requests_finish() {
        folio::test::TestServer srv;
        srv.server->add_model("stories", m_stories);
        srv.server->set_ready();
        auto running = std::async(std::launch::async, [&] {
            auto c = folio::test::client_for(srv.port());
            return folio::test::post_json(*c, "/v1/completions", greedy("Once upon a time", 16));
        });
        QTRY_VERIFY_WITH_TIMEOUT(
            m_stories->stats().num_running + m_stories->stats().num_waiting > 0 ||
                running.wait_for(std::chrono::seconds(0)) == std::future_status::ready,
            5000);
        QCOMPARE(srv.server->drain(std::chrono::seconds(20)), 0);
        auto r = running.get();
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body["usage"]["completion_tokens"], 16);
        srv.server->wait();  // returns: stopped
        auto c = folio::test::client_for(srv.port(), 2);
        QVERIFY(!c->Get("/health"));  // the listener is gone
    }

    // An IDE plugin keeps its connection open between requests; stopping must not wait out the
    // keep-alive timeout (a minute here) for it.
    void drain_does_not_wait_for_idle_keep_alive() {
        folio::server::ServerConfig config;
        config.keep_alive_timeout = std::chrono::seconds(60);
        folio::test::TestServer srv(config);
        srv.server->add_model("stories", m_stories);
        srv.server->set_ready();
        auto idle = folio::test::client_for(srv.port());
        idle->set_keep_alive(true);
        QCOMPARE(folio::test::get_json(*idle, "/health").status, 200);  // then stays idle

        auto stopped = std::async(std::launch::async, [&] {
            srv.server->drain(std::chrono::milliseconds(200));
            srv.server->wait();
        });
        QVERIFY2(stopped.wait_for(std::chrono::seconds(20)) == std::future_status::ready,
                 "the server waited for an idle keep-alive connection");
        auto fresh = folio::test::client_for(srv.port(), 2);
        QVERIFY(!fresh->Get("/health"));
    }

    void drain_aborts_after_grace() {
        folio::test::TestServer srv;
        srv.server->add_model("qwen", m_qwen);
        srv.server->set_ready();
        json body = long_request(6000);
        body["stream"] = true;
        RawClient streaming(srv.port());
        streaming.post("/v1/completions", body);
        QVERIFY(streaming.read_until("\"text\"").find("data: ") != std::string::npos);

        auto drained = std::async(
            std::launch::async, [&] { return srv.server->drain(std::chrono::milliseconds(800)); });
        auto client = folio::test::client_for(srv.port());
        QTRY_VERIFY_WITH_TIMEOUT(folio::test::get_json(*client, "/health").status == 503, 2000);
        auto health = folio::test::get_json(*client, "/health");
        QCOMPARE(health.body["status"], "draining");
        auto refused = folio::test::post_json(*client, "/v1/completions", greedy("Hi", 2));
        QCOMPARE(refused.status, 503);
        QVERIFY(refused.body["error"]["message"].is_string());

        QCOMPARE(drained.get(), 1);
        const std::string rest = streaming.read_until("[DONE]");
        QVERIFY2(rest.find("\"finish_reason\":\"abort\"") != std::string::npos, rest.c_str());
        QTRY_COMPARE_WITH_TIMEOUT(m_qwen->stats().kv_blocks_used, int64_t{0}, 5000);
        srv.server->wait();
    }
};

QTEST_GUILESS_MAIN(TestServerConcurrency)
#include "test_server_concurrency.moc"
