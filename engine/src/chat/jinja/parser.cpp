#include "chat/jinja/parser.h"

#include <initializer_list>

#include "chat/chat_template.h"

namespace folio::chat::jinja {
namespace {

class Parser {
  public:
    Parser(const std::vector<Token>& tokens, const SourceMap& map) : m_toks(tokens), m_map(map) {}

    Body run() {
        std::string end_tag;
        Body body = parse_body({}, end_tag);
        if (peek().type != Tok::Eof) fail("unexpected tag");
        return body;
    }

  private:
    // ---- token helpers ----
    const Token& peek(size_t k = 0) const {
        const size_t i = m_pos + k;
        return i < m_toks.size() ? m_toks[i] : m_toks.back();
    }
    const Token& next() {
        const Token& t = peek();
        if (m_pos < m_toks.size() - 1) ++m_pos;
        return t;
    }
    bool is_op(const char* op, size_t k = 0) const {
        return peek(k).type == Tok::Op && peek(k).text == op;
    }
    bool is_name(const char* name, size_t k = 0) const {
        return peek(k).type == Tok::Name && peek(k).text == name;
    }
    bool accept_op(const char* op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool accept_name(const char* name) {
        if (!is_name(name)) return false;
        next();
        return true;
    }
    void expect_op(const char* op) {
        if (!accept_op(op)) fail(std::string("expected '") + op + "'");
    }
    void expect_name_kw(const char* name) {
        if (!accept_name(name)) fail(std::string("expected '") + name + "'");
    }
    std::string expect_identifier() {
        if (peek().type != Tok::Name) fail("expected a name");
        return next().text;
    }
    void expect_block_end() {
        if (peek().type != Tok::BlockEnd) fail("expected '%}'");
        next();
    }
    [[noreturn]] void fail(const std::string& what) const { fail_at(what, peek().offset); }
    [[noreturn]] void fail_at(const std::string& what, size_t offset) const {
        std::string near;
        const Token& t = peek();
        if (t.type == Tok::Name || t.type == Tok::Op) near = " near '" + t.text + "'";
        throw TemplateError("chat template " + m_map.location(offset) + ": syntax error: " + what +
                            near);
    }

    struct DepthGuard {
        explicit DepthGuard(Parser& p) : m_p(p) {
            if (++m_p.m_depth > kMaxParseDepth) m_p.fail("template nested too deeply");
        }
        ~DepthGuard() { --m_p.m_depth; }
        Parser& m_p;
    };

    // ---- statements ----

    // Parses statements until a block tag whose name is in `ends` (left unconsumed after its
    // name: the caller reads the rest of that tag); `end_tag` receives that name.
    Body parse_body(std::initializer_list<const char*> ends, std::string& end_tag) {
        DepthGuard guard(*this);
        Body body;
        while (true) {
            const Token& t = peek();
            if (t.type == Tok::Eof) {
                if (ends.size() != 0)
                    fail_at(std::string("missing {% ") + *(ends.end() - 1) + " %}", t.offset);
                return body;
            }
            if (t.type == Tok::Text) {
                auto s = std::make_unique<Stmt>(StmtKind::Text, t.offset);
                s->text = t.text;
                body.push_back(std::move(s));
                next();
            } else if (t.type == Tok::VarBegin) {
                next();
                auto s = std::make_unique<Stmt>(StmtKind::Output, t.offset);
                s->expr = parse_tuple_expr();
                if (peek().type != Tok::VarEnd) fail("expected '}}'");
                next();
                body.push_back(std::move(s));
            } else if (t.type == Tok::BlockBegin) {
                const Token& name = peek(1);
                if (name.type != Tok::Name) {
                    next();
                    fail("expected a statement name");
                }
                for (const char* e : ends) {
                    if (name.text == e) {
                        next();
                        next();
                        end_tag = e;
                        return body;
                    }
                }
                next();
                body.push_back(parse_statement());
            } else {
                fail("unexpected token");
            }
        }
    }

    StmtPtr parse_statement() {
        const Token& kw = next();
        const std::string& k = kw.text;
        if (k == "if") return parse_if(kw.offset);
        if (k == "for") return parse_for(kw.offset);
        if (k == "set") return parse_set(kw.offset);
        if (k == "macro") return parse_macro(kw.offset);
        if (k == "call") return parse_call_block(kw.offset);
        if (k == "filter") return parse_filter_block(kw.offset);
        if (k == "break" || k == "continue") {
            expect_block_end();
            if (m_loop_depth == 0) fail_at("'" + k + "' outside a loop", kw.offset);
            return std::make_unique<Stmt>(k == "break" ? StmtKind::Break : StmtKind::Continue,
                                          kw.offset);
        }
        if (k == "do") {
            auto s = std::make_unique<Stmt>(StmtKind::Do, kw.offset);
            s->expr = parse_tuple_expr();
            expect_block_end();
            return s;
        }
        if (k == "generation") {
            expect_block_end();
            auto s = std::make_unique<Stmt>(StmtKind::Scope, kw.offset);
            std::string end;
            s->body = parse_body({"endgeneration"}, end);
            expect_block_end();
            return s;
        }
        fail_at("unknown tag '" + k + "'", kw.offset);
    }

    StmtPtr parse_if(size_t offset) {
        auto s = std::make_unique<Stmt>(StmtKind::If, offset);
        ExprPtr cond = parse_tuple_expr();
        expect_block_end();
        while (true) {
            std::string end;
            Body body = parse_body({"elif", "else", "endif"}, end);
            s->branches.emplace_back(std::move(cond), std::move(body));
            if (end == "elif") {
                cond = parse_tuple_expr();
                expect_block_end();
                continue;
            }
            if (end == "else") {
                expect_block_end();
                s->else_body = parse_body({"endif"}, end);
            }
            expect_block_end();
            return s;
        }
    }

    std::vector<std::string> parse_targets() {
        std::vector<std::string> names;
        const bool paren = accept_op("(");
        names.push_back(expect_identifier());
        while (accept_op(",")) {
            if (peek().type != Tok::Name) break;
            names.push_back(expect_identifier());
        }
        if (paren) expect_op(")");
        return names;
    }

    StmtPtr parse_for(size_t offset) {
        auto s = std::make_unique<Stmt>(StmtKind::For, offset);
        s->targets = parse_targets();
        expect_name_kw("in");
        s->expr = parse_or();  // no conditional expression: `if` starts the loop filter
        if (is_op(",")) {      // `for x in a, b`
            auto tuple = std::make_unique<Expr>(ExprKind::Tuple, s->expr->offset);
            tuple->items.push_back(std::move(s->expr));
            while (accept_op(",")) tuple->items.push_back(parse_or());
            s->expr = std::move(tuple);
        }
        if (accept_name("if")) s->filter = parse_or();
        accept_name("recursive");
        expect_block_end();
        ++m_loop_depth;
        std::string end;
        s->body = parse_body({"else", "endfor"}, end);
        --m_loop_depth;
        if (end == "else") {
            expect_block_end();
            const int saved = m_loop_depth;
            m_loop_depth = 0;
            s->else_body = parse_body({"endfor"}, end);
            m_loop_depth = saved;
        }
        expect_block_end();
        return s;
    }

    StmtPtr parse_set(size_t offset) {
        // {% set ns.attr = v %}
        if (peek().type == Tok::Name && is_op(".", 1) && peek(2).type == Tok::Name &&
            is_op("=", 3)) {
            auto s = std::make_unique<Stmt>(StmtKind::Set, offset);
            auto obj = std::make_unique<Expr>(ExprKind::Name, peek().offset);
            obj->name = next().text;
            next();
            s->text = next().text;
            s->attr_object = std::move(obj);
            next();
            s->expr = parse_tuple_expr();
            expect_block_end();
            return s;
        }
        std::vector<std::string> targets = parse_targets();
        if (accept_op("=")) {
            auto s = std::make_unique<Stmt>(StmtKind::Set, offset);
            s->targets = std::move(targets);
            s->expr = parse_tuple_expr();
            expect_block_end();
            return s;
        }
        if (targets.size() != 1) fail("expected '='");
        auto s = std::make_unique<Stmt>(StmtKind::SetBlock, offset);
        s->text = targets[0];
        if (accept_op("|")) s->filter = parse_filter_chain_head();
        expect_block_end();
        std::string end;
        s->body = parse_body({"endset"}, end);
        expect_block_end();
        return s;
    }

    std::vector<MacroParam> parse_params() {
        std::vector<MacroParam> params;
        expect_op("(");
        while (!is_op(")")) {
            MacroParam p;
            p.name = expect_identifier();
            if (accept_op("=")) p.default_value = parse_expr();
            params.push_back(std::move(p));
            if (!accept_op(",")) break;
        }
        expect_op(")");
        return params;
    }

    StmtPtr parse_macro(size_t offset) {
        auto s = std::make_unique<Stmt>(StmtKind::Macro, offset);
        s->text = expect_identifier();
        s->params = parse_params();
        expect_block_end();
        const int saved = m_loop_depth;
        m_loop_depth = 0;
        std::string end;
        s->body = parse_body({"endmacro"}, end);
        m_loop_depth = saved;
        if (peek().type == Tok::Name) next();  // {% endmacro name %}
        expect_block_end();
        return s;
    }

    StmtPtr parse_call_block(size_t offset) {
        auto s = std::make_unique<Stmt>(StmtKind::CallBlock, offset);
        if (is_op("(")) s->params = parse_params();
        s->expr = parse_expr();
        if (s->expr->kind != ExprKind::Call) fail_at("expected a macro call", s->expr->offset);
        expect_block_end();
        std::string end;
        s->body = parse_body({"endcall"}, end);
        expect_block_end();
        return s;
    }

    StmtPtr parse_filter_block(size_t offset) {
        auto s = std::make_unique<Stmt>(StmtKind::FilterBlock, offset);
        s->filter = parse_filter_chain_head();
        expect_block_end();
        std::string end;
        s->body = parse_body({"endfilter"}, end);
        expect_block_end();
        return s;
    }

    // `name(args) | name2 ...` applied to a placeholder (a == null), for filter blocks.
    ExprPtr parse_filter_chain_head() {
        ExprPtr node;
        do {
            auto f = std::make_unique<Expr>(ExprKind::Filter, peek().offset);
            f->name = expect_identifier();
            if (is_op("(")) parse_call_args(f->args);
            f->a = std::move(node);
            node = std::move(f);
        } while (accept_op("|"));
        return node;
    }

    // ---- expressions ----

    // An expression, or an implicit tuple `a, b`.
    ExprPtr parse_tuple_expr() {
        ExprPtr first = parse_expr();
        if (!is_op(",")) return first;
        auto tuple = std::make_unique<Expr>(ExprKind::Tuple, first->offset);
        tuple->items.push_back(std::move(first));
        while (accept_op(",")) {
            if (peek().type == Tok::VarEnd || peek().type == Tok::BlockEnd) break;
            tuple->items.push_back(parse_expr());
        }
        return tuple;
    }

    ExprPtr parse_expr() {
        DepthGuard guard(*this);
        ExprPtr value = parse_or();
        while (is_name("if")) {
            const size_t off = next().offset;
            auto cond = std::make_unique<Expr>(ExprKind::Cond, off);
            cond->a = std::move(value);
            cond->b = parse_or();
            if (accept_name("else")) cond->c = parse_expr();
            value = std::move(cond);
        }
        return value;
    }

    ExprPtr binary(const std::string& op, ExprPtr l, ExprPtr r, size_t off) {
        auto e = std::make_unique<Expr>(ExprKind::Binary, off);
        e->name = op;
        e->a = std::move(l);
        e->b = std::move(r);
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr l = parse_and();
        while (is_name("or")) {
            const size_t off = next().offset;
            l = binary("or", std::move(l), parse_and(), off);
        }
        return l;
    }

    ExprPtr parse_and() {
        ExprPtr l = parse_not();
        while (is_name("and")) {
            const size_t off = next().offset;
            l = binary("and", std::move(l), parse_not(), off);
        }
        return l;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this);
            auto e = std::make_unique<Expr>(ExprKind::Unary, next().offset);
            e->name = "not";
            e->a = parse_not();
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        ExprPtr l = parse_concat();
        while (true) {
            const Token& t = peek();
            std::string op;
            if (t.type == Tok::Op && (t.text == "==" || t.text == "!=" || t.text == "<" ||
                                      t.text == ">" || t.text == "<=" || t.text == ">=")) {
                op = t.text;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && is_name("in", 1)) {
                op = "not in";
                next();
                next();
            } else {
                return l;
            }
            l = binary(op, std::move(l), parse_concat(), t.offset);
        }
    }

