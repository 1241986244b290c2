// The OpenAI-compatible endpoints of folio::server::Server over real engines on the tiny shared
// models: response shapes, streaming vs whole responses, sampling options, embeddings,
// tokenize/detokenize, health, metrics and request validation.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <set>

#include "server/openai_protocol.h"
#include "server_test_util.h"

using folio::test::json;

class TestServerApi : public QObject {
    Q_OBJECT

    std::shared_ptr<folio::Engine> m_stories;  // stories260K: completions (no chat template)
    std::shared_ptr<folio::Engine> m_qwen;     // tiny-qwen2: chat (ChatML template)
    std::unique_ptr<folio::test::TestServer> m_server;
    std::unique_ptr<httplib::Client> m_client;

    json completion(const std::string& prompt, int max_tokens) {
        return {{"model", "stories"},
                {"prompt", prompt},
                {"max_tokens", max_tokens},
                {"temperature", 0}};
    }
    json chat(const json& messages, int max_tokens) {
        return {{"model", "qwen"},
                {"messages", messages},
                {"max_tokens", max_tokens},
                {"temperature", 0}};
    }
    folio::test::JsonResponse post(const std::string& path, const json& body) {
        return folio::test::post_json(*m_client, path, body);
    }
    void expect_error(const folio::test::JsonResponse& r, int status, const std::string& param) {
        QVERIFY2(r.status == status, (std::to_string(r.status) + ": " + r.raw).c_str());
        QVERIFY2(r.body.contains("error"), r.raw.c_str());
        const json& e = r.body["error"];
        QVERIFY(e["message"].is_string() && !e["message"].get<std::string>().empty());
        QVERIFY(e["type"].is_string());
        QVERIFY(e.contains("code"));
        if (!param.empty()) {
            QVERIFY2(e["param"] == param, r.raw.c_str());
            QVERIFY2(e["message"].get<std::string>().find(param) != std::string::npos,
                     r.raw.c_str());
        }
    }

  private slots:
    void initTestCase() {
        m_stories = folio::test::make_engine("stories260K.gguf");
        m_qwen = folio::test::make_engine("tiny-qwen2-Q8_0.gguf");
        folio::server::ServerConfig config;
        config.max_tokens_limit = 64;
        config.max_body_bytes = 64 * 1024;
        m_server = std::make_unique<folio::test::TestServer>(config);
        m_client = folio::test::client_for(m_server->port());

        // Loading: /health is 503 until set_ready(), and no model answers yet.
        auto health = folio::test::get_json(*m_client, "/health");
        QCOMPARE(health.status, 503);
        QCOMPARE(health.body["status"], "loading");
        // A request for a model that is still loading is a 503 (clients retry), not a 404.
        auto early = folio::test::post_json(*m_client, "/v1/completions",
                                            {{"model", "stories"}, {"prompt", "hi"}});
        QCOMPARE(early.status, 503);
        QCOMPARE(early.body["error"]["code"], "model_not_loaded");
        QVERIFY(early.body["error"]["message"].get<std::string>().find("still loading") !=
                std::string::npos);
        QCOMPARE(folio::test::get_json(*m_client, "/v1/models/stories").status, 503);
        m_server->server->add_model("stories", m_stories);
        m_server->server->add_model("qwen", m_qwen);
        m_server->server->set_ready();
        health = folio::test::get_json(*m_client, "/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.body["status"], "ok");
    }

    void models_list() {
        auto r = folio::test::get_json(*m_client, "/v1/models");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body["object"], "list");
        QCOMPARE(r.body["data"].size(), size_t{2});
        QCOMPARE(r.body["data"][0]["id"], "stories");
        QCOMPARE(r.body["data"][1]["id"], "qwen");
        for (const auto& m : r.body["data"]) {
            QCOMPARE(m["object"], "model");
            QVERIFY(m["created"].is_number_integer());
            QVERIFY(m["owned_by"].is_string());
        }
        auto one = folio::test::get_json(*m_client, "/v1/models/qwen");
        QCOMPARE(one.status, 200);
        QCOMPARE(one.body["id"], "qwen");
        expect_error(folio::test::get_json(*m_client, "/v1/models/nope"), 404, "model");
    }

