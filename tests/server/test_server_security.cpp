// Safe defaults of folio::server::Server: loopback-only without keys, bearer auth, CORS only for
// listed origins, and thousands of hostile request bodies that must never crash it or disturb a
// well-formed request afterwards.
#include <QtTest>

#include <random>

#include "server_test_util.h"

using folio::test::json;

class TestServerSecurity : public QObject {
    Q_OBJECT

    std::shared_ptr<folio::Engine> m_stories;

  private slots:
    void initTestCase() { m_stories = folio::test::make_engine("stories260K.gguf"); }

    void non_loopback_without_key_refused() {
        folio::server::ServerConfig c;
        QCOMPARE(c.host, std::string("127.0.0.1"));
        QCOMPARE(c.port, 8080);
        c.host = "0.0.0.0";
        try {
            folio::server::Server s(c);
            QFAIL("a non-loopback bind without an API key must be refused");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(std::string(e.what()).find("API key") != std::string::npos, e.what());
        }
        c.api_keys = {"k"};
        folio::server::Server with_key(c);  // allowed (not started)
        c.api_keys = {""};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, folio::server::Server s2(c));
    }

    void api_keys() {
        folio::server::ServerConfig c;
        c.api_keys = {"secret-one", "secret-two"};
        folio::test::TestServer srv(c);
        srv.server->add_model("stories", m_stories);
        srv.server->set_ready();
        auto client = folio::test::client_for(srv.port());
        auto none = folio::test::get_json(*client, "/v1/models");
        QCOMPARE(none.status, 401);
        QCOMPARE(none.body["error"]["code"], "invalid_api_key");
        QVERIFY(none.body["error"]["message"].is_string());
        auto wrong =
            folio::test::get_json(*client, "/v1/models", {{"Authorization", "Bearer secret-on"}});
        QCOMPARE(wrong.status, 401);
        auto longer = folio::test::get_json(*client, "/v1/models",
                                            {{"Authorization", "Bearer secret-one-x"}});
        QCOMPARE(longer.status, 401);
        auto basic =
            folio::test::get_json(*client, "/v1/models", {{"Authorization", "Basic secret-one"}});
        QCOMPARE(basic.status, 401);
        auto ok =
            folio::test::get_json(*client, "/v1/models", {{"Authorization", "Bearer secret-two"}});
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.body["data"][0]["id"], "stories");
        auto post = folio::test::post_json(*client, "/v1/completions",
                                           {{"prompt", "Hi"}, {"max_tokens", 2}},
                                           {{"Authorization", "Bearer secret-one"}});
        QCOMPARE(post.status, 200);
        QCOMPARE(folio::test::post_json(*client, "/v1/completions",
                                        {{"prompt", "Hi"}, {"max_tokens", 2}})
                     .status,
                 401);
        QCOMPARE(folio::test::get_json(*client, "/metrics").status, 401);
        // /health stays open.
        QCOMPARE(folio::test::get_json(*client, "/health").status, 200);
    }

    void cors_only_for_listed_origins() {
        {
            folio::server::ServerConfig c;
            c.cors_origins = {"https://app.example"};
            folio::test::TestServer srv(c);
            srv.server->add_model("stories", m_stories);
            auto client = folio::test::client_for(srv.port());
            auto listed =
                folio::test::get_json(*client, "/v1/models", {{"Origin", "https://app.example"}});
            QCOMPARE(listed.status, 200);
            QCOMPARE(listed.header("Access-Control-Allow-Origin"),
                     std::string("https://app.example"));
            auto other =
                folio::test::get_json(*client, "/v1/models", {{"Origin", "https://evil.example"}});
            QCOMPARE(other.status, 200);
            QVERIFY(!other.has_header("Access-Control-Allow-Origin"));
            // Preflight.
            auto pre = client->Options(
                "/v1/chat/completions",
                {{"Origin", "https://app.example"},
                 {"Access-Control-Request-Method", "POST"},
                 {"Access-Control-Request-Headers", "authorization, content-type"}});
            QVERIFY(pre);
            QVERIFY(pre->status == 204 || pre->status == 200);
            QCOMPARE(pre->get_header_value("Access-Control-Allow-Origin"),
                     std::string("https://app.example"));
            QVERIFY(pre->get_header_value("Access-Control-Allow-Methods").find("POST") !=
                    std::string::npos);
            auto pre_other = client->Options(
                "/v1/chat/completions",
                {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
            QVERIFY(pre_other);
            QVERIFY(!pre_other->has_header("Access-Control-Allow-Origin"));
            // Errors carry the header too, for a listed origin.
            auto err = folio::test::post_json(*client, "/v1/completions", {{"prompt", 1}},
                                              {{"Origin", "https://app.example"}});
            QCOMPARE(err.status, 400);
            QVERIFY(err.has_header("Access-Control-Allow-Origin"));
        }
        {
            folio::test::TestServer srv;  // no origins configured: no CORS at all
            auto client = folio::test::client_for(srv.port());
            auto r =
                folio::test::get_json(*client, "/v1/models", {{"Origin", "https://app.example"}});
            QVERIFY(!r.has_header("Access-Control-Allow-Origin"));
            auto pre = client->Options("/v1/models", {{"Origin", "https://app.example"},
                                                      {"Access-Control-Request-Method", "GET"}});
            QVERIFY(pre);
            QVERIFY(!pre->has_header("Access-Control-Allow-Origin"));
        }
    }

    void hostile_input() {
        folio::server::ServerConfig c;
        c.max_tokens_limit = 6;
        c.max_n = 2;
        c.max_body_bytes = 256 * 1024;
        folio::test::TestServer srv(c);
        srv.server->add_model("stories", m_stories);
        srv.server->set_ready();
        auto client = folio::test::client_for(srv.port(), 30);
        client->set_keep_alive(true);

        const json good = {{"model", "stories"},
                           {"prompt", "Once upon a time"},
                           {"max_tokens", 6},
                           {"temperature", 0}};
        auto reference = folio::test::post_json(*client, "/v1/completions", good);
        QCOMPARE(reference.status, 200);

        const std::vector<std::pair<std::string, json>> seeds = {
            {"/v1/completions", good},
            {"/v1/completions",
             {{"prompt", json::array({"a", "b"})},
              {"n", 2},
              {"max_tokens", 3},
              {"stream", true},
              {"logprobs", 2},
              {"stop", json::array({"x", "y"})},
              {"seed", 5},
              {"logit_bias", {{"5", 2.5}}},
              {"stream_options", {{"include_usage", true}}}}},
            {"/v1/chat/completions",
             {{"messages",
               json::array({{{"role", "system"}, {"content", "Be brief."}},
                            {{"role", "user"},
                             {"content", json::array({{{"type", "text"}, {"text", "Hi"}}})}}})},
              {"max_tokens", 4},
              {"logprobs", true},
              {"top_logprobs", 2},
              {"stream", false}}},
            {"/v1/embeddings",
             {{"input", json::array({"hello", "world"})}, {"encoding_format", "base64"}}},
            {"/tokenize", {{"prompt", "hello"}, {"add_special_tokens", false}}},
            {"/detokenize", {{"tokens", json::array({1, 2, 3})}}},
        };
        const std::vector<json> odd_values = {nullptr,
                                              true,
                                              -1,
                                              0,
                                              1e308,
                                              -1e308,
                                              18446744073709551615ull,
                                              -9223372036854775807ll,
                                              3.5,
                                              "",
                                              std::string("\xc3\x28", 2),
                                              "x",
                                              json::array(),
                                              json::object(),
                                              json::array({json::array({json::array()})}),
                                              std::string(3000, 'z'),
                                              1e-320};

        std::mt19937 rng(1234);
        auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
        int statuses[6] = {0};
        int transport_failures = 0, server_errors = 0;
        const int kCases = 2500;
        for (int i = 0; i < kCases; ++i) {
            const auto& [path, seed] = seeds[pick(seeds.size())];
            std::string body;
            switch (i % 6) {
                case 0: {  // byte flips
                    body = seed.dump();
                    for (int k = 0, n = 1 + int(pick(4)); k < n; ++k)
                        body[pick(body.size())] = static_cast<char>(rng() & 0xff);
                    break;
                }
                case 1:  // truncation
                    body = seed.dump();
                    body.resize(pick(body.size()));
                    break;
                case 2: {  // a field replaced with an odd value
                    json j = seed;
                    auto it = j.begin();
                    std::advance(it, pick(j.size()));
                    *it = odd_values[pick(odd_values.size())];
                    body = j.dump(-1, ' ', false, json::error_handler_t::replace);
                    if (pick(3) == 0)  // invalid UTF-8 smuggled into the raw bytes
                        body.insert(body.find(':') + 2, std::string("\xff\xfe\xc0", 3));
                    break;
                }
                case 3: {  // deep nesting
                    const size_t depth = 10 + pick(100000);
                    body = std::string(depth, '[') + std::string(depth, ']');
                    if (pick(2)) body = "{\"prompt\":" + body + "}";
                    break;
                }
                case 4: {  // huge numbers and big ints in numeric fields
                    json j = seed;
                    for (const char* k : {"max_tokens", "n", "seed", "logprobs", "top_logprobs",
                                          "temperature", "top_p", "top_k"})
                        if (pick(3) == 0) j[k] = odd_values[pick(odd_values.size())];
                    body = j.dump(-1, ' ', false, json::error_handler_t::replace);
                    if (pick(4) == 0) body.replace(body.find('{'), 1, "{\"max_tokens\":1e999999,");
                    break;
                }
                default: {  // random bytes
                    body.resize(pick(200));
                    for (char& ch : body) ch = static_cast<char>(rng() & 0xff);
                    break;
                }
            }
            auto res = client->Post(path.c_str(), body, "application/json");
            if (!res) {
                ++transport_failures;
                client = folio::test::client_for(srv.port(), 30);
                client->set_keep_alive(true);
                continue;
            }
            statuses[std::min(res->status / 100, 5)]++;
            if (res->status >= 500) {
                ++server_errors;
                qWarning("500 for %s: %s", path.c_str(), res->body.c_str());
            }
            if (res->status >= 400) {
                auto j = json::parse(res->body, nullptr, false);
                QVERIFY2(!j.is_discarded() && j["error"]["message"].is_string(), res->body.c_str());
            }
        }
        qInfo("hostile: %d 2xx, %d 4xx, %d 5xx, %d transport failures", statuses[2], statuses[4],
              statuses[5], transport_failures);
        QCOMPARE(server_errors, 0);
        QCOMPARE(transport_failures, 0);
        QVERIFY(statuses[4] > kCases / 2);
        QVERIFY(statuses[2] > 0);

        // Still serving, with the same greedy answer as before.
        auto after = folio::test::post_json(*client, "/v1/completions", good);
        QCOMPARE(after.status, 200);
        QCOMPARE(after.body["choices"][0]["text"], reference.body["choices"][0]["text"]);
        QTRY_COMPARE_WITH_TIMEOUT(m_stories->stats().kv_blocks_used, int64_t{0}, 5000);
    }
};

QTEST_GUILESS_MAIN(TestServerSecurity)
#include "test_server_security.moc"