    ExprPtr parse_concat() {
        ExprPtr l = parse_math1();
        while (is_op("~")) {
            const size_t off = next().offset;
            l = binary("~", std::move(l), parse_math1(), off);
        }
        return l;
    }

    ExprPtr parse_math1() {
        ExprPtr l = parse_math2();
        while (is_op("+") || is_op("-")) {
            const Token& t = next();
            l = binary(t.text, std::move(l), parse_math2(), t.offset);
        }
        return l;
    }

    ExprPtr parse_math2() {
        ExprPtr l = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& t = next();
            l = binary(t.text, std::move(l), parse_pow(), t.offset);
        }
        return l;
    }

    ExprPtr parse_pow() {
        ExprPtr l = parse_unary();
        while (is_op("**")) {
            const size_t off = next().offset;
            l = binary("**", std::move(l), parse_unary(), off);
        }
        return l;
    }

    ExprPtr parse_unary() {
        if (is_op("-") || is_op("+")) {
            DepthGuard guard(*this);
            const Token& t = next();
            auto e = std::make_unique<Expr>(ExprKind::Unary, t.offset);
            e->name = t.text;
            e->a = parse_unary();
            return parse_filters(std::move(e));
        }
        return parse_filters(parse_postfix(parse_primary()));
    }

    ExprPtr parse_primary() {
        DepthGuard guard(*this);
        const Token& t = peek();
        switch (t.type) {
            case Tok::String: {
                // adjacent string literals concatenate
                std::string s = next().text;
                while (peek().type == Tok::String) s += next().text;
                auto e = std::make_unique<Expr>(ExprKind::Literal, t.offset);
                e->value = Value(std::move(s));
                return e;
            }
            case Tok::Int: {
                auto e = std::make_unique<Expr>(ExprKind::Literal, t.offset);
                e->value = Value(next().int_value);
                return e;
            }
            case Tok::Float: {
                auto e = std::make_unique<Expr>(ExprKind::Literal, t.offset);
                e->value = Value(next().float_value);
                return e;
            }
            case Tok::Name: {
                const std::string& n = t.text;
                auto e = std::make_unique<Expr>(ExprKind::Literal, t.offset);
                if (n == "true" || n == "True")
                    e->value = Value(true);
                else if (n == "false" || n == "False")
                    e->value = Value(false);
                else if (n == "none" || n == "None")
                    e->value = Value::none();
                else {
                    e->kind = ExprKind::Name;
                    e->name = n;
                }
                next();
                return e;
            }
            case Tok::Op: {
                if (t.text == "(") {
                    next();
                    if (accept_op(")")) return std::make_unique<Expr>(ExprKind::Tuple, t.offset);
                    ExprPtr first = parse_expr();
                    if (accept_op(")")) return first;
                    auto tuple = std::make_unique<Expr>(ExprKind::Tuple, t.offset);
                    tuple->items.push_back(std::move(first));
                    while (accept_op(",")) {
                        if (is_op(")")) break;
                        tuple->items.push_back(parse_expr());
                    }
                    expect_op(")");
                    return tuple;
                }
                if (t.text == "[") {
                    next();
                    auto list = std::make_unique<Expr>(ExprKind::List, t.offset);
                    while (!is_op("]")) {
                        list->items.push_back(parse_expr());
                        if (!accept_op(",")) break;
                    }
                    expect_op("]");
                    return list;
                }
                if (t.text == "{") {
                    next();
                    auto dict = std::make_unique<Expr>(ExprKind::Dict, t.offset);
                    while (!is_op("}")) {
                        dict->items.push_back(parse_expr());
                        expect_op(":");
                        dict->items.push_back(parse_expr());
                        if (!accept_op(",")) break;
                    }
                    expect_op("}");
                    return dict;
                }
                break;
            }
            default:
                break;
        }
        fail("unexpected token in expression");
    }

