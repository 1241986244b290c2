// Runs the built `folio chat-template` on golden rows of shared/golden/chat (template file, bos/eos
// and date given on the command line) and on models, and checks its errors: exit status 1, one
// "folio: ..." line on stderr, nothing on stdout.
#include <QProcess>
#include <QTest>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "folio_process.h"
#include "shared_data.h"

namespace {

using Result = folio::test::FolioRun;
using folio::test::run_folio;

QString path_arg(const std::filesystem::path& p) {
    return QString::fromStdString(p.string());
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
    const auto path = folio::test::scratch_dir("cli_chat_template") / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

nlohmann::ordered_json golden_row(const std::string& tmpl, const std::string& conversation) {
    std::ifstream in(folio::test::shared_path("golden/chat/renders.jsonl"));
    for (std::string line; std::getline(in, line);) {
        auto row = nlohmann::ordered_json::parse(line);
        if (row["template"] == tmpl && row["conversation"] == conversation) return row;
    }
    return nullptr;
}

// Each call writes a new file, so earlier paths stay valid.
QString messages_file(const std::string& json) {
    static int counter = 0;
    return path_arg(write_file("messages-" + std::to_string(++counter) + ".json", json));
}

}  // namespace

class TestCliChatTemplate : public QObject {
    Q_OBJECT

