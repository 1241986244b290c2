#include "chat/jinja/interpreter.h"

#include <cmath>
#include <new>

#include "chat/chat_template.h"
#include "chat/jinja/builtins.h"

namespace folio::chat::jinja {

namespace {

// Restores a value on scope exit (output buffer, call depth).
template <class T>
struct Restore {
    Restore(T& ref, T value) : m_ref(ref), m_saved(ref) { m_ref = value; }
    ~Restore() { m_ref = m_saved; }
    T& m_ref;
    T m_saved;
};

bool is_intlike(const Value& v) {
    return v.is_int() || v.is_bool();
}
int64_t to_int(const Value& v) {
    return v.is_bool() ? int64_t(v.as_bool()) : v.as_int();
}
bool is_numeric(const Value& v) {
    return v.is_number() || v.is_bool();
}
double to_float(const Value& v) {
    return v.is_bool() ? double(v.as_bool()) : v.as_float();
}

[[noreturn]] void type_error(const char* op, const Value& a, const Value& b) {
    throw Error(std::string("unsupported operand type(s) for ") + op + ": '" + a.type_name() +
                "' and '" + b.type_name() + "'");
}

double py_floor_mod(double a, double b) {
    double m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    return m;
}

}  // namespace

Interpreter::Interpreter(const SourceMap& map, Limits limits, std::string date)
    : m_map(map), m_limits(limits), m_date(std::move(date)) {}

std::string Interpreter::render(const Body& body, const Dict& globals) {
    Scope root;
    for (const auto& [k, v] : globals.items()) root.vars[k] = v;
    m_root = &root;
    std::string out;
    m_out = &out;
    try {
        exec_body(body, root);
    } catch (const TemplateError&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw TemplateError("chat template " + m_map.location(m_offset) + ": out of memory");
    } catch (const std::exception& e) {
        throw TemplateError("chat template " + m_map.location(m_offset) + ": " + e.what());
    }
    m_root = nullptr;
    m_out = nullptr;
    return out;
}

void Interpreter::step() {
    if (++m_steps > m_limits.max_steps)
        throw Error("template exceeded its step limit (endless loop?)");
}

void Interpreter::check_size(size_t bytes) const {
    if (bytes > m_limits.max_string_bytes) throw Error("template output or string too large");
}

void Interpreter::emit(const std::string& text) {
    check_size(m_out->size() + text.size());
    *m_out += text;
}

std::string Interpreter::capture(const Body& body, Scope& scope) {
    std::string buf;
    Restore<std::string*> r(m_out, &buf);
    exec_body(body, scope);
    return buf;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, Scope& scope) {
    for (const auto& s : body) {
        const Flow f = exec(*s, scope);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, Scope& scope) {
    step();
    m_offset = s.offset;
    switch (s.kind) {
        case StmtKind::Text:
            emit(s.text);
            break;
        case StmtKind::Output:
            emit(eval(*s.expr, scope).to_str());
            break;
        case StmtKind::If:
            for (const auto& [cond, body] : s.branches)
                if (eval(*cond, scope).truthy()) return exec_body(body, scope);
            return exec_body(s.else_body, scope);
        case StmtKind::For:
            return exec_for(s, scope);
        case StmtKind::Set:
            exec_set(s, scope);
            break;
        case StmtKind::SetBlock: {
            Value v(capture(s.body, scope));
            if (s.filter) {
                m_offset = s.offset;
                // the filter chain was parsed with a null innermost operand: apply in order
                std::vector<const Expr*> chain;
                for (const Expr* f = s.filter.get(); f; f = f->a.get()) chain.push_back(f);
                for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
                    CallArgs args;
                    eval_args((*it)->args, scope, args);
                    v = filter((*it)->name, std::move(v), args);
                }
            }
            scope.vars[s.text] = std::move(v);
            break;
        }
        case StmtKind::Macro:
            scope.vars[s.text] = make_macro(s, Value());
            break;
        case StmtKind::CallBlock: {
            const Expr& call = *s.expr;
            Value callee = eval(*call.a, scope);
            CallArgs args;
            eval_args(call.args, scope, args);
            args.named.emplace_back("caller", make_macro(s, Value(true)));
            m_offset = s.offset;
            emit(this->call(callee, args).to_str());
            break;
        }
        case StmtKind::FilterBlock: {
            Value v(capture(s.body, scope));
            std::vector<const Expr*> chain;
            for (const Expr* f = s.filter.get(); f; f = f->a.get()) chain.push_back(f);
            for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
                CallArgs args;
                eval_args((*it)->args, scope, args);
                v = filter((*it)->name, std::move(v), args);
            }
            emit(v.to_str());
            break;
        }
        case StmtKind::Break:
            return Flow::Break;
        case StmtKind::Continue:
            return Flow::Continue;
        case StmtKind::Scope:
            return exec_body(s.body, scope);
        case StmtKind::Do:
            eval(*s.expr, scope);
            break;
    }
    return Flow::Normal;
}