    void parse_call_args(std::vector<Arg>& args) {
        expect_op("(");
        while (!is_op(")")) {
            Arg a;
            if (peek().type == Tok::Name && is_op("=", 1)) {
                a.name = next().text;
                next();
            }
            a.value = parse_expr();
            args.push_back(std::move(a));
            if (!accept_op(",")) break;
        }
        expect_op(")");
    }

    ExprPtr parse_postfix(ExprPtr node) {
        while (true) {
            if (is_op(".")) {
                const size_t off = next().offset;
                auto e = std::make_unique<Expr>(ExprKind::Attr, off);
                e->a = std::move(node);
                if (peek().type == Tok::Int) {  // a.0 → a[0]
                    e->kind = ExprKind::Item;
                    auto idx = std::make_unique<Expr>(ExprKind::Literal, peek().offset);
                    idx->value = Value(next().int_value);
                    e->b = std::move(idx);
                } else {
                    e->name = expect_identifier();
                }
                node = std::move(e);
            } else if (is_op("[")) {
                node = parse_subscript(std::move(node));
            } else if (is_op("(")) {
                DepthGuard guard(*this);
                auto e = std::make_unique<Expr>(ExprKind::Call, peek().offset);
                e->a = std::move(node);
                parse_call_args(e->args);
                node = std::move(e);
            } else {
                return node;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr node) {
        DepthGuard guard(*this);
        const size_t off = next().offset;  // [
        ExprPtr parts[3];
        int colons = 0;
        while (true) {
            if (is_op("]")) break;
            if (is_op(":")) {
                next();
                if (++colons > 2) fail("bad slice");
                continue;
            }
            if (parts[colons]) fail("expected ']'");
            parts[colons] = parse_expr();
        }
        expect_op("]");
        if (colons == 0) {
            if (!parts[0]) fail_at("empty subscript", off);
            auto e = std::make_unique<Expr>(ExprKind::Item, off);
            e->a = std::move(node);
            e->b = std::move(parts[0]);
            return e;
        }
        auto e = std::make_unique<Expr>(ExprKind::Slice, off);
        e->a = std::move(node);
        e->b = std::move(parts[0]);
        e->c = std::move(parts[1]);
        e->d = std::move(parts[2]);
        return e;
    }

    ExprPtr parse_filters(ExprPtr node) {
        while (true) {
            if (is_op("|")) {
                DepthGuard guard(*this);
                const size_t off = next().offset;
                auto f = std::make_unique<Expr>(ExprKind::Filter, off);
                f->name = expect_identifier();
                if (is_op("(")) parse_call_args(f->args);
                f->a = std::move(node);
                node = parse_postfix(std::move(f));
            } else if (is_name("is")) {
                DepthGuard guard(*this);
                const size_t off = next().offset;
                auto t = std::make_unique<Expr>(ExprKind::Test, off);
                t->negated = accept_name("not");
                t->name = expect_identifier();
                if (is_op("(")) {
                    parse_call_args(t->args);
                } else if (starts_test_arg()) {
                    Arg a;
                    a.value = parse_postfix(parse_primary());
                    t->args.push_back(std::move(a));
                }
                t->a = std::move(node);
                node = std::move(t);
            } else {
                return node;
            }
        }
    }

    // `x is divisibleby 3`, `x is sameas none`: a test takes one bare argument.
    bool starts_test_arg() const {
        const Token& t = peek();
        if (t.type == Tok::String || t.type == Tok::Int || t.type == Tok::Float) return true;
        if (t.type == Tok::Op) return t.text == "[" || t.text == "{";
        if (t.type != Tok::Name) return false;
        static const char* const kStop[] = {"else", "or", "and", "if", "in", "is", "not"};
        for (const char* s : kStop)
            if (t.text == s) return false;
        return true;
    }

    const std::vector<Token>& m_toks;
    const SourceMap& m_map;
    size_t m_pos = 0;
    int m_depth = 0;
    int m_loop_depth = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const SourceMap& map) {
    return Parser(tokens, map).run();
}

}  // namespace folio::chat::jinja
