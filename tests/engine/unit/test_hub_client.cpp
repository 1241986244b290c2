// Hub client against the fake hub on 127.0.0.1: JSON shapes, sizes and sha256, split models,
// quant names, redirects, tokens, offline mode, remote GGUF headers and the memory estimate.
#include <QTest>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fake_hub.h"
#include "folio/hub.h"
#include "gguf/gguf_file.h"
#include "hub/http_transfer.h"
#include "hub/remote_gguf.h"
#include "shared_data.h"

using namespace folio::hub;
using folio::test::FakeHub;

namespace {

HubConfig config_for(const FakeHub& hub, const std::string& token = "") {
    HubConfig c;
    c.endpoint = hub.endpoint();
    c.token = token;
    c.connect_timeout_s = 5;
    c.low_speed_timeout_s = 5;
    return c;
}

template <class F>
HubError expect_hub_error(F&& f) {
    try {
        f();
    } catch (const HubError& e) {
        return e;
    }
    QTest::qFail("expected a HubError", __FILE__, __LINE__);
    return HubError(HubError::Kind::BadResponse, 0, "none");
}

std::string local_bytes(const std::string& model, int64_t offset, int64_t length) {
    const std::string all = folio::test::read_file(folio::test::shared_path("models/" + model));
    return all.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

}  // namespace

class TestHubClient : public QObject {
    Q_OBJECT

  private slots:
    void search_parses_the_list_shape() {
        FakeHub hub;
        hub.add_repo("acme/Llama-GGUF", {120, 7, "2024-06-01T00:00:00.000Z", {"gguf"}});
        hub.add_repo("other/llama-small-GGUF", {900, 3, "2024-01-02T00:00:00.000Z", {"gguf"}});
        hub.add_repo("acme/unrelated", {5000, 1, "", {}});
        HubClient client(config_for(hub));
        const auto hits = client.search("llama", 10);
        QCOMPARE(hits.size(), size_t{2});
        QCOMPARE(hits[0].id, std::string("other/llama-small-GGUF"));  // most downloaded first
        QCOMPARE(hits[0].downloads, int64_t{900});
        QCOMPARE(hits[1].likes, int64_t{7});
        QCOMPARE(hits[1].last_modified, std::string("2024-06-01T00:00:00.000Z"));
        const std::string target = hub.last_target("/api/models");
        QVERIFY2(target.find("filter=gguf") != std::string::npos, target.c_str());
        QVERIFY(target.find("sort=downloads") != std::string::npos);
        QVERIFY(target.find("limit=10") != std::string::npos);
        QCOMPARE(client.search("llama", 1).size(), size_t{1});
    }

    void tree_gives_sizes_and_sha256_recursively() {
        FakeHub hub;
        hub.add_shared_model("acme/micro", "micro-llama-Q4_K_M.gguf");
        hub.add_shared_model("acme/micro", "micro-llama-Q8_0.gguf", "q8/micro-llama-Q8_0.gguf");
        hub.add_file_bytes("acme/micro", "README.md", "# hello\n", /*lfs=*/false);
        HubClient client(config_for(hub));
        const auto files = client.list_files("acme/micro");
        QCOMPARE(files.size(), size_t{3});
        QCOMPARE(files[0].path, std::string("README.md"));
        QCOMPARE(files[0].size, int64_t{8});
        QVERIFY(files[0].sha256.empty());  // not an LFS file
        QCOMPARE(files[1].path, std::string("micro-llama-Q4_K_M.gguf"));
        QCOMPARE(files[1].size, int64_t{904928});
        QCOMPARE(files[1].sha256, hub.sha256_of("acme/micro", "micro-llama-Q4_K_M.gguf"));
        QCOMPARE(files[1].sha256.size(), size_t{64});
        QCOMPARE(files[2].path, std::string("q8/micro-llama-Q8_0.gguf"));  // from a subfolder
        QCOMPARE(files[2].size, int64_t{1549792});
    }

