// `folio run` and `folio bench` as a user calls them: output contract, errors, exit codes.
#include <QRegularExpression>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>
#include <sstream>

#include "folio_process.h"
#include "shared_data.h"

namespace {

using Result = folio::test::FolioRun;
using folio::test::run_folio;

QString model(const char* name) {
    return QString::fromStdString(folio::test::shared_path(std::string("models/") + name).string());
}

std::string golden_text(const std::string& model_name, const std::string& prompt) {
    std::istringstream in(
        folio::test::read_file(folio::test::shared_path("golden/logits/" + model_name + ".jsonl")));
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);
        if (j["prompt"] == prompt) return j["text"].get<std::string>();
    }
    return {};
}

}  // namespace

class TestCliRun : public QObject {
    Q_OBJECT
  private slots:
    void greedy_story_on_stdout() {
        auto r = run_folio({"run", "-m", model("stories260K.gguf"), "-p", "Once upon a time", "-n",
                            "32", "--temp", "0", "-t", "2"});
        QCOMPARE(r.exit_code, 0);
        const std::string expected = golden_text("stories260K", "Once upon a time");
        QVERIFY(!expected.empty());
        QCOMPARE(r.out.toStdString(), expected + "\n");
        QVERIFY2(r.err.contains("tokens/s"), r.err.constData());
    }

    void same_seed_same_text() {
        QStringList args{
            "run",    "-m", model("stories260K.gguf"), "-p", "The dog", "-n", "24", "--temp", "1.0",
            "--seed", "7"};
        auto a = run_folio(args), b = run_folio(args);
        QCOMPARE(a.exit_code, 0);
        QCOMPARE(a.out, b.out);
        args[args.indexOf("7")] = "8";
        auto c = run_folio(args);
        QVERIFY(a.out != c.out);
    }

    void stop_string_ends_output() {
        auto r = run_folio({"run", "-m", model("stories260K.gguf"), "-p", "Once upon a time", "-n",
                            "32", "--temp", "0", "--stop", "little"});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(!r.out.contains("little"), r.out.constData());
        QVERIFY(r.err.contains("finish: stop"));
    }