    void completion_whole_shape() {
        const int64_t before = QDateTime::currentSecsSinceEpoch();
        auto r = post("/v1/completions", completion("Once upon a time", 8));
        QCOMPARE(r.status, 200);
        QVERIFY(r.body["id"].get<std::string>().rfind("cmpl-", 0) == 0);
        QCOMPARE(r.body["object"], "text_completion");
        QCOMPARE(r.body["model"], "stories");
        QVERIFY(r.body["created"].get<int64_t>() >= before - 1);
        QCOMPARE(r.body["choices"].size(), size_t{1});
        const json& c = r.body["choices"][0];
        QCOMPARE(c["index"], 0);
        QVERIFY(!c["text"].get<std::string>().empty());
        QVERIFY(c["logprobs"].is_null());
        QCOMPARE(c["finish_reason"], "length");
        auto tok = post("/tokenize", {{"model", "stories"}, {"prompt", "Once upon a time"}});
        QCOMPARE(r.body["usage"]["prompt_tokens"], tok.body["count"]);
        QCOMPARE(r.body["usage"]["completion_tokens"], 8);
        QCOMPARE(r.body["usage"]["total_tokens"], tok.body["count"].get<int>() + 8);
        QVERIFY(r.body["usage"]["prompt_tokens_details"]["cached_tokens"].is_number_integer());
        // No model: the first one answers.
        json no_model = completion("Once upon a time", 8);
        no_model.erase("model");
        auto d = post("/v1/completions", no_model);
        QCOMPARE(d.status, 200);
        QCOMPARE(d.body["choices"][0]["text"], c["text"]);
    }

    void completion_stream_equals_whole() {
        json body = completion("The little dog", 12);
        auto whole = post("/v1/completions", body);
        QCOMPARE(whole.status, 200);
        body["stream_options"] = {{"include_usage", true}};
        std::string content_type;
        auto sse = folio::test::post_sse(*m_client, "/v1/completions", body, &content_type);
        QVERIFY(content_type.rfind("text/event-stream", 0) == 0);
        QVERIFY(sse.done);
        QVERIFY(sse.well_formed);
        QVERIFY(sse.events.size() >= 3);
        QCOMPARE(folio::test::streamed_text(sse),
                 whole.body["choices"][0]["text"].get<std::string>());
        const json& last = sse.events.back();
        QCOMPARE(last["choices"].size(), size_t{0});
        QCOMPARE(last["usage"], whole.body["usage"]);
        std::string finish;
        for (size_t i = 0; i + 1 < sse.events.size(); ++i) {
            const json& e = sse.events[i];
            QCOMPARE(e["object"], "text_completion");
            QCOMPARE(e["id"], sse.events[0]["id"]);
            QVERIFY(e["usage"].is_null());
            if (!e["choices"][0]["finish_reason"].is_null())
                finish = e["choices"][0]["finish_reason"];
        }
        QCOMPARE(finish, "length");
        // Without include_usage no chunk carries usage.
        body.erase("stream_options");
        auto plain = folio::test::post_sse(*m_client, "/v1/completions", body);
        for (const auto& e : plain.events) QVERIFY(!e.contains("usage"));
        QCOMPARE(folio::test::streamed_text(plain), folio::test::streamed_text(sse));
    }

