#pragma once
// Chat templates: a model's `tokenizer.chat_template` (Jinja) rendered with Folio's own
// Jinja-subset engine, the way llama.cpp's and Hugging Face's renderers do.
//
//   auto tmpl = folio::chat::ChatTemplate::for_model(model);
//   auto opts = folio::chat::RenderOptions::for_model(model);
//   std::string prompt = tmpl.render(messages_json, opts);
//
// Immutable after parse; render() may be called from any thread concurrently.
// Templates come from downloaded files: parsing and rendering are bounded (nesting depth, steps,
// string and output size, macro recursion, list sizes; see jinja/interpreter.h Limits) and end
// in TemplateError, never a crash or a hang.
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace folio {
class Model;
class Vocab;
namespace gguf {
class GgufFile;
}
}  // namespace folio

namespace folio::chat {

// A template that does not parse, or fails while rendering (raise_exception, a bad call, a
// type error). The message names the line and column of the template where it can.
class TemplateError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct RenderOptions {
    bool add_generation_prompt = true;
    std::string bos_token;  // the `bos_token` / `eos_token` template variables
    std::string eos_token;
    // "YYYY-MM-DD" seen by strftime_now(); empty: today's local date.
    std::string date;
    // Further top-level variables (tools, enable_thinking, ...), a JSON object or null.
    nlohmann::json extra = nlohmann::json::object();
    // The `tools` variable, key order kept (JSON schemas print in the client's order); null:
    // undefined. A "tools" key in `extra` takes precedence.
    nlohmann::ordered_json tools = nullptr;
    // The `enable_thinking` variable. As llama.cpp does, it is passed as true only to templates
    // whose generation prompt depends on it (probed at parse time), false to the others.
    bool enable_thinking = true;
    // Drop a bos_token the template printed at the very start, as llama.cpp does when the
    // tokenizer adds BOS itself; and likewise an eos_token at the very end.
    bool strip_bos = true;
    bool strip_eos = false;

    // bos/eos token texts from the model's vocabulary, strip_bos/strip_eos from its
    // add_bos/add_eos flags; everything else default.
    static RenderOptions for_model(const Model& model);
    static RenderOptions for_vocab(const Vocab& vocab);
};

namespace detail {
struct Program;  // the parsed template (chat/jinja/*)
}

class ChatTemplate {
  public:
    // Parses Jinja source; throws TemplateError naming line:column.
    static ChatTemplate parse(std::string_view source);
    // A plain template for models without one: each message as "<role>: <content>\n", then
    // "assistant:" when add_generation_prompt. bos/eos are not printed.
    static ChatTemplate plain_fallback();
    // The model's tokenizer.chat_template, or plain_fallback() when it has none.
    static ChatTemplate for_model(const Model& model);
    // Same, from the GGUF metadata alone (tokenizer-only files work too).
    static ChatTemplate for_gguf(const gguf::GgufFile& file);

    // Renders `messages` (a JSON array of {"role", "content", ...} objects as the OpenAI API
    // sends them) to the prompt text. Throws TemplateError.
    //
    // Renders the way llama.cpp does: the variables are messages, bos_token, eos_token,
    // add_generation_prompt, enable_thinking, date_string ("21 Nov 2026") and datetime
    // ("Nov 21 2026") of options.date, tools when given, drop_thinking=false for templates that
    // read it (earlier turns keep their reasoning, so the prompt prefix stays stable), then
    // options.extra. "developer"
    // messages become "system" ones (except for templates using <|channel|>), and a template
    // that ignores or rejects a system message gets it merged into the next message
    // ("system\nuser").
    std::string render(const nlohmann::json& messages, const RenderOptions& options) const;
    // Same with key order kept (parse client JSON with nlohmann::ordered_json to keep it).
    std::string render(const nlohmann::ordered_json& messages, const RenderOptions& options) const;

    // Whether the template prints a system message's content (probed once at parse time).
    bool supports_system_role() const;

    bool is_fallback() const { return m_fallback; }

  private:
    std::shared_ptr<const detail::Program> m_program;
    bool m_fallback = false;
};

}  // namespace folio::chat