    void tree_follows_next_links_across_pages() {
        FakeHub hub;
        hub.set_tree_page_size(10);
        for (int i = 0; i < 25; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "dir/f%02d.bin", i);
            hub.add_file_bytes("acme/many", name, std::string(static_cast<size_t>(i + 1), 'x'),
                               /*lfs=*/false);
        }
        HubClient client(config_for(hub));
        const auto files = client.list_files("acme/many");  // 25 files + 1 folder: 3 pages
        QCOMPARE(files.size(), size_t{25});
        QCOMPARE(files.front().path, std::string("dir/f00.bin"));
        QCOMPARE(files.back().path, std::string("dir/f24.bin"));
        QCOMPARE(files.back().size, int64_t{25});
        QCOMPARE(hub.request_count("/api/models/acme/many/tree/main"), 3);
        const std::string last = hub.last_target("/api/models/acme/many/tree/main");
        QVERIFY2(last.find("cursor=20") != std::string::npos, last.c_str());

        // A page size the tree fits in: one request, no Link.
        hub.reset_counters();
        hub.set_tree_page_size(100);
        QCOMPARE(client.list_files("acme/many").size(), size_t{25});
        QCOMPARE(hub.request_count("/api/models/acme/many/tree/main"), 1);
    }

    void link_header_next_target() {
        QCOMPARE(link_next_target(R"(<https://h/api/x?cursor=abc>; rel="next")"),
                 std::string("https://h/api/x?cursor=abc"));
        QCOMPARE(link_next_target(R"(<https://h/p1>; rel="prev", <https://h/p3>; rel="next")"),
                 std::string("https://h/p3"));
        QCOMPARE(link_next_target(R"(</api/x?cursor=b>;rel=next)"), std::string("/api/x?cursor=b"));
        QCOMPARE(link_next_target(R"(<https://h/p1>; rel="prev")"), std::string());
        QCOMPARE(link_next_target(""), std::string());
    }

    void quant_names_from_real_world_file_names() {
        const std::pair<const char*, const char*> cases[] = {
            {"Model-Q4_K_M.gguf", "Q4_K_M"},
            {"model.q4_k_m.gguf", "Q4_K_M"},
            {"Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf", "Q4_K_M"},
            {"Q5_K_S/model-00001-of-00003.gguf", "Q5_K_S"},
            {"Meta-Llama-3.1-8B-Instruct-Q8_0.gguf", "Q8_0"},
            {"qwen2.5-7b-instruct-q3_k_l.gguf", "Q3_K_L"},
            {"Phi-3-mini-4k-instruct-fp16.gguf", "F16"},
            {"gemma-2-9b-it-BF16.gguf", "BF16"},
            {"Mistral-7B-Instruct-v0.3.IQ4_XS.gguf", "IQ4_XS"},
            {"model-IQ2_XXS.gguf", "IQ2_XXS"},
            {"Llama-3.2-1B-Instruct-IQ3_M.gguf", "IQ3_M"},
            {"tinyllama-1.1b-chat-v1.0.Q2_K.gguf", "Q2_K"},
            {"llama-2-7b.Q4_0.gguf", "Q4_0"},
            {"model-q4_k.gguf", "Q4_K_M"},
            {"DeepSeek-R1-UD-Q4_K_XL.gguf", "Q4_K_XL"},
            {"model.i1-Q6_K.gguf", "Q6_K"},
            {"ggml-model-f32.gguf", "F32"},
            {"model-IQ4_NL.gguf", "IQ4_NL"},
            {"stories260K.gguf", ""},
            {"Q8_0-notes.txt", "Q8_0"},
        };
        for (const auto& [name, want] : cases) {
            QCOMPARE(quant_from_filename(name), std::string(want));
        }
        QVERIFY(quant_bits_per_weight("Q8_0") > quant_bits_per_weight("Q6_K"));
        QVERIFY(quant_bits_per_weight("Q4_K_M") > quant_bits_per_weight("Q3_K_M"));
        QVERIFY(quant_bits_per_weight("F16") > quant_bits_per_weight("Q8_0"));
        QCOMPARE(quant_bits_per_weight("nonsense"), 0.0);
        QCOMPARE(gguf_split_part("a/b-00002-of-00003.gguf"), std::make_pair(2, 3));
        QCOMPARE(gguf_split_part("b.gguf"), std::make_pair(0, 0));
    }