  private slots:
    void templateFileMatchesGolden_data();
    void templateFileMatchesGolden();
    void modelTemplate();
    void tokenizerOnlyFileAndFallback();
    void noGenerationPromptAndMessagesObject();
    void errors();
};

void TestCliChatTemplate::templateFileMatchesGolden_data() {
    QTest::addColumn<QString>("tmpl");
    QTest::addColumn<QString>("conversation");
    // plain ChatML, strftime_now with --now, a system message merged for a template without a
    // system role, and a leading bos that is dropped
    QTest::newRow("qwen2.5") << "Qwen-Qwen2.5-7B-Instruct.jinja"
                             << "sys_multi";
    QTest::newRow("llama-3.2 date") << "meta-llama-Llama-3.2-3B-Instruct.jinja"
                                    << "user_only";
    QTest::newRow("gemma-2 system") << "google-gemma-2-2b-it.jinja"
                                    << "sys_multi";
    QTest::newRow("mistral-nemo") << "mistralai-Mistral-Nemo-Instruct-2407.jinja"
                                  << "multi_no_sys";
    QTest::newRow("gpt-oss") << "openai-gpt-oss-120b.jinja"
                             << "sys_multi";
}

void TestCliChatTemplate::templateFileMatchesGolden() {
    QFETCH(QString, tmpl);
    QFETCH(QString, conversation);
    const auto row = golden_row(tmpl.toStdString(), conversation.toStdString());
    QVERIFY(!row.is_null());
    const Result r = run_folio(
        {"chat-template", "--template",
         path_arg(folio::test::shared_path("golden/chat/" + tmpl.toStdString())), "--messages",
         messages_file(row["messages"].dump()), "--bos",
         QString::fromStdString(row["bos_token"].get<std::string>()), "--eos",
         QString::fromStdString(row["eos_token"].get<std::string>()), "--now", "2026-11-21"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY(r.err.isEmpty());
    QCOMPARE(r.out.toStdString(), row["prompt"].get<std::string>());
}

void TestCliChatTemplate::modelTemplate() {
    const QString msgs = messages_file(R"([{"role":"user","content":"Hello"}])");
    const QString model = path_arg(folio::test::shared_path("models/tiny-qwen2-Q8_0.gguf"));
    Result r = run_folio({"chat-template", "-m", model, "--messages", msgs});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(r.out.toStdString(),
             std::string("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
                         "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"));
    // --bos/--eos override the model's texts
    const QString tmpl =
        path_arg(write_file("bos.jinja", "{{ bos_token }}[{{ bos_token }}|{{ eos_token }}]"));
    r = run_folio(
        {"chat-template", "--template", tmpl, "--messages", msgs, "--bos", "B", "--eos", "E"});
    QCOMPARE(r.out.toStdString(), std::string("[B|E]"));  // the leading bos is dropped
    r = run_folio({"chat-template", "--template", tmpl, "--messages", msgs});
    QCOMPARE(r.out.toStdString(), std::string("[|]"));
}

void TestCliChatTemplate::tokenizerOnlyFileAndFallback() {
    const QString msgs = messages_file(R"([{"role":"user","content":"Hello"}])");
    // a vocab-only file of a model without a template: the plain fallback
    Result r = run_folio({"chat-template", "-m",
                          path_arg(folio::test::shared_path("vocab/ggml-vocab-llama-spm.gguf")),
                          "--messages", msgs});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(r.out.toStdString(), std::string("user: Hello\nassistant:"));
    r = run_folio({"chat-template", "-m",
                   path_arg(folio::test::shared_path("models/tiny-llama2-Q8_0.gguf")), "--messages",
                   msgs, "--no-generation-prompt"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(r.out.toStdString(), std::string("user: Hello\n"));
}

void TestCliChatTemplate::noGenerationPromptAndMessagesObject() {
    const QString tmpl =
        path_arg(write_file("t.jinja",
                            "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
                            "{% if tools %}{{ tools | tojson }}{% endif %}{% if "
                            "add_generation_prompt %}<a>{% endif %}"));
    const QString obj =
        messages_file(R"({"messages":[{"role":"user","content":"é"}],"tools":[{"z":1,"a":2}]})");
    Result r = run_folio({"chat-template", "--template", tmpl, "--messages", obj});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(r.out.toStdString(), std::string("<user>é[{\"z\": 1, \"a\": 2}]<a>"));
    r = run_folio(
        {"chat-template", "--template", tmpl, "--messages", obj, "--no-generation-prompt"});
    QCOMPARE(r.out.toStdString(), std::string("<user>é[{\"z\": 1, \"a\": 2}]"));
}

void TestCliChatTemplate::errors() {
    const QString msgs = messages_file(R"([{"role":"user","content":"Hello"}])");
    auto check_error = [](const Result& r, const char* expected) {
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.startsWith("folio: "), r.err.constData());
        QVERIFY2(r.err.contains(expected), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
    };
    check_error(
        run_folio({"chat-template", "--template", "/nonexistent/t.jinja", "--messages", msgs}),
        "/nonexistent/t.jinja");
    const QString good = path_arg(write_file("good.jinja", "{{ messages | length }}"));
    check_error(
        run_folio({"chat-template", "--template", good, "--messages", "/nonexistent/m.json"}),
        "/nonexistent/m.json");
    check_error(run_folio({"chat-template", "--template", good, "--messages",
                           messages_file("[{\"role\": ")}),
                "bad JSON");
    check_error(run_folio({"chat-template", "--template", good, "--messages", messages_file("42")}),
                "messages");
    check_error(run_folio({"chat-template", "--template",
                           path_arg(write_file("bad.jinja", "ok\n{% if %}")), "--messages", msgs}),
                "2:");
    check_error(
        run_folio({"chat-template", "--template",
                   path_arg(write_file("raise.jinja", "{{ raise_exception('No tools here') }}")),
                   "--messages", msgs}),
        "No tools here");
    check_error(run_folio({"chat-template", "--messages", msgs}), "-m MODEL or --template");
    check_error(run_folio({"chat-template", "-m", "/nonexistent/model.gguf", "--messages", msgs}),
                "/nonexistent/model.gguf");
    // malformed flags are CLI11 usage errors: nonzero status, nothing on stdout
    const Result r =
        run_folio({"chat-template", "--template", good, "--messages", msgs, "--now", "21/11/2026"});
    QVERIFY(r.exit_code != 0);
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestCliChatTemplate)
#include "test_cli_chat_template.moc"
