// folio chat-template (-m MODEL | --template FILE) --messages FILE.json [--bos S] [--eos S]
//                     [--now YYYY-MM-DD] [--no-generation-prompt]
// Prints the rendered prompt exactly (no newline added) on stdout. With -m only the GGUF metadata
// and the tokenizer are read (no weights), so tokenizer-only vocab files work too; the model's
// template (or the plain fallback) and its bos/eos texts are used, --bos/--eos override them.
// --messages holds a JSON array of messages, or an object with "messages" (and optional "tools").
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "commands.h"
#include "gguf/gguf_file.h"
#include "tokenizer/vocab.h"

namespace folio::cli {
namespace {

struct ChatTemplateFlags {
    std::string model;
    std::string template_file;
    std::string messages_file;
    std::string bos, eos;
    std::string now;
    bool no_generation_prompt = false;
};

std::string read_text(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CliError(std::string("cannot read ") + what + " " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool valid_date(const std::string& s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (s[i] < '0' || s[i] > '9') return false;
    const int month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

void run_chat_template(const ChatTemplateFlags& f, bool bos_given, bool eos_given) {
    nlohmann::ordered_json doc;
    try {
        doc = nlohmann::ordered_json::parse(read_text(f.messages_file, "messages file"));
    } catch (const nlohmann::json::exception& e) {
        throw CliError("bad JSON in " + f.messages_file + ": " + e.what());
    }
    nlohmann::ordered_json messages, tools;
    if (doc.is_array()) {
        messages = doc;
    } else if (doc.is_object() && doc.contains("messages") && doc["messages"].is_array()) {
        messages = doc["messages"];
        if (doc.contains("tools")) tools = doc["tools"];
    } else {
        throw CliError(f.messages_file +
                       ": expected a JSON array of messages or an object with "
                       "a \"messages\" array");
    }

    chat::ChatTemplate tmpl = chat::ChatTemplate::plain_fallback();
    chat::RenderOptions opts;
    if (!f.model.empty()) {
        const auto file = gguf::GgufFile::open(f.model);
        tmpl = chat::ChatTemplate::for_gguf(*file);
        opts = chat::RenderOptions::for_vocab(*Vocab::from_gguf(*file));
    } else {
        tmpl = chat::ChatTemplate::parse(read_text(f.template_file, "template"));
    }
    if (bos_given) opts.bos_token = f.bos;
    if (eos_given) opts.eos_token = f.eos;
    opts.date = f.now;
    opts.add_generation_prompt = !f.no_generation_prompt;
    if (!tools.is_null()) opts.tools = tools;

    const std::string prompt = tmpl.render(messages, opts);
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

void add_chat_template_command(CLI::App& app) {
    auto flags = std::make_shared<ChatTemplateFlags>();
    auto* cmd = app.add_subcommand("chat-template", "Render a conversation with a chat template");
    auto* model = cmd->add_option("-m,--model", flags->model,
                                  "GGUF model (or tokenizer-only file): its template and bos/eos");
    auto* tmpl = cmd->add_option("--template", flags->template_file, "Jinja template file");
    model->excludes(tmpl);
    cmd->add_option("--messages", flags->messages_file, "JSON file: an array of messages")
        ->required();
    auto* bos = cmd->add_option("--bos", flags->bos, "bos_token text (default: the model's)");
    auto* eos = cmd->add_option("--eos", flags->eos, "eos_token text (default: the model's)");
    cmd->add_option("--now", flags->now,
                    "the date strftime_now() sees, YYYY-MM-DD (default: today)")
        ->check(CLI::Validator(
            [](std::string& s) {
                return valid_date(s) ? std::string() : "expected YYYY-MM-DD: " + s;
            },
            "DATE"));
    cmd->add_flag("--no-generation-prompt", flags->no_generation_prompt,
                  "do not open an assistant turn at the end");
    cmd->callback([flags, model, tmpl, bos, eos] {
        if (model->count() == 0 && tmpl->count() == 0)
            throw CliError("chat-template: give the template with -m MODEL or --template FILE");
        run_chat_template(*flags, bos->count() > 0, eos->count() > 0);
    });
}

}  // namespace folio::cli