    void split_parts_count_as_one_option() {
        const std::vector<RepoFile> files = {
            {"Q4_K_M/Model-Q4_K_M-00002-of-00002.gguf", 300, "b"},
            {"Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf", 700, "a"},
            {"Model-Q8_0.gguf", 2000, "c"},
            {"Model-Q2_K-00001-of-00003.gguf", 100, "d"},  // parts 2 and 3 missing
            {"mmproj-model-f16.gguf", 50, "e"},
            {"README.md", 10, ""},
            {"stories260K.gguf", 40, "f"},
        };
        const auto opts = group_quant_options(files);
        QCOMPARE(opts.size(), size_t{4});
        QCOMPARE(opts[0].quant, std::string("Q8_0"));
        QCOMPARE(opts[1].quant, std::string("Q4_K_M"));
        QCOMPARE(opts[1].files.size(), size_t{2});
        QCOMPARE(opts[1].files[0].path, std::string("Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf"));
        QCOMPARE(opts[1].total_size, int64_t{1000});
        QVERIFY(opts[1].complete);
        QCOMPARE(opts[2].quant, std::string("Q2_K"));
        QVERIFY(!opts[2].complete);
        QCOMPARE(opts[3].quant, std::string("unknown"));

        // Through the hub: registered fake parts are grouped the same way.
        FakeHub hub;
        hub.add_file_bytes("acme/split", "Model-Q4_K_M-00001-of-00002.gguf", std::string(700, 'x'));
        hub.add_file_bytes("acme/split", "Model-Q4_K_M-00002-of-00002.gguf", std::string(300, 'y'));
        HubClient client(config_for(hub));
        const auto remote = group_quant_options(client.list_files("acme/split"));
        QCOMPARE(remote.size(), size_t{1});
        QCOMPARE(remote[0].total_size, int64_t{1000});
        QCOMPARE(remote[0].name, std::string("Model-Q4_K_M"));
    }

    void redirects_are_followed_for_ranges() {
        FakeHub hub;
        hub.add_shared_model("acme/micro", "micro-llama-Q8_0.gguf");
        HubClient client(config_for(hub));
        const std::string got =
            client.read_range("acme/micro", "main", "micro-llama-Q8_0.gguf", 1000, 5000);
        QCOMPARE(got.size(), size_t{5000});
        QVERIFY(got == local_bytes("micro-llama-Q8_0.gguf", 1000, 5000));
        QCOMPARE(hub.request_count("/acme/micro/resolve/main/micro-llama-Q8_0.gguf"), 1);
        QCOMPARE(hub.download_count("acme/micro", "micro-llama-Q8_0.gguf"), 1);
        // Short at the end of the file.
        const std::string tail =
            client.read_range("acme/micro", "main", "micro-llama-Q8_0.gguf", 1549792 - 10, 100);
        QCOMPARE(tail.size(), size_t{10});

        HttpRequest req;
        const HubConfig cfg = config_for(hub);
        req.config = &cfg;
        req.url = client.file_url("acme/micro", "main", "micro-llama-Q8_0.gguf");
        req.range_begin = 0;
        req.range_end = 3;
        std::string body;
        const HttpResponse r = http_get(req, [&](const char* d, size_t n) {
            body.append(d, n);
            return true;
        });
        QCOMPARE(r.status, 206);
        QCOMPARE(body, std::string("GGUF"));
        QVERIFY(r.effective_url.find("/cdn/acme/micro/main/") != std::string::npos);
        QCOMPARE(r.etag, hub.sha256_of("acme/micro", "micro-llama-Q8_0.gguf"));
        QCOMPARE(r.content_range, std::string("bytes 0-3/1549792"));
        QCOMPARE(r.content_length, int64_t{4});
    }