void Interpreter::assign(Scope& scope, const std::vector<std::string>& targets, const Value& v) {
    if (targets.size() == 1) {
        scope.vars[targets[0]] = v;
        return;
    }
    if (!v.is_list()) throw Error(std::string("cannot unpack '") + v.type_name() + "'");
    const List& l = v.list();
    if (l.size() != targets.size())
        throw Error("cannot unpack " + std::to_string(l.size()) + " values into " +
                    std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); ++i) scope.vars[targets[i]] = l[i];
}

void Interpreter::exec_set(const Stmt& s, Scope& scope) {
    Value v = eval(*s.expr, scope);
    if (s.attr_object) {
        Value obj = eval(*s.attr_object, scope);
        if (!obj.is_dict() || !obj.dict().is_namespace)
            throw Error("cannot assign attribute '" + s.text + "' on a " + obj.type_name() +
                        " (only on a namespace)");
        obj.dict().set(s.text, std::move(v));
        return;
    }
    assign(scope, s.targets, v);
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, Scope& scope) {
    Value iterable = eval(*s.expr, scope);
    if (iterable.is_none() || iterable.is_number() || iterable.is_bool() || iterable.is_callable())
        throw Error(std::string("'") + iterable.type_name() + "' object is not iterable");
    List items = py_iterate(iterable);
    if (s.filter) {
        List kept;
        for (auto& item : items) {
            step();
            Scope tmp;
            tmp.parent = &scope;
            assign(tmp, s.targets, item);
            if (eval(*s.filter, tmp).truthy()) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) return exec_body(s.else_body, scope);
    const auto n = int64_t(items.size());
    // One scope for the whole loop: what the body sets stays visible to later iterations (as in
    // Jinja2) but not after the loop.
    Scope it;
    it.parent = &scope;
    // The `loop` object is one dict per loop, updated in place each iteration.
    static const char* const kLoopKeys[] = {"index0", "index", "revindex", "revindex0",
                                            "first",  "last",  "previtem", "nextitem"};
    auto loop = std::make_shared<Dict>();
    auto index = std::make_shared<int64_t>(0);
    for (const char* k : kLoopKeys) loop->set(k, Value());
    loop->set("length", Value(n));
    loop->set("depth", Value(int64_t(1)));
    loop->set("depth0", Value(int64_t(0)));
    loop->set("cycle", Value::callable("cycle", [index](Interpreter&, CallArgs& args) {
                  if (args.positional.empty()) throw Error("loop.cycle() needs arguments");
                  return args.positional[size_t(*index) % args.positional.size()];
              }));
    it.vars["loop"] = Value::dict_ref(loop);
    for (int64_t i = 0; i < n; ++i) {
        step();
        *index = i;
        loop->set_at(0, kLoopKeys[0], Value(i));
        loop->set_at(1, kLoopKeys[1], Value(i + 1));
        loop->set_at(2, kLoopKeys[2], Value(n - i));
        loop->set_at(3, kLoopKeys[3], Value(n - i - 1));
        loop->set_at(4, kLoopKeys[4], Value(i == 0));
        loop->set_at(5, kLoopKeys[5], Value(i == n - 1));
        loop->set_at(6, kLoopKeys[6], i > 0 ? items[size_t(i - 1)] : Value::undefined("previtem"));
        loop->set_at(7, kLoopKeys[7],
                     i + 1 < n ? items[size_t(i + 1)] : Value::undefined("nextitem"));
        assign(it, s.targets, items[size_t(i)]);
        const Flow f = exec_body(s.body, it);
        if (f == Flow::Break) break;
    }
    return Flow::Normal;
}

Value Interpreter::lookup(const std::string& name, Scope& scope) const {
    for (const Scope* s = &scope; s; s = s->parent) {
        auto it = s->vars.find(name);
        if (it != s->vars.end()) return it->second;
    }
    Value fn = get_global_function(name);
    if (!fn.is_undefined()) return fn;
    return Value::undefined(name);
}

void Interpreter::eval_args(const std::vector<Arg>& args, Scope& scope, CallArgs& out) {
    for (const auto& a : args) {
        if (a.name.empty())
            out.positional.push_back(eval(*a.value, scope));
        else
            out.named.emplace_back(a.name, eval(*a.value, scope));
    }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
    if (callee.is_undefined())
        throw Error("'" + (callee.as_string().empty() ? std::string("value") : callee.as_string()) +
                    "' is undefined");
    if (!callee.is_callable())
        throw Error(std::string("'") + callee.type_name() + "' object is not callable");
    return callee.callable().fn(*this, args);
}

Value Interpreter::filter(const std::string& name, Value input, CallArgs& args) {
    return apply_filter(*this, name, std::move(input), args);
}

bool Interpreter::test(const std::string& name, const Value& input, CallArgs& args) {
    return apply_test(*this, name, input, args);
}

Value Interpreter::make_macro(const Stmt& s, Value is_caller) {
    const Stmt* def = &s;
    return Value::callable(s.text, [def](Interpreter& in, CallArgs& args) {
        if (in.m_call_depth >= in.m_limits.max_call_depth)
            throw Error("macro calls nested too deeply (recursion?)");
        Restore<int> depth(in.m_call_depth, in.m_call_depth + 1);
        Scope local;
        local.parent = in.m_root;
        const auto& params = def->params;
        List varargs;
        for (size_t i = 0; i < args.positional.size(); ++i) {
            if (i < params.size())
                local.vars[params[i].name] = args.positional[i];
            else
                varargs.push_back(args.positional[i]);
        }
        Dict kwargs;
        for (auto& [k, v] : args.named) {
            bool known = k == "caller";
            for (const auto& p : params) known = known || p.name == k;
            if (known)
                local.vars[k] = v;
            else
                kwargs.set(k, v);
        }
        for (const auto& p : params) {
            if (local.vars.count(p.name)) continue;
            local.vars[p.name] =
                p.default_value ? in.eval(*p.default_value, local) : Value::undefined(p.name);
        }
        local.vars["varargs"] = Value(std::move(varargs));
        local.vars["kwargs"] = Value(std::move(kwargs));
        return Value(in.capture(def->body, local));
    });
}

Value Interpreter::eval_call(const Expr& e, Scope& scope) {
    Value callee = eval(*e.a, scope);
    CallArgs args;
    eval_args(e.args, scope, args);
    m_offset = e.offset;
    return call(callee, args);
}

Value Interpreter::eval(const Expr& e, Scope& scope) {
    step();
    m_offset = e.offset;
    switch (e.kind) {
        case ExprKind::Literal:
            return e.value;
        case ExprKind::Name:
            return lookup(e.name, scope);
        case ExprKind::Attr: {
            Value obj = eval(*e.a, scope);
            m_offset = e.offset;
            if (obj.is_undefined())
                throw Error("'" + (obj.as_string().empty() ? e.name : obj.as_string()) +
                            "' is undefined");
            if (obj.is_dict()) {
                if (!obj.dict().is_namespace) {
                    Value m = get_method(obj, e.name);
                    if (!m.is_undefined()) return m;
                }
                const Value* v = obj.dict().find(e.name);
                return v ? *v : Value::undefined(e.name);
            }
            Value m = get_method(obj, e.name);
            return m.is_undefined() ? Value::undefined(e.name) : m;
        }
        case ExprKind::Item: {
            Value obj = eval(*e.a, scope);
            Value key = eval(*e.b, scope);
            m_offset = e.offset;
            if (obj.is_undefined())
                throw Error("'" +
                            (obj.as_string().empty() ? std::string("value") : obj.as_string()) +
                            "' is undefined");
            Value v = py_getitem(obj, key);
            if (v.is_undefined() && key.is_string()) return Value::undefined(key.as_string());
            return v;
        }
        case ExprKind::Slice: {
            Value obj = eval(*e.a, scope);
            Value start = e.b ? eval(*e.b, scope) : Value::none();
            Value stop = e.c ? eval(*e.c, scope) : Value::none();
            Value stride = e.d ? eval(*e.d, scope) : Value::none();
            m_offset = e.offset;
            return py_slice(obj, start, stop, stride);
        }
        case ExprKind::Call:
            return eval_call(e, scope);
        case ExprKind::Filter: {
            Value input = e.a ? eval(*e.a, scope) : Value();
            CallArgs args;
            eval_args(e.args, scope, args);
            m_offset = e.offset;
            return filter(e.name, std::move(input), args);
        }
        case ExprKind::Test: {
            Value input = eval(*e.a, scope);
            CallArgs args;
            eval_args(e.args, scope, args);
            m_offset = e.offset;
            return Value(test(e.name, input, args) != e.negated);
        }
        case ExprKind::Unary: {
            Value v = eval(*e.a, scope);
            if (e.name == "not") return Value(!v.truthy());
            if (!is_numeric(v))
                throw Error(std::string("bad operand type for unary ") + e.name + ": '" +
                            v.type_name() + "'");
            if (e.name == "+") return is_intlike(v) ? Value(to_int(v)) : v;
            if (is_intlike(v)) {
                if (to_int(v) == INT64_MIN) return Value(-double(INT64_MIN));
                return Value(-to_int(v));
            }
            return Value(-v.as_float());
        }
        case ExprKind::Binary:
            return eval_binary(e, scope);
        case ExprKind::Cond:
            if (eval(*e.b, scope).truthy()) return eval(*e.a, scope);
            return e.c ? eval(*e.c, scope) : Value::undefined();
        case ExprKind::List:
        case ExprKind::Tuple: {
            List l;
            l.reserve(e.items.size());
            for (const auto& item : e.items) l.push_back(eval(*item, scope));
            return Value(std::move(l));
        }
        case ExprKind::Dict: {
            Dict d;
            for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
                Value k = eval(*e.items[i], scope);
                d.set(dict_key(k), eval(*e.items[i + 1], scope));
            }
            return Value(std::move(d));
        }
    }
    return Value();
}