    void missing_model_is_one_line_error() {
        auto r = run_folio({"run", "-m", "/nonexistent/model.gguf", "-p", "hi"});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.startsWith("folio: "));
        QVERIFY(r.err.contains("not found"));
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(r.out.isEmpty());
    }

    void not_a_gguf_is_one_line_error() {
        auto path = folio::test::scratch_dir("cli_run") / "garbage.gguf";
        {
            QFile f(QString::fromStdString(path.string()));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("this is not a model file at all");
        }
        auto r = run_folio({"run", "-m", QString::fromStdString(path.string()), "-p", "hi"});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.startsWith("folio: "));
        QCOMPARE(r.err.count('\n'), 1);
    }

    void bad_flag_fails() {
        auto r = run_folio({"run", "-m", model("stories260K.gguf"), "-p", "hi", "--temp", "-3"});
        QVERIFY(r.exit_code != 0);
    }

    void bench_json_is_one_object() {
        auto r = run_folio({"bench", "-m", model("stories260K.gguf"), "-p", "32", "-n", "8", "-t",
                            "2", "-r", "1", "--json"});
        QCOMPARE(r.exit_code, 0);
        auto j = nlohmann::json::parse(r.out.toStdString());
        QVERIFY(j.is_object());
        QVERIFY(j["pp_tok_s"].get<double>() > 0);
        QVERIFY(j["tg_tok_s"].get<double>() > 0);
    }

    void bench_table_names_the_tests_and_the_decode_bandwidth() {
        auto r = run_folio({"bench", "-m", model("stories260K.gguf"), "-p", "16", "-n", "8", "-t",
                            "2", "-r", "1"});
        QCOMPARE(r.exit_code, 0);
        QVERIFY2(r.out.contains("| pp16 ") && r.out.contains("| tg8 "), qPrintable(r.out));
        QVERIFY2(QString::fromUtf8(r.out).contains(
                     QRegularExpression("decode streams the weights at [0-9.]+ GB/s "
                                        "\\([0-9.]+ MiB per token\\)")),
                 qPrintable(r.out));
    }

    void bench_without_model_says_so() {
        auto r = run_folio({"bench", "-p", "32"});
        QVERIFY(r.exit_code != 0);
        QVERIFY2(r.err.contains("-m MODEL is required"), qPrintable(r.err));
    }

    void bench_matmul_type_must_be_a_weight_type() {
        auto r = run_folio({"bench", "--matmul", "--matmul-type", "q9_9"});
        QVERIFY(r.exit_code != 0);
        QVERIFY2(
            r.err.contains("--matmul-type q9_9 is not a weight type") && r.err.contains("q4_K"),
            qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }

    void engine_flags_keep_output() {
        // A tiny KV budget, no prefix caching and 2-token prefill chunks: same story.
        auto r =
            run_folio({"run", "-m", model("stories260K.gguf"), "-p", "Once upon a time", "-n", "32",
                       "--temp", "0", "-t", "2", "--kv-cache-memory", "1M", "--no-prefix-caching",
                       "--max-num-seqs", "2", "--max-num-batched-tokens", "2"});
        QCOMPARE(r.exit_code, 0);
        QCOMPARE(r.out.toStdString(), golden_text("stories260K", "Once upon a time") + "\n");
        auto bad = run_folio(
            {"run", "-m", model("stories260K.gguf"), "-p", "hi", "--kv-cache-memory", "lots"});
        QVERIFY(bad.exit_code != 0);
        QVERIFY(bad.out.isEmpty());
    }

    void bench_parallel_json_is_a_list() {
        auto r = run_folio({"bench", "-m", model("stories260K.gguf"), "--parallel", "1,4", "-p",
                            "16", "-n", "8", "-t", "2", "--json"});
        QCOMPARE(r.exit_code, 0);
        auto j = nlohmann::json::parse(r.out.toStdString());
        QVERIFY(j.is_array());
        QCOMPARE(j.size(), size_t{2});
        QCOMPARE(j[0]["parallel"].get<int>(), 1);
        QCOMPARE(j[1]["parallel"].get<int>(), 4);
        for (const auto& e : j) {
            QVERIFY(e["pp_tok_s"].get<double>() > 0);
            QVERIFY(e["tg_tok_s"].get<double>() > 0);
        }
        // The table form prints the KV memory arithmetic.
        auto t = run_folio({"bench", "-m", model("stories260K.gguf"), "--parallel", "2", "-p", "16",
                            "-n", "4", "-t", "2", "--kv-cache-memory", "4M"});
        QCOMPARE(t.exit_code, 0);
        QVERIFY2(t.out.contains("bytes") || t.out.contains("KiB"), t.out.constData());
        QVERIFY2(t.out.contains("llama.cpp"), t.out.constData());
        QVERIFY2(t.out.contains("fit at once"), t.out.constData());
    }

    // Requests sharing a long prefix compute it once; the rest comes from the prefix cache.
    void bench_shared_prefix_is_computed_once() {
        auto r = run_folio({"bench", "-m", model("stories260K.gguf"), "--parallel", "4",
                            "--shared-prefix", "64", "-p", "8", "-n", "4", "-t", "2", "--json"});
        QCOMPARE(r.exit_code, 0);
        auto e = nlohmann::json::parse(r.out.toStdString()).at(0);
        QCOMPARE(e["prompt_tokens"].get<int64_t>(), int64_t{4 * (64 + 8)});
        const auto computed = e["prompt_tokens_computed"].get<int64_t>();
        QVERIFY2(computed >= 64 + 4 * 8 && computed < 2 * 64 + 4 * 8, r.out.constData());
        QVERIFY(e["prefix_cache_hit_rate"].get<double>() > 0.5);
    }
};

QTEST_GUILESS_MAIN(TestCliRun)
#include "test_cli_run.moc"