    void token_is_sent_but_not_to_another_host() {
        FakeHub hub;
        hub.add_shared_model("acme/gated", "stories260K.gguf");
        hub.set_gated("acme/gated", "secret");
        hub.set_cdn_host("localhost");
        HubClient client(config_for(hub, "secret"));
        QCOMPARE(client.read_range("acme/gated", "main", "stories260K.gguf", 0, 4),
                 std::string("GGUF"));
        QCOMPARE(hub.last_authorization("/acme/gated/resolve/main/stories260K.gguf"),
                 std::string("Bearer secret"));
        QCOMPARE(hub.download_count("acme/gated", "stories260K.gguf"), 1);
        QCOMPARE(hub.last_authorization("/cdn/acme/gated/main/stories260K.gguf"), std::string());
    }

    void gated_repo_needs_hf_token() {
        FakeHub hub;
        hub.add_shared_model("acme/gated", "stories260K.gguf");
        hub.set_gated("acme/gated", "secret");
        HubClient anonymous(config_for(hub));
        const HubError e = expect_hub_error([&] { anonymous.list_files("acme/gated"); });
        QCOMPARE(e.kind(), HubError::Kind::Unauthorized);
        QCOMPARE(e.http_status(), 401);
        QVERIFY(!e.transient());
        const std::string msg = e.what();
        QVERIFY2(msg.find("repo acme/gated is gated or private") != std::string::npos, e.what());
        QVERIFY2(msg.find("HF_TOKEN") != std::string::npos, e.what());
        const HubError e2 = expect_hub_error(
            [&] { anonymous.read_range("acme/gated", "main", "stories260K.gguf", 0, 4); });
        QCOMPARE(e2.kind(), HubError::Kind::Unauthorized);
        HubClient wrong(config_for(hub, "nope"));
        const HubError e3 = expect_hub_error([&] { wrong.list_files("acme/gated"); });
        QVERIFY2(std::string(e3.what()).find("no access") != std::string::npos, e3.what());
        HubClient with_token(config_for(hub, "secret"));
        QCOMPARE(with_token.list_files("acme/gated").size(), size_t{1});
    }

    void offline_mode_never_touches_the_network() {
        FakeHub hub;
        hub.add_shared_model("acme/micro", "stories260K.gguf");
        HubConfig cfg = config_for(hub);
        cfg.offline = true;
        HubClient client(cfg);
        const HubError e = expect_hub_error([&] { client.search("x", 5); });
        QCOMPARE(e.kind(), HubError::Kind::Offline);
        QVERIFY(std::string(e.what()).find("HF_HUB_OFFLINE") != std::string::npos);
        QCOMPARE(expect_hub_error([&] { client.list_files("acme/micro"); }).kind(),
                 HubError::Kind::Offline);
        QCOMPARE(hub.request_count("/api/models"), 0);
        QCOMPARE(hub.request_count("/api/models/acme/micro/tree/main"), 0);

        qputenv("HF_HUB_OFFLINE", "1");
        qputenv("HF_ENDPOINT", QByteArray::fromStdString(hub.endpoint() + "/"));
        qputenv("HF_TOKEN", "tok");
        const HubConfig env = HubConfig::from_env();
        qunsetenv("HF_HUB_OFFLINE");
        qunsetenv("HF_ENDPOINT");
        qunsetenv("HF_TOKEN");
        QVERIFY(env.offline);
        QCOMPARE(env.endpoint, hub.endpoint());
        QCOMPARE(env.token, std::string("tok"));
    }

    void missing_things_are_clear_404s() {
        FakeHub hub;
        hub.add_shared_model("acme/micro", "stories260K.gguf");
        HubClient client(config_for(hub));
        const HubError e = expect_hub_error([&] { client.list_files("acme/nothing"); });
        QCOMPARE(e.kind(), HubError::Kind::NotFound);
        QVERIFY2(std::string(e.what()).find("acme/nothing") != std::string::npos, e.what());
        const HubError f = expect_hub_error(
            [&] { client.read_range("acme/micro", "main", "missing.gguf", 0, 10); });
        QCOMPARE(f.kind(), HubError::Kind::NotFound);
        QVERIFY2(std::string(f.what()).find("missing.gguf") != std::string::npos, f.what());
        QCOMPARE(expect_hub_error([&] { client.list_files("not-a-repo-id"); }).kind(),
                 HubError::Kind::NotFound);
    }

