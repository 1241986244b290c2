#pragma once
// Executes a parsed template. One Interpreter per render (not thread-safe; the parsed tree is
// shared read-only). Every loop iteration, statement and expression costs a step; steps, output
// size, string size and macro call depth are bounded so that hostile templates end with an error.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/value.h"

namespace folio::chat::jinja {

// A runtime error without location; the interpreter adds "LINE:COL" of the failing node.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Limits {
    int64_t max_steps = 3'000'000;               // about a second of work
    size_t max_string_bytes = size_t(32) << 20;  // any single string, the output included
    int max_call_depth = 100;                    // nested macro calls
    size_t max_list_items = 200'000;             // range(), append, list + and *
};

class Interpreter {
  public:
    // `date` is "YYYY-MM-DD" for strftime_now(), or empty for the local time.
    Interpreter(const SourceMap& map, Limits limits, std::string date);

    // Renders `body` with `globals` as the outermost scope. Throws TemplateError.
    std::string render(const Body& body, const Dict& globals);

    // Calls a callable value (macro, builtin function, bound method).
    Value call(const Value& callee, CallArgs& args);
    // Applies a filter or test by name (used by map/select/selectattr...).
    Value filter(const std::string& name, Value input, CallArgs& args);
    bool test(const std::string& name, const Value& input, CallArgs& args);

    void step();
    // Throws Error when a string of `bytes` would exceed the limit.
    void check_size(size_t bytes) const;
    const Limits& limits() const { return m_limits; }
    const std::string& date() const { return m_date; }

  private:
    struct Scope {
        std::unordered_map<std::string, Value> vars;
        Scope* parent = nullptr;
    };
    enum class Flow { Normal, Break, Continue };

    Flow exec_body(const Body& body, Scope& scope);
    Flow exec(const Stmt& s, Scope& scope);
    Flow exec_for(const Stmt& s, Scope& scope);
    void exec_set(const Stmt& s, Scope& scope);
    Value eval(const Expr& e, Scope& scope);
    Value eval_binary(const Expr& e, Scope& scope);
    Value eval_call(const Expr& e, Scope& scope);
    void eval_args(const std::vector<Arg>& args, Scope& scope, CallArgs& out);
    Value lookup(const std::string& name, Scope& scope) const;
    void assign(Scope& scope, const std::vector<std::string>& targets, const Value& v);
    Value make_macro(const Stmt& s, Value caller);
    void emit(const std::string& text);
    std::string capture(const Body& body, Scope& scope);

    const SourceMap& m_map;
    Limits m_limits;
    std::string m_date;
    int64_t m_steps = 0;
    int m_call_depth = 0;
    size_t m_offset = 0;  // of the node being evaluated, for error messages
    std::string* m_out = nullptr;
    Scope* m_root = nullptr;
    std::unordered_map<std::string, Value> m_globals_builtin;
};

}  // namespace folio::chat::jinja
