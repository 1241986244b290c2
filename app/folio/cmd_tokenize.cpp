// folio tokenize -m MODEL (-p TEXT | -f FILE) [--add-special] [--parse-special]
// Prints the token ids, space-separated, on one line of stdout (scripts rely on this form).
// Only the tokenizer is loaded, so tokenizer-only GGUF files work too.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "commands.h"
#include "gguf/gguf_file.h"
#include "tokenizer/vocab.h"

namespace folio::cli {
namespace {

struct TokenizeFlags {
    std::string model;
    std::string prompt;
    std::string file;
    bool add_special = false;
    bool parse_special = false;
};

void run_tokenize(const TokenizeFlags& f) {
    std::string text = f.prompt;
    if (!f.file.empty()) {
        std::ifstream in(f.file, std::ios::binary);
        if (!in) throw CliError("cannot read " + f.file);
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    const auto file = gguf::GgufFile::open(f.model);
    const auto vocab = Vocab::from_gguf(*file);
    const auto ids = vocab->tokenize(text, f.add_special, f.parse_special);
    std::string line;
    line.reserve(ids.size() * 7);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) line += ' ';
        line += std::to_string(ids[i]);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
    auto flags = std::make_shared<TokenizeFlags>();
    auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
    cmd->add_option("-m,--model", flags->model, "GGUF model or tokenizer-only vocab file")
        ->required();
    auto* prompt = cmd->add_option("-p,--prompt", flags->prompt, "text to tokenize");
    auto* file = cmd->add_option("-f,--file", flags->file, "read the text from a file (raw bytes)");
    prompt->excludes(file);
    cmd->add_flag("--add-special", flags->add_special, "add BOS/EOS as the model's metadata asks");
    cmd->add_flag("--parse-special", flags->parse_special,
                  "turn control-token texts such as <|im_start|> into those tokens");
    cmd->callback([flags, prompt, file] {
        if (prompt->count() == 0 && file->count() == 0)
            throw CliError("tokenize: give the text with -p TEXT or -f FILE");
        run_tokenize(*flags);
    });
}

}  // namespace folio::cli