    void faults_map_to_error_kinds() {
        FakeHub hub;
        hub.add_shared_model("acme/micro", "micro-llama-Q8_0.gguf");
        const HubConfig cfg = config_for(hub);
        HubClient client(cfg);
        HttpRequest req;
        req.config = &cfg;
        req.url = client.file_url("acme/micro", "main", "micro-llama-Q8_0.gguf");
        auto sink = [](const char*, size_t) { return true; };

        FakeHub::Fault drop;
        drop.drop_after_bytes = 100000;
        hub.set_fault("acme/micro", "micro-llama-Q8_0.gguf", drop);
        const HubError cut = expect_hub_error([&] { http_get(req, sink); });
        QCOMPARE(cut.kind(), HubError::Kind::Network);
        QVERIFY(cut.transient());
        QCOMPARE(http_get(req, sink).status, 200);  // the drop happened once

        hub.clear_faults();
        req.range_begin = 2000000;  // past the end
        const HubError range = expect_hub_error([&] { http_get(req, sink); });
        QCOMPARE(range.kind(), HubError::Kind::RangeNotSatisfiable);
        QVERIFY(!range.transient());

        req.range_begin = -1;
        int64_t got = 0;
        const HttpResponse cancelled = http_get(req, [&](const char*, size_t n) {
            got += static_cast<int64_t>(n);
            return false;
        });
        QVERIFY(cancelled.cancelled);
        QVERIFY(got > 0);
        QVERIFY(HubError(HubError::Kind::Network, 503, "x").transient());
        QVERIFY(HubError(HubError::Kind::Network, 429, "x").transient());
        QVERIFY(!HubError(HubError::Kind::NotFound, 404, "x").transient());
    }

    void remote_header_matches_the_local_file() {
        FakeHub hub;
        const char* models[] = {"tiny-qwen2-Q8_0.gguf", "tiny-llama3-Q8_0.gguf",
                                "tiny-phi3-Q8_0.gguf", "stories260K.gguf",
                                "micro-llama-Q4_K_M.gguf"};
        for (const char* m : models) hub.add_shared_model("acme/models", m);
        HubClient client(config_for(hub));
        const auto options = group_quant_options(client.list_files("acme/models"));
        for (const char* m : models) {
            const auto it = std::find_if(options.begin(), options.end(), [&](const QuantOption& o) {
                return o.files[0].path == m;
            });
            QVERIFY(it != options.end());
            const RemoteGgufInfo remote =
                read_remote_gguf_header(client, "acme/models", "main", *it);
            const auto local_file =
                folio::gguf::GgufFile::open(folio::test::shared_path(std::string("models/") + m));
            const RemoteGgufInfo local = summarize_gguf(*local_file);
            QCOMPARE(remote.architecture, local.architecture);
            QCOMPARE(remote.parameter_count, local.parameter_count);
            QCOMPARE(remote.context_length, local.context_length);
            QCOMPARE(remote.n_layer, local.n_layer);
            QCOMPARE(remote.n_head, local.n_head);
            QCOMPARE(remote.n_head_kv, local.n_head_kv);
            QCOMPARE(remote.n_vocab, local.n_vocab);
            QCOMPARE(remote.weight_type, local.weight_type);
            QCOMPARE(remote.file_size, static_cast<int64_t>(std::filesystem::file_size(
                                           folio::test::shared_path(std::string("models/") + m))));
            QVERIFY(remote.parameter_count > 0);
            QVERIFY(!remote.architecture.empty());
            if (std::string(m) == "tiny-qwen2-Q8_0.gguf") {
                QCOMPARE(remote.architecture, std::string("qwen2"));
                QCOMPARE(remote.n_vocab, int64_t{151936});
                QVERIFY(remote.header_bytes > (int64_t{1} << 20));  // grew past the first MiB
                QCOMPARE(remote.weight_type, std::string("Q8_0"));
            }
            if (std::string(m) == "micro-llama-Q4_K_M.gguf") {
                QVERIFY(remote.header_bytes <= (int64_t{1} << 20));  // the file is smaller
                QCOMPARE(remote.n_embd, int64_t{256});
                QCOMPARE(remote.n_ff, int64_t{512});
                QCOMPARE(remote.head_dim, int64_t{64});
            }
        }
    }

