#include "chat/chat_template.h"

#include "chat/jinja/builtins.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/parser.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "tokenizer/vocab.h"

namespace folio::chat {

namespace detail {
struct Program {
    std::string source;  // normalized
    jinja::SourceMap map;
    jinja::Body body;
    bool uses_channel = false;       // gpt-oss style: keeps "developer" messages
    bool has_drop_thinking = false;  // DeepSeek V4: `drop_thinking` drops earlier reasoning
    bool supports_system_role = true;
    bool supports_thinking = false;  // enable_thinking changes the generation prompt

    explicit Program(std::string src) : source(std::move(src)), map(source) {}
};
}  // namespace detail

namespace {

using jinja::Dict;
using jinja::List;
using jinja::Value;

constexpr const char* kFallbackSource =
    "{%- for message in messages -%}"
    "{{- message.role }}: {{ message.content }}{{ '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}assistant:{%- endif -%}";

constexpr const char* kSystemNeedle = "<<folio-system-probe-7f3a>>";

std::string render_program(const detail::Program& p, Value messages, const RenderOptions& o) {
    // llama.cpp's message workarounds
    if (messages.is_list()) {
        List& l = messages.list();
        if (!p.uses_channel) {
            for (auto& m : l) {
                if (!m.is_dict()) continue;
                const Value* role = m.dict().find("role");
                if (role && role->is_string() && role->as_string() == "developer") {
                    Dict copy = m.dict();
                    copy.set("role", Value("system"));
                    m = Value(std::move(copy));
                }
            }
        }
        if (!p.supports_system_role && !l.empty() && l.front().is_dict()) {
            const Value* role = l.front().dict().find("role");
            if (role && role->is_string() && role->as_string() == "system") {
                if (l.size() > 1 && l[1].is_dict()) {
                    const Value* sys = l.front().dict().find("content");
                    const Value* user = l[1].dict().find("content");
                    Dict merged = l[1].dict();
                    merged.set("content", Value((sys ? sys->to_str() : std::string()) + "\n" +
                                                (user ? user->to_str() : std::string())));
                    l[1] = Value(std::move(merged));
                }
                l.erase(l.begin());
            }
        }
    }

    Dict globals;
    globals.set("messages", std::move(messages));
    globals.set("bos_token", Value(o.bos_token));
    globals.set("eos_token", Value(o.eos_token));
    globals.set("add_generation_prompt", Value(o.add_generation_prompt));
    globals.set("enable_thinking", Value(o.enable_thinking && p.supports_thinking));
    globals.set("date_string", Value(jinja::format_date("%d %b %Y", o.date)));
    globals.set("datetime", Value(jinja::format_date("%b %d %Y", o.date)));
    // Earlier turns render the same whatever follows them (so the prompt prefix stays cacheable),
    // as llama.cpp renders DeepSeek V4.
    if (p.has_drop_thinking) globals.set("drop_thinking", Value(false));
    if (!o.tools.is_null()) globals.set("tools", Value::from_json(o.tools));
    if (o.extra.is_object())
        for (auto it = o.extra.begin(); it != o.extra.end(); ++it)
            globals.set(it.key(), Value::from_json(it.value()));

    jinja::Interpreter interp(p.map, jinja::Limits{}, o.date);
    std::string out = interp.render(p.body, globals);
    if (o.strip_bos && !o.bos_token.empty() && out.compare(0, o.bos_token.size(), o.bos_token) == 0)
        out.erase(0, o.bos_token.size());
    if (o.strip_eos && !o.eos_token.empty() && out.size() >= o.eos_token.size() &&
        out.compare(out.size() - o.eos_token.size(), o.eos_token.size(), o.eos_token) == 0)
        out.erase(out.size() - o.eos_token.size());
    return out;
}

template <class J>
Value messages_value(const J& messages) {
    try {
        return Value::from_json(messages);
    } catch (const std::exception& e) {
        throw TemplateError(std::string("chat messages: ") + e.what());
    }
}

}  // namespace

RenderOptions RenderOptions::for_vocab(const Vocab& v) {
    RenderOptions o;
    if (v.bos() >= 0) o.bos_token = v.token_to_piece(v.bos(), true);
    if (v.eos() >= 0) o.eos_token = v.token_to_piece(v.eos(), true);
    o.strip_bos = v.add_bos();
    o.strip_eos = v.add_eos();
    return o;
}

RenderOptions RenderOptions::for_model(const Model& model) {
    return for_vocab(model.vocab());
}

ChatTemplate ChatTemplate::parse(std::string_view source) {
    auto program = std::make_shared<detail::Program>(jinja::normalize_source(source));
    const auto tokens = jinja::tokenize(program->source, program->map);
    program->body = jinja::parse(tokens, program->map);
    program->uses_channel = program->source.find("<|channel|>") != std::string::npos;
    program->has_drop_thinking = program->source.find("drop_thinking") != std::string::npos;

    // Probe: does a system message's content reach the output? (gemma-2 raises instead)
    try {
        nlohmann::json probe =
            nlohmann::json::array({{{"role", "system"}, {"content", kSystemNeedle}},
                                   {{"role", "user"}, {"content", "Hi"}}});
        RenderOptions opts;
        opts.date = "2026-01-01";
        const std::string out = render_program(*program, Value::from_json(probe), opts);
        program->supports_system_role = out.find(kSystemNeedle) != std::string::npos;
    } catch (const TemplateError&) {
        program->supports_system_role = false;
    }

    // Probe: does enable_thinking change what follows the last user message? llama.cpp turns
    // thinking on only for templates where it does.
    try {
        nlohmann::json probe =
            nlohmann::json::array({{{"role", "user"}, {"content", kSystemNeedle}}});
        RenderOptions opts;
        opts.date = "2026-01-01";
        program->supports_thinking = true;
        const std::string with = render_program(*program, Value::from_json(probe), opts);
        opts.enable_thinking = false;
        const std::string without = render_program(*program, Value::from_json(probe), opts);
        const size_t a = with.rfind(kSystemNeedle), b = without.rfind(kSystemNeedle);
        program->supports_thinking = (a == std::string::npos || b == std::string::npos)
                                         ? with != without
                                         : with.substr(a) != without.substr(b);
    } catch (const TemplateError&) {
        program->supports_thinking = false;
    }

    ChatTemplate t;
    t.m_program = std::move(program);
    return t;
}

ChatTemplate ChatTemplate::plain_fallback() {
    ChatTemplate t = parse(kFallbackSource);
    t.m_fallback = true;
    return t;
}

ChatTemplate ChatTemplate::for_gguf(const gguf::GgufFile& file) {
    if (auto s = file.get_string("tokenizer.chat_template"); s && !s->empty()) return parse(*s);
    return plain_fallback();
}

ChatTemplate ChatTemplate::for_model(const Model& model) {
    return for_gguf(model.file());
}

bool ChatTemplate::supports_system_role() const {
    return m_program ? m_program->supports_system_role : true;
}

std::string ChatTemplate::render(const nlohmann::json& messages,
                                 const RenderOptions& options) const {
    if (!m_program) throw TemplateError("chat template: empty template");
    return render_program(*m_program, messages_value(messages), options);
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages,
                                 const RenderOptions& options) const {
    if (!m_program) throw TemplateError("chat template: empty template");
    return render_program(*m_program, messages_value(messages), options);
}

}  // namespace folio::chat