Value Interpreter::eval_binary(const Expr& e, Scope& scope) {
    const std::string& op = e.name;
    Value l = eval(*e.a, scope);
    if (op == "and") return l.truthy() ? eval(*e.b, scope) : l;
    if (op == "or") return l.truthy() ? l : eval(*e.b, scope);
    Value r = eval(*e.b, scope);
    m_offset = e.offset;
    if (op == "~") {
        std::string s = l.to_str();
        std::string t = r.to_str();
        check_size(s.size() + t.size());
        return Value(s + t);
    }
    if (op == "==") return Value(l.equals(r));
    if (op == "!=") return Value(!l.equals(r));
    if (op == "<") return Value(py_compare(l, r) < 0);
    if (op == ">") return Value(py_compare(l, r) > 0);
    if (op == "<=") return Value(py_compare(l, r) <= 0);
    if (op == ">=") return Value(py_compare(l, r) >= 0);
    if (op == "in") return Value(py_contains(r, l));
    if (op == "not in") return Value(!py_contains(r, l));
    if (op == "+") {
        if (l.is_string() && r.is_string()) {
            check_size(l.as_string().size() + r.as_string().size());
            return Value(l.as_string() + r.as_string());
        }
        if (l.is_list() && r.is_list()) {
            if (l.list().size() + r.list().size() > m_limits.max_list_items)
                throw Error("list too large");
            List out = l.list();
            out.insert(out.end(), r.list().begin(), r.list().end());
            return Value(std::move(out));
        }
        if (is_intlike(l) && is_intlike(r)) {
            int64_t res;
            if (!__builtin_add_overflow(to_int(l), to_int(r), &res)) return Value(res);
            return Value(to_float(l) + to_float(r));
        }
        if (is_numeric(l) && is_numeric(r)) return Value(to_float(l) + to_float(r));
        type_error("+", l, r);
    }
    if (op == "*") {
        const Value* seq = l.is_string() || l.is_list()     ? &l
                           : (r.is_string() || r.is_list()) ? &r
                                                            : nullptr;
        if (seq) {
            const Value& count = seq == &l ? r : l;
            if (!is_intlike(count)) type_error("*", l, r);
            const int64_t n = std::max<int64_t>(0, to_int(count));
            if (seq->is_string()) {
                const size_t len = seq->as_string().size();
                if (len && uint64_t(n) > m_limits.max_string_bytes / len) check_size(SIZE_MAX);
                std::string out;
                for (int64_t i = 0; i < n; ++i) out += seq->as_string();
                return Value(std::move(out));
            }
            const size_t len = seq->list().size();
            if (len && uint64_t(n) > m_limits.max_list_items / len) throw Error("list too large");
            List out;
            for (int64_t i = 0; i < n; ++i)
                out.insert(out.end(), seq->list().begin(), seq->list().end());
            return Value(std::move(out));
        }
        if (is_intlike(l) && is_intlike(r)) {
            int64_t res;
            if (!__builtin_mul_overflow(to_int(l), to_int(r), &res)) return Value(res);
            return Value(to_float(l) * to_float(r));
        }
        if (is_numeric(l) && is_numeric(r)) return Value(to_float(l) * to_float(r));
        type_error("*", l, r);
    }
    if (!is_numeric(l) || !is_numeric(r)) type_error(op.c_str(), l, r);
    const bool ints = is_intlike(l) && is_intlike(r);
    if (op == "-") {
        int64_t res;
        if (ints && !__builtin_sub_overflow(to_int(l), to_int(r), &res)) return Value(res);
        return Value(to_float(l) - to_float(r));
    }
    if (op == "/") {
        if (to_float(r) == 0) throw Error("division by zero");
        return Value(to_float(l) / to_float(r));
    }
    if (op == "//") {
        if (to_float(r) == 0) throw Error("integer division or modulo by zero");
        if (ints) {
            const int64_t a = to_int(l), b = to_int(r);
            if (a == INT64_MIN && b == -1) return Value(-double(INT64_MIN));
            int64_t q = a / b;
            if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
            return Value(q);
        }
        return Value(std::floor(to_float(l) / to_float(r)));
    }
    if (op == "%") {
        if (to_float(r) == 0) throw Error("integer division or modulo by zero");
        if (ints) {
            const int64_t a = to_int(l), b = to_int(r);
            if (b == -1) return Value(int64_t(0));
            int64_t m = a % b;
            if (m != 0 && ((m < 0) != (b < 0))) m += b;
            return Value(m);
        }
        return Value(py_floor_mod(to_float(l), to_float(r)));
    }
    if (op == "**") {
        if (ints && to_int(r) >= 0) {
            int64_t res = 1, base = to_int(l);
            bool overflow = false;
            for (int64_t i = 0; i < to_int(r) && !overflow; ++i) {
                overflow = __builtin_mul_overflow(res, base, &res);
                if (res == 0 || res == 1) break;
                if (i > 64 && (base == -1)) break;
            }
            if (base == -1) return Value(int64_t(to_int(r) % 2 ? -1 : 1));
            if (!overflow) return Value(res);
        }
        return Value(std::pow(to_float(l), to_float(r)));
    }
    throw Error("unknown operator " + op);
}

}  // namespace folio::chat::jinja