    void memory_estimate_matches_a_hand_computation() {
        // micro-llama: dim 256, 2 layers, 4 heads / 2 KV (head_dim 64), ffn 512, 512 tokens.
        RemoteGgufInfo s;
        s.n_layer = 2;
        s.n_head = 4;
        s.n_head_kv = 2;
        s.head_dim = 64;
        s.n_embd = 256;
        s.n_ff = 512;
        s.n_vocab = 512;
        const MemoryEstimate e = estimate_memory(s, 904928, 1024, int64_t{1} << 30);
        QCOMPARE(e.kv_cache_bytes, int64_t{2 * 2 * 1024 * 2 * 64 * 2});  // 1,048,576
        // 4 x 2048 x (4*256 + 2*512 + (4 + 2*2)*64) + 4 x 64 x 512 = 20,971,520 + 131,072
        QCOMPARE(e.runtime_bytes, int64_t{21102592});
        QCOMPARE(e.total_bytes, int64_t{904928 + 1048576 + 21102592});
        QCOMPARE(e.fit, Fit::Fits);
        const std::string text = e.explain();
        QVERIFY2(text.find("2 x 2 x 1024 x 2 x 64 x 2 = 1048576") != std::string::npos,
                 text.c_str());
    }

    void fit_classification_uses_injected_memory() {
        RemoteGgufInfo s;
        s.n_layer = 1;
        s.n_head = 1;
        s.n_head_kv = 1;
        s.head_dim = 1;
        const int64_t total = 1000 + 2 * 1 * 10 * 1 * 1 * 2 + 4 * 2048 * 3;  // weights+kv+runtime
        QCOMPARE(estimate_memory(s, 1000, 10, total).fit, Fit::Tight);
        QCOMPARE(estimate_memory(s, 1000, 10, total * 5 / 4).fit, Fit::Fits);
        QCOMPARE(estimate_memory(s, 1000, 10, total * 5 / 4 - 1).fit, Fit::Tight);
        QCOMPARE(estimate_memory(s, 1000, 10, total - 1).fit, Fit::DoesNotFit);
        QCOMPARE(fit_name(Fit::DoesNotFit), std::string_view("does not fit"));

        const auto meminfo = folio::test::scratch_dir("hub_meminfo") / "meminfo";
        std::ofstream(meminfo) << "MemTotal:       16000000 kB\nMemFree:  100 kB\n"
                                  "MemAvailable:    8000000 kB\n";
        QCOMPARE(available_memory_bytes(meminfo.string()), int64_t{8000000} * 1024);
        qputenv("FOLIO_MEM_AVAILABLE", "12345");
        QCOMPARE(available_memory_bytes(meminfo.string()), int64_t{12345});
        qunsetenv("FOLIO_MEM_AVAILABLE");
        QVERIFY(available_memory_bytes() > 0);

        // The recommendation: the best quality that fits, else the best tight one.
        std::vector<QuantOption> opts(3);
        std::vector<MemoryEstimate> est(3);
        est[0].fit = Fit::DoesNotFit;
        est[1].fit = Fit::Tight;
        est[2].fit = Fit::Fits;
        QCOMPARE(recommend_option(opts, est), 2);
        est[2].fit = Fit::DoesNotFit;
        QCOMPARE(recommend_option(opts, est), 1);
        est[1].fit = Fit::DoesNotFit;
        QCOMPARE(recommend_option(opts, est), -1);
    }
};

QTEST_GUILESS_MAIN(TestHubClient)
#include "test_hub_client.moc"