    void chat_stream_equals_whole() {
        json messages = json::array({{{"role", "system"}, {"content", "You are terse."}},
                                     {{"role", "user"}, {"content", "Hello there"}}});
        auto whole = post("/v1/chat/completions", chat(messages, 10));
        QCOMPARE(whole.status, 200);
        QVERIFY(whole.body["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
        QCOMPARE(whole.body["object"], "chat.completion");
        const json& choice = whole.body["choices"][0];
        QCOMPARE(choice["message"]["role"], "assistant");
        QVERIFY(choice["message"]["content"].is_string());
        QVERIFY(choice["finish_reason"] == "length" || choice["finish_reason"] == "stop");
        auto tok = post("/tokenize", {{"model", "qwen"}, {"messages", messages}});
        QCOMPARE(tok.status, 200);
        QCOMPARE(whole.body["usage"]["prompt_tokens"], tok.body["count"]);

        auto sse = folio::test::post_sse(*m_client, "/v1/chat/completions", chat(messages, 10));
        QVERIFY(sse.done && sse.well_formed);
        QCOMPARE(sse.events.front()["choices"][0]["delta"]["role"], "assistant");
        QCOMPARE(sse.events.back()["choices"][0]["finish_reason"], choice["finish_reason"]);
        for (const auto& e : sse.events) QCOMPARE(e["object"], "chat.completion.chunk");
        QCOMPARE(folio::test::streamed_text(sse), choice["message"]["content"].get<std::string>());

        // Text parts are joined: the same prompt, the same greedy answer.
        json parts = messages;
        parts[1]["content"] = json::array(
            {{{"type", "text"}, {"text", "Hello "}}, {{"type", "text"}, {"text", "there"}}});
        auto joined = post("/v1/chat/completions", chat(parts, 10));
        QCOMPARE(joined.status, 200);
        QCOMPARE(joined.body["choices"][0]["message"]["content"], choice["message"]["content"]);
        parts[1]["content"][1] = {{"type", "image_url"}, {"image_url", {{"url", "x"}}}};
        expect_error(post("/v1/chat/completions", chat(parts, 10)), 400,
                     "messages[1].content[1].type");
    }

    void chat_template_bos_once() {
        // phi-3's template starts with "<s>" and its vocabulary adds BOS: exactly one BOS.
        auto phi = folio::test::make_engine("tiny-phi3-Q8_0.gguf");
        m_server->server->add_model("phi", phi);
        json messages = json::array({{{"role", "user"}, {"content", "Hi"}}});
        auto tok = post("/tokenize", {{"model", "phi"}, {"messages", messages}});
        QCOMPARE(tok.status, 200);
        const auto& tokens = tok.body["tokens"];
        QVERIFY(tokens.size() > 2);
        const int bos = 1;  // phi-3 SPM vocabulary
        QCOMPARE(tokens[0].get<int>(), bos);
        QVERIFY(tokens[1].get<int>() != bos);
        auto text = post("/detokenize", {{"model", "phi"}, {"tokens", tokens}});
        QVERIFY2(text.body["prompt"].get<std::string>().find("Hi") != std::string::npos,
                 text.raw.c_str());
    }

    void n_and_prompt_arrays() {
        json body = {{"model", "stories"},
                     {"prompt", json::array({"Once upon a time", "The cat"})},
                     {"n", 2},
                     {"max_tokens", 6},
                     {"temperature", 0.9},
                     {"seed", 3}};
        auto r = post("/v1/completions", body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body["choices"].size(), size_t{4});
        std::set<int> indices;
        for (const auto& c : r.body["choices"]) indices.insert(c["index"].get<int>());
        QCOMPARE(indices, (std::set<int>{0, 1, 2, 3}));
        auto a = post("/tokenize", {{"model", "stories"}, {"prompt", "Once upon a time"}});
        auto b = post("/tokenize", {{"model", "stories"}, {"prompt", "The cat"}});
        QCOMPARE(r.body["usage"]["prompt_tokens"].get<int>(),
                 a.body["count"].get<int>() + b.body["count"].get<int>());
        QCOMPARE(r.body["usage"]["completion_tokens"], 24);

        // Token-id prompts give what the same text gives; [[ids], [ids]] is two prompts.
        json by_ids = completion("", 6);
        by_ids["prompt"] = a.body["tokens"];
        auto ids = post("/v1/completions", by_ids);
        QCOMPARE(ids.status, 200);
        QCOMPARE(
            ids.body["choices"][0]["text"],
            post("/v1/completions", completion("Once upon a time", 6)).body["choices"][0]["text"]);
        by_ids["prompt"] = json::array({a.body["tokens"], b.body["tokens"]});
        auto two = post("/v1/completions", by_ids);
        QCOMPARE(two.status, 200);
        QCOMPARE(two.body["choices"].size(), size_t{2});
        QCOMPARE(two.body["choices"][0]["text"], ids.body["choices"][0]["text"]);

        // Streaming with n=2 and two prompts: every index streams and finishes.
        body["stream"] = true;
        auto sse = folio::test::post_sse(*m_client, "/v1/completions", body);
        QVERIFY(sse.done);
        std::set<int> finished;
        for (const auto& e : sse.events)
            for (const auto& c : e["choices"])
                if (!c["finish_reason"].is_null()) finished.insert(c["index"].get<int>());
        QCOMPARE(finished, (std::set<int>{0, 1, 2, 3}));
    }

    void stop_strings() {
        auto r = post("/v1/completions", completion("Once upon a time", 24));
        const std::string text = r.body["choices"][0]["text"];
        QVERIFY(text.size() > 12);
        const std::string stop = text.substr(8, 3);
        const std::string expected = text.substr(0, text.find(stop));
        json body = completion("Once upon a time", 24);
        body["stop"] = stop;
        auto s = post("/v1/completions", body);
        QCOMPARE(s.status, 200);
        QCOMPARE(s.body["choices"][0]["text"].get<std::string>(), expected);
        QCOMPARE(s.body["choices"][0]["finish_reason"], "stop");
        body["stop"] = json::array({"zzzz-never", stop});
        auto a = post("/v1/completions", body);
        QCOMPARE(a.body["choices"][0]["text"].get<std::string>(), expected);
        body["stream"] = true;
        auto sse = folio::test::post_sse(*m_client, "/v1/completions", body);
        QCOMPARE(folio::test::streamed_text(sse), expected);
        body["stop"] = json::array({""});
        body.erase("stream");
        expect_error(post("/v1/completions", body), 400, "stop");
    }

    void seed_reproducible() {
        json body = completion("Once upon a time", 16);
        body["temperature"] = 1.0;
        std::set<std::string> texts;
        for (int seed : {42, 7, 1234}) {
            body["seed"] = seed;
            auto a = post("/v1/completions", body);
            auto b = post("/v1/completions", body);
            QCOMPARE(a.status, 200);
            QCOMPARE(a.body["choices"][0]["text"], b.body["choices"][0]["text"]);
            texts.insert(a.body["choices"][0]["text"].get<std::string>());
        }
        QVERIFY(texts.size() >= 2);
    }

    void logprobs_shapes() {
        json body = completion("Once upon a time", 5);
        body["logprobs"] = 3;
        auto r = post("/v1/completions", body);
        QCOMPARE(r.status, 200);
        const json& lp = r.body["choices"][0]["logprobs"];
        QCOMPARE(lp["tokens"].size(), size_t{5});
        QCOMPARE(lp["token_logprobs"].size(), size_t{5});
        QCOMPARE(lp["top_logprobs"].size(), size_t{5});
        QCOMPARE(lp["text_offset"].size(), size_t{5});
        QCOMPARE(lp["text_offset"][0], 0);
        for (size_t i = 0; i < 5; ++i) {
            const double chosen = lp["token_logprobs"][i];
            QVERIFY(chosen <= 0.0);
            QVERIFY(lp["top_logprobs"][i].is_object());
            QVERIFY(lp["top_logprobs"][i].size() >= 1 && lp["top_logprobs"][i].size() <= 3);
            double best = -1e30;
            for (const auto& [tok, v] : lp["top_logprobs"][i].items())
                best = std::max(best, v.get<double>());
            QVERIFY(std::abs(best - chosen) < 1e-4);  // greedy picks the most likely token
            if (i > 0) QVERIFY(lp["text_offset"][i] >= lp["text_offset"][i - 1]);
        }
        body["logprobs"] = true;
        expect_error(post("/v1/completions", body), 400, "logprobs");
        body["logprobs"] = 99;
        expect_error(post("/v1/completions", body), 400, "logprobs");

        json c = chat(json::array({{{"role", "user"}, {"content", "Hi"}}}), 4);
        c["logprobs"] = true;
        c["top_logprobs"] = 2;
        auto cr = post("/v1/chat/completions", c);
        QCOMPARE(cr.status, 200);
        const json& content = cr.body["choices"][0]["logprobs"]["content"];
        QVERIFY(content.is_array() && !content.empty() && content.size() <= 4);
        for (const auto& t : content) {
            QVERIFY(t["token"].is_string());
            QVERIFY(t["logprob"].get<double>() <= 0.0);
            QVERIFY(t["bytes"].is_array());
            QCOMPARE(t["top_logprobs"].size(), size_t{2});
            QVERIFY(t["top_logprobs"][0]["token"].is_string());
            QVERIFY(t["top_logprobs"][0]["bytes"].is_array());
        }
        c["stream"] = true;
        auto sse = folio::test::post_sse(*m_client, "/v1/chat/completions", c);
        size_t streamed = 0;
        for (const auto& e : sse.events)
            for (const auto& ch : e["choices"])
                if (ch["logprobs"].is_object()) streamed += ch["logprobs"]["content"].size();
        QCOMPARE(streamed, content.size());
        c.erase("stream");
        c["logprobs"] = false;
        expect_error(post("/v1/chat/completions", c), 400, "top_logprobs");
    }

    void embeddings() {
        json body = {{"model", "stories"},
                     {"input", json::array({"a happy cat", "a happy cat", "rain"})}};
        auto r = post("/v1/embeddings", body);
        QVERIFY2(r.status == 200, r.raw.c_str());
        QCOMPARE(r.body["object"], "list");
        QCOMPARE(r.body["model"], "stories");
        QCOMPARE(r.body["data"].size(), size_t{3});
        std::vector<std::vector<float>> vecs;
        for (size_t i = 0; i < 3; ++i) {
            const json& d = r.body["data"][i];
            QCOMPARE(d["object"], "embedding");
            QCOMPARE(d["index"].get<size_t>(), i);
            vecs.push_back(d["embedding"].get<std::vector<float>>());
            double norm = 0;
            for (float v : vecs.back()) norm += double(v) * v;
            QVERIFY(std::abs(std::sqrt(norm) - 1.0) < 1e-3);
        }
        QCOMPARE(vecs[0].size(), size_t{64});  // stories260K: n_embd 64
        QCOMPARE(vecs[0], vecs[1]);
        QVERIFY(vecs[0] != vecs[2]);
        QVERIFY(r.body["usage"]["prompt_tokens"].get<int>() > 0);
        QCOMPARE(r.body["usage"]["total_tokens"], r.body["usage"]["prompt_tokens"]);

        body["input"] = "a happy cat";
        body["encoding_format"] = "base64";
        auto b = post("/v1/embeddings", body);
        QCOMPARE(b.status, 200);
        auto bytes =
            folio::server::base64_decode(b.body["data"][0]["embedding"].get<std::string>());
        QCOMPARE(bytes.size(), vecs[0].size() * 4);
        std::vector<float> decoded(vecs[0].size());
        for (size_t i = 0; i < decoded.size(); ++i) {
            uint32_t u = uint32_t(bytes[4 * i]) | uint32_t(bytes[4 * i + 1]) << 8 |
                         uint32_t(bytes[4 * i + 2]) << 16 | uint32_t(bytes[4 * i + 3]) << 24;
            std::memcpy(&decoded[i], &u, 4);
        }
        QCOMPARE(decoded, vecs[0]);

        auto tok = post("/tokenize", {{"model", "stories"}, {"prompt", "a happy cat"}});
        body["input"] = tok.body["tokens"];
        body["encoding_format"] = "float";
        auto t = post("/v1/embeddings", body);
        QCOMPARE(t.status, 200);
        QCOMPARE(t.body["data"][0]["embedding"].get<std::vector<float>>(), vecs[0]);
        body["encoding_format"] = "hex";
        expect_error(post("/v1/embeddings", body), 400, "encoding_format");
        body.erase("encoding_format");
        body["input"] = json::array();
        expect_error(post("/v1/embeddings", body), 400, "input");
    }

    void tokenize_detokenize_roundtrip() {
        const std::string text = "Lily saw a big red ball.";
        auto t = post("/tokenize",
                      {{"model", "stories"}, {"prompt", text}, {"add_special_tokens", false}});
        QCOMPARE(t.status, 200);
        QCOMPARE(t.body["count"].get<size_t>(), t.body["tokens"].size());
        QCOMPARE(t.body["max_model_len"].get<int64_t>(), m_stories->info().max_model_len);
        auto d = post("/detokenize", {{"model", "stories"}, {"tokens", t.body["tokens"]}});
        QCOMPARE(d.status, 200);
        QCOMPARE(d.body["prompt"].get<std::string>(), text);
        auto with_bos = post("/tokenize", {{"model", "stories"}, {"prompt", text}});
        QCOMPARE(with_bos.body["count"].get<size_t>(), t.body["tokens"].size() + 1);
        expect_error(post("/detokenize", {{"model", "stories"}, {"tokens", {1, 99999}}}), 400,
                     "tokens[1]");
        expect_error(post("/tokenize", {{"model", "stories"}, {"prompt", 5}}), 400, "prompt");
    }

    void unknown_model_404() {
        json body = completion("Hi", 2);
        body["model"] = "gpt-17";
        auto r = post("/v1/completions", body);
        expect_error(r, 404, "model");
        QCOMPARE(r.body["error"]["code"], "model_not_found");
        QCOMPARE(r.body["error"]["type"], "invalid_request_error");
        auto e = post("/v1/embeddings", {{"model", "nope"}, {"input", "x"}});
        QCOMPARE(e.status, 404);
        auto u = post("/v1/nothing", json::object());
        QCOMPARE(u.status, 404);
        QVERIFY(u.body["error"]["message"].is_string());
    }

    void limits_and_validation() {
        // Body over max_body_bytes: 413 in OpenAI's shape.
        json big = completion(std::string(70 * 1024, 'a'), 2);
        auto r = post("/v1/completions", big);
        QCOMPARE(r.status, 413);
        QVERIFY(r.body["error"]["message"].is_string());
        json body = completion("Hi", 65);
        expect_error(post("/v1/completions", body), 400, "max_tokens");
        body.erase("max_tokens");
        body["max_completion_tokens"] = 1000;
        expect_error(post("/v1/completions", body), 400, "max_completion_tokens");
        // Prompts longer than the context.
        std::string long_prompt;
        for (int64_t i = 0; i < m_stories->info().max_model_len; ++i) long_prompt += " cat";
        auto lp = post("/v1/completions", completion(long_prompt, 4));
        expect_error(lp, 400, "prompt");
        QVERIFY(lp.body["error"]["message"].get<std::string>().find("context") !=
                std::string::npos);
        std::string huge_chat;
        for (int64_t i = 0; i < m_qwen->info().max_model_len; ++i) huge_chat += " hello";
        expect_error(post("/v1/chat/completions",
                          chat(json::array({{{"role", "user"}, {"content", huge_chat}}}), 4)),
                     400, "messages");
        // Wrong types and out-of-range values name the field.
        body = completion("Hi", 4);
        body["temperature"] = "hot";
        expect_error(post("/v1/completions", body), 400, "temperature");
        body["temperature"] = 7;
        expect_error(post("/v1/completions", body), 400, "temperature");
        body["temperature"] = 0;
        body["n"] = 0;
        expect_error(post("/v1/completions", body), 400, "n");
        body["n"] = 1;
        body["top_p"] = 1e300;
        expect_error(post("/v1/completions", body), 400, "top_p");
        body.erase("top_p");
        body["logit_bias"] = {{"99999", 5}};
        expect_error(post("/v1/completions", body), 400, "logit_bias");
        body["logit_bias"] = {{"abc", 5}};
        expect_error(post("/v1/completions", body), 400, "logit_bias");
        body.erase("logit_bias");
        body["prompt"] = json::array({1, 2, 1000000});
        expect_error(post("/v1/completions", body), 400, "prompt[2]");
        body["prompt"] = json::object();
        expect_error(post("/v1/completions", body), 400, "prompt");
        expect_error(post("/v1/chat/completions", {{"model", "qwen"}, {"messages", "hi"}}), 400,
                     "messages");
        expect_error(
            post("/v1/chat/completions",
                 {{"model", "qwen"}, {"messages", {{{"role", "wizard"}, {"content", "x"}}}}}),
            400, "messages[0].role");
        // Malformed JSON and invalid UTF-8.
        for (const std::string& raw :
             {std::string("{\"prompt\": "), std::string("[1,2]"),
              std::string("{\"prompt\": \"a\xff\xfe b\", \"max_tokens\": 2}"),
              std::string("{\"prompt\": \"\\ud800\"}")}) {
            auto res = m_client->Post("/v1/completions", raw, "application/json");
            QVERIFY(res);
            QCOMPARE(res->status, 400);
            auto j = json::parse(res->body, nullptr, false);
            QVERIFY(j["error"]["message"].is_string());
        }
        // logit_bias does what it says: a banned greedy token is never produced.
        auto plain = post("/v1/completions", {{"model", "stories"},
                                              {"prompt", "Once upon a time"},
                                              {"max_tokens", 1},
                                              {"temperature", 0},
                                              {"logprobs", 0}});
        const std::string first = plain.body["choices"][0]["logprobs"]["tokens"][0];
        auto ids = post("/tokenize",
                        {{"model", "stories"}, {"prompt", first}, {"add_special_tokens", false}});
        QVERIFY(!ids.body["tokens"].empty());
        json banned = {
            {"model", "stories"},
            {"prompt", "Once upon a time"},
            {"max_tokens", 1},
            {"temperature", 0},
            {"logprobs", 0},
            {"logit_bias", {{std::to_string(ids.body["tokens"].back().get<int>()), -100}}}};
        auto b = post("/v1/completions", banned);
        QCOMPARE(b.status, 200);
        QVERIFY(b.body["choices"][0]["logprobs"]["tokens"][0] != first);
        // The server still answers correctly afterwards.
        QCOMPARE(post("/v1/completions", completion("Once upon a time", 8)).status, 200);
    }

    void metrics_after_traffic() {
        // A prompt of several full KV blocks, twice: the second finds them in the prefix cache.
        std::string story;
        for (int i = 0; i < 12; ++i) story += "The dog ran to the park. ";
        for (int i = 0; i < 2; ++i)
            QCOMPARE(post("/v1/completions", completion(story, 1)).status, 200);
        auto res = m_client->Get("/metrics");
        QVERIFY(res);
        QCOMPARE(res->status, 200);
        QVERIFY(res->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
        const std::string& m = res->body;
        auto value = [&](const std::string& series) -> double {
            size_t p = m.find("\n" + series + " ");
            if (p == std::string::npos) return -1;
            return std::stod(m.substr(p + series.size() + 2));
        };
        QVERIFY(value(R"(folio_http_requests_total{path="/v1/completions",status="200"})") >= 5);
        QVERIFY(value(R"(folio_http_requests_total{path="/v1/completions",status="400"})") >= 1);
        QVERIFY(value(R"(folio_prompt_tokens_total{model="stories"})") > 0);
        QVERIFY(value(R"(folio_generation_tokens_total{model="stories"})") > 0);
        QVERIFY(value(R"(folio_time_to_first_token_seconds_count{model="stories"})") >= 5);
        QVERIFY(value(R"(folio_time_to_first_token_seconds_bucket{model="stories",le="+Inf"})") >=
                5);
        QVERIFY(value(R"(folio_time_per_output_token_seconds_count{model="qwen"})") >= 1);
        QCOMPARE(value(R"(folio_kv_blocks_total{model="stories"})"),
                 double(m_stories->stats().kv_blocks_total));
        QVERIFY(value(R"(folio_kv_blocks_used{model="stories"})") >= 0);
        QVERIFY(value(R"(folio_num_requests_running{model="qwen"})") >= 0);
        QVERIFY(value(R"(folio_num_requests_waiting{model="qwen"})") >= 0);
        QVERIFY(value(R"(folio_prefix_cache_queries_total{model="stories"})") > 0);
        QVERIFY(value(R"(folio_prefix_cache_hits_total{model="stories"})") >
                0);  // repeated prompts
        QVERIFY(m.find("# TYPE folio_http_requests_total counter") != std::string::npos);
        QVERIFY(m.find("# TYPE folio_time_to_first_token_seconds histogram") != std::string::npos);

        bool logged = false;
        for (const auto& line : m_server->logs())
            if (line.find("POST /v1/completions 200 model=stories") != std::string::npos &&
                line.find("latency_ms=") != std::string::npos)
                logged = true;
        QVERIFY(logged);
    }

    void cleanupTestCase() {
        m_client.reset();
        m_server.reset();
    }
};

QTEST_GUILESS_MAIN(TestServerApi)
#include "test_server_api.moc"
