// Filters, tests and global functions.
#include "chat/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <unordered_map>

#include "chat/jinja/text.h"

namespace folio::chat::jinja {

namespace {

struct Args {
    CallArgs& a;
    const std::string& fn;
    Value get(size_t pos, const char* name, Value dflt = Value()) const {
        for (auto& [k, v] : a.named)
            if (k == name) return v;
        if (pos < a.positional.size()) return a.positional[pos];
        return dflt;
    }
    bool flag(size_t pos, const char* name, bool dflt) const {
        Value v = get(pos, name, Value(dflt));
        return v.truthy();
    }
};

[[noreturn]] void bad_type(const std::string& fn, const Value& v) {
    throw Error(fn + ": unsupported value of type '" + v.type_name() + "'");
}

// Attribute lookup as the filters do it ("a.b" paths allowed).
Value get_attribute(const Value& obj, const std::string& path) {
    Value cur = obj;
    size_t pos = 0;
    while (true) {
        const size_t dot = path.find('.', pos);
        const std::string part = path.substr(pos, dot == std::string::npos ? dot : dot - pos);
        Value next = Value::undefined(part);
        if (cur.is_dict()) {
            if (const Value* v = cur.dict().find(part)) next = *v;
        } else if (cur.is_list() && !part.empty() &&
                   std::all_of(part.begin(), part.end(), ::isdigit)) {
            next = py_getitem(cur, Value(int64_t(std::stoll(part))));
        }
        cur = next;
        if (dot == std::string::npos) return cur;
        pos = dot + 1;
    }
}

Value to_int_value(const Value& v, const Value& dflt) {
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(int64_t(v.as_bool()));
    if (v.is_float()) {
        const double d = v.as_float();
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return dflt;
        return Value(int64_t(d));
    }
    if (v.is_string()) {
        const std::string s = py_strip(v.as_string(), Value(), true, true);
        try {
            size_t used = 0;
            const long long i = std::stoll(s, &used, 10);
            if (used == s.size()) return Value(int64_t(i));
            const double d = std::stod(s, &used);
            if (used == s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18)
                return Value(int64_t(d));
        } catch (const std::exception&) {
        }
    }
    return dflt;
}

Value to_float_value(const Value& v, const Value& dflt) {
    if (v.is_number()) return Value(v.as_float());
    if (v.is_bool()) return Value(double(v.as_bool()));
    if (v.is_string()) {
        const std::string s = py_strip(v.as_string(), Value(), true, true);
        try {
            size_t used = 0;
            const double d = std::stod(s, &used);
            if (used == s.size()) return Value(d);
        } catch (const std::exception&) {
        }
    }
    return dflt;
}

// Sort key: lowercased strings unless case-sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value(to_lower(v.as_string()));
    return v;
}

List sorted(List items, bool reverse, bool case_sensitive, const Value& attribute) {
    std::vector<std::pair<Value, size_t>> keys;
    for (size_t i = 0; i < items.size(); ++i) {
        Value k = attribute.is_string() ? get_attribute(items[i], attribute.as_string()) : items[i];
        keys.emplace_back(sort_key(k, case_sensitive), i);
    }
    std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
        const int c = py_compare(a.first, b.first);
        return reverse ? c > 0 : c < 0;
    });
    List out;
    for (const auto& k : keys) out.push_back(items[k.second]);
    return out;
}

// select/reject/selectattr/rejectattr: `args` from `first_test_arg` on are (test name, args...).
Value select_items(Interpreter& in, const Value& input, Args& a, bool by_attr, bool keep) {
    const size_t test_pos = by_attr ? 1 : 0;
    std::string attr;
    if (by_attr) {
        Value at = a.get(0, "attribute");
        if (!at.is_string()) throw Error(a.fn + ": the attribute name must be a string");
        attr = at.as_string();
    }
    std::string test;
    CallArgs test_args;
    if (a.a.positional.size() > test_pos) {
        const Value& t = a.a.positional[test_pos];
        if (!t.is_string()) throw Error(a.fn + ": the test name must be a string");
        test = t.as_string();
        test_args.positional.assign(a.a.positional.begin() + std::ptrdiff_t(test_pos + 1),
                                    a.a.positional.end());
    }
    List out;
    if (!input.truthy()) return Value(std::move(out));  // Jinja2: None selects nothing
    for (const auto& item : py_iterate(input)) {
        in.step();
        const Value v = by_attr ? get_attribute(item, attr) : item;
        CallArgs targs = test_args;
        const bool ok = test.empty() ? v.truthy() : in.test(test, v, targs);
        if (ok == keep) out.push_back(item);
    }
    return Value(std::move(out));
}

std::string indent_text(const std::string& s, const Value& width, bool first, bool blank) {
    const std::string pad =
        width.is_string()
            ? width.as_string()
            : std::string(size_t(std::clamp<int64_t>(width.is_int() ? width.as_int() : 4, 0, 1000)),
                          ' ');
    std::string out;
    size_t pos = 0;
    bool first_line = true;
    while (true) {
        const size_t nl = s.find('\n', pos);
        const std::string line = s.substr(pos, nl == std::string::npos ? nl : nl - pos);
        const bool is_blank = py_strip(line, Value(), true, true).empty();
        if ((first_line ? first : true) && (blank || !is_blank)) out += pad;
        out += line;
        if (nl == std::string::npos) break;
        out += '\n';
        pos = nl + 1;
        first_line = false;
    }
    return out;
}

using FilterFn = Value (*)(Interpreter&, Value&, Args&);

const std::unordered_map<std::string, FilterFn>& filters() {
    static const std::unordered_map<std::string, FilterFn> kFilters = {
        {"tojson",
         [](Interpreter& in, Value& v, Args& a) {
             JsonFormat fmt;
             const Value indent = a.get(0, "indent", Value::none());
             if (indent.is_int()) {
                 fmt.indent = int(std::clamp<int64_t>(indent.as_int(), 0, 64));
                 fmt.item_sep = ",";
             }
             const Value seps = a.get(99, "separators", Value::none());
             if (seps.is_list() && seps.list().size() == 2) {
                 fmt.item_sep = seps.list()[0].to_str();
                 fmt.key_sep = seps.list()[1].to_str();
             }
             fmt.ensure_ascii = a.flag(99, "ensure_ascii", false);
             fmt.sort_keys = a.flag(99, "sort_keys", false);
             std::string out = to_json(v, fmt);
             in.check_size(out.size());
             return Value(std::move(out));
         }},
        {"from_json",
         [](Interpreter&, Value& v, Args& a) {
             if (!v.is_string()) bad_type(a.fn, v);
             return parse_json(v.as_string());
         }},
        {"length",
         [](Interpreter&, Value& v, Args& a) {
             if (v.is_string()) return Value(int64_t(utf8_length(v.as_string())));
             if (v.is_list()) return Value(int64_t(v.list().size()));
             if (v.is_dict()) return Value(int64_t(v.dict().size()));
             if (v.is_undefined()) return Value(int64_t(0));
             throw Error(std::string("object of type '") + v.type_name() + "' has no len()");
         }},
        {"string", [](Interpreter&, Value& v, Args&) { return Value(v.to_str()); }},
        {"safe", [](Interpreter&, Value& v, Args&) { return v; }},
        {"escape", [](Interpreter&, Value& v, Args&) { return Value(html_escape(v.to_str())); }},
        {"trim",
         [](Interpreter&, Value& v, Args& a) {
             return Value(py_strip(v.to_str(), a.get(0, "chars"), true, true));
         }},
        {"default",
         [](Interpreter&, Value& v, Args& a) {
             const bool boolean = a.flag(1, "boolean", false);
             if (v.is_undefined() || (boolean && !v.truthy()))
                 return a.get(0, "default_value", Value(""));
             return v;
         }},
        {"join",
         [](Interpreter& in, Value& v, Args& a) {
             const std::string sep = a.get(0, "d", Value("")).to_str();
             const Value attr = a.get(1, "attribute", Value::none());
             std::string out;
             bool first = true;
             for (const auto& item : py_iterate(v)) {
                 if (!first) out += sep;
                 first = false;
                 out += (attr.is_string() ? get_attribute(item, attr.as_string()) : item).to_str();
                 in.check_size(out.size());
             }
             return Value(std::move(out));
         }},
        {"upper", [](Interpreter&, Value& v, Args&) { return Value(to_upper(v.to_str())); }},
        {"lower", [](Interpreter&, Value& v, Args&) { return Value(to_lower(v.to_str())); }},
        {"capitalize", [](Interpreter&, Value& v, Args&) { return Value(capitalize(v.to_str())); }},
        {"title", [](Interpreter&, Value& v, Args&) { return Value(jinja_title(v.to_str())); }},
        {"replace",
         [](Interpreter& in, Value& v, Args& a) {
             Value method = get_method(Value(v.to_str()), "replace");
             CallArgs args;
             args.positional = {a.get(0, "old"), a.get(1, "new")};
             const Value count = a.get(2, "count", Value::none());
             if (count.is_int()) args.positional.push_back(count);
             return in.call(method, args);
         }},
        {"items",
         [](Interpreter&, Value& v, Args& a) {
             if (v.is_undefined()) return Value(List{});
             if (!v.is_dict()) bad_type(a.fn, v);
             List out;
             for (const auto& [k, val] : v.dict().items())
                 out.emplace_back(List{key_value(k), val});
             return Value(std::move(out));
         }},
        {"list", [](Interpreter&, Value& v, Args&) { return Value(py_iterate(v)); }},
        {"first",
         [](Interpreter&, Value& v, Args&) {
             List l = py_iterate(v);
             return l.empty() ? Value::undefined("first") : l.front();
         }},
        {"last",
         [](Interpreter&, Value& v, Args&) {
             List l = py_iterate(v);
             return l.empty() ? Value::undefined("last") : l.back();
         }},
        {"reverse",
         [](Interpreter&, Value& v, Args&) {
             if (v.is_string()) {
                 auto cps = decode_utf8(v.as_string());
                 std::reverse(cps.begin(), cps.end());
                 return Value(encode_utf8(cps));
             }
             List l = py_iterate(v);
             std::reverse(l.begin(), l.end());
             return Value(std::move(l));
         }},
        {"sort",
         [](Interpreter&, Value& v, Args& a) {
             return Value(sorted(py_iterate(v), a.flag(0, "reverse", false),
                                 a.flag(1, "case_sensitive", false), a.get(2, "attribute")));
         }},
        {"dictsort",
         [](Interpreter&, Value& v, Args& a) {
             if (!v.is_dict()) bad_type(a.fn, v);
             const bool cs = a.flag(0, "case_sensitive", false);
             const Value by = a.get(1, "by", Value("key"));
             const bool reverse = a.flag(2, "reverse", false);
             List pairs;
             for (const auto& [k, val] : v.dict().items())
                 pairs.emplace_back(List{key_value(k), val});
             std::vector<std::pair<Value, size_t>> keys;
             const size_t pos = by.is_string() && by.as_string() == "value" ? 1 : 0;
             for (size_t i = 0; i < pairs.size(); ++i)
                 keys.emplace_back(sort_key(pairs[i].list()[pos], cs), i);
             std::stable_sort(keys.begin(), keys.end(), [&](const auto& x, const auto& y) {
                 const int c = py_compare(x.first, y.first);
                 return reverse ? c > 0 : c < 0;
             });
             List out;
             for (const auto& k : keys) out.push_back(pairs[k.second]);
             return Value(std::move(out));
         }},
        {"unique",
         [](Interpreter&, Value& v, Args& a) {
             const bool cs = a.flag(0, "case_sensitive", false);
             const Value attr = a.get(1, "attribute");
             List out, seen;
             for (const auto& item : py_iterate(v)) {
                 Value key =
                     sort_key(attr.is_string() ? get_attribute(item, attr.as_string()) : item, cs);
                 bool dup = false;
                 for (const auto& s : seen) dup = dup || s.equals(key);
                 if (dup) continue;
                 seen.push_back(key);
                 out.push_back(item);
             }
             return Value(std::move(out));
         }},
        {"map",
         [](Interpreter& in, Value& v, Args& a) {
             List out;
             if (!v.truthy()) return Value(std::move(out));
             const Value attr = a.get(99, "attribute");
             if (attr.is_string()) {
                 const Value dflt = a.get(99, "default");
                 for (const auto& item : py_iterate(v)) {
                     Value x = get_attribute(item, attr.as_string());
                     out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
                 }
                 return Value(std::move(out));
             }
             if (a.a.positional.empty() || !a.a.positional[0].is_string())
                 throw Error("map: give a filter name or attribute=");
             const std::string name = a.a.positional[0].as_string();
             for (const auto& item : py_iterate(v)) {
                 in.step();
                 CallArgs fargs;
                 fargs.positional.assign(a.a.positional.begin() + 1, a.a.positional.end());
                 out.push_back(in.filter(name, item, fargs));
             }
             return Value(std::move(out));
         }},
        {"select",
         [](Interpreter& in, Value& v, Args& a) { return select_items(in, v, a, false, true); }},
        {"reject",
         [](Interpreter& in, Value& v, Args& a) { return select_items(in, v, a, false, false); }},
        {"selectattr",
         [](Interpreter& in, Value& v, Args& a) { return select_items(in, v, a, true, true); }},
        {"rejectattr",
         [](Interpreter& in, Value& v, Args& a) { return select_items(in, v, a, true, false); }},
        {"attr",
         [](Interpreter&, Value& v, Args& a) {
             const Value name = a.get(0, "name");
             if (!name.is_string() || !v.is_dict()) return Value::undefined();
             const Value* x = v.dict().find(name.as_string());
             return x ? *x : Value::undefined(name.as_string());
         }},
        {"int", [](Interpreter&, Value& v,
                   Args& a) { return to_int_value(v, a.get(0, "default", Value(int64_t(0)))); }},
        {"float", [](Interpreter&, Value& v,
                     Args& a) { return to_float_value(v, a.get(0, "default", Value(0.0))); }},
        {"bool", [](Interpreter&, Value& v, Args&) { return Value(v.truthy()); }},
        {"abs",
         [](Interpreter&, Value& v, Args& a) {
             if (v.is_int())
                 return v.as_int() == INT64_MIN ? Value(-double(INT64_MIN))
                                                : Value(std::abs(v.as_int()));
             if (v.is_float()) return Value(std::fabs(v.as_float()));
             bad_type(a.fn, v);
         }},
        {"round",
         [](Interpreter&, Value& v, Args& a) {
             if (!v.is_number()) bad_type(a.fn, v);
             const int64_t precision =
                 std::clamp<int64_t>(a.get(0, "precision", Value(int64_t(0))).as_int(), -20, 20);
             const std::string method = a.get(1, "method", Value("common")).to_str();
             const double p = std::pow(10.0, double(precision));
             const double x = v.as_float() * p;
             double r = method == "ceil"    ? std::ceil(x)
                        : method == "floor" ? std::floor(x)
                                            : std::round(x);
             return Value(r / p);
         }},
        {"sum",
         [](Interpreter& in, Value& v, Args& a) {
             const Value attr = a.get(0, "attribute");
             Value total = a.get(1, "start", Value(int64_t(0)));
             for (const auto& item : py_iterate(v)) {
                 const Value x = attr.is_string() ? get_attribute(item, attr.as_string()) : item;
                 if (!x.is_number() || !total.is_number()) bad_type(a.fn, x);
                 if (x.is_int() && total.is_int())
                     total = Value(total.as_int() + x.as_int());
                 else
                     total = Value(total.as_float() + x.as_float());
                 in.step();
             }
             return total;
         }},
        {"min",
         [](Interpreter&, Value& v, Args& a) {
             List l = sorted(py_iterate(v), false, a.flag(0, "case_sensitive", false),
                             a.get(1, "attribute"));
             return l.empty() ? Value::undefined("min") : l.front();
         }},
        {"max",
         [](Interpreter&, Value& v, Args& a) {
             List l = sorted(py_iterate(v), true, a.flag(0, "case_sensitive", false),
                             a.get(1, "attribute"));
             return l.empty() ? Value::undefined("max") : l.front();
         }},
        {"count", [](Interpreter& in, Value& v, Args& a) { return in.filter("length", v, a.a); }},
        {"indent",
         [](Interpreter& in, Value& v, Args& a) {
             std::string out = indent_text(v.to_str(), a.get(0, "width", Value(int64_t(4))),
                                           a.flag(1, "first", false), a.flag(2, "blank", false));
             in.check_size(out.size());
             return Value(std::move(out));
         }},
        {"wordcount",
         [](Interpreter& in, Value& v, Args&) {
             Value s(v.to_str());
             CallArgs none;
             Value words = in.call(get_method(s, "split"), none);
             return Value(int64_t(words.list().size()));
         }},
        {"batch",
         [](Interpreter&, Value& v, Args& a) {
             const Value size = a.get(0, "linecount");
             if (!size.is_int() || size.as_int() <= 0) throw Error("batch: size must be positive");
             const Value fill = a.get(1, "fill_with", Value::none());
             List out, cur;
             for (const auto& item : py_iterate(v)) {
                 cur.push_back(item);
                 if (int64_t(cur.size()) == size.as_int()) {
                     out.emplace_back(std::move(cur));
                     cur = List{};
                 }
             }
             if (!cur.empty()) {
                 if (!fill.is_none())
                     while (int64_t(cur.size()) < size.as_int()) cur.push_back(fill);
                 out.emplace_back(std::move(cur));
             }
             return Value(std::move(out));
         }},
    };
    return kFilters;
}

using TestFn = bool (*)(Interpreter&, const Value&, Args&);

const std::unordered_map<std::string, TestFn>& tests() {
    static const std::unordered_map<std::string, TestFn> kTests = {
        {"defined", [](Interpreter&, const Value& v, Args&) { return !v.is_undefined(); }},
        {"undefined", [](Interpreter&, const Value& v, Args&) { return v.is_undefined(); }},
        {"none", [](Interpreter&, const Value& v, Args&) { return v.is_none(); }},
        {"boolean", [](Interpreter&, const Value& v, Args&) { return v.is_bool(); }},
        {"true", [](Interpreter&, const Value& v, Args&) { return v.is_bool() && v.as_bool(); }},
        {"false", [](Interpreter&, const Value& v, Args&) { return v.is_bool() && !v.as_bool(); }},
        {"integer", [](Interpreter&, const Value& v, Args&) { return v.is_int(); }},
        {"float", [](Interpreter&, const Value& v, Args&) { return v.is_float(); }},
        {"number",
         [](Interpreter&, const Value& v, Args&) { return v.is_number() || v.is_bool(); }},
        {"string", [](Interpreter&, const Value& v, Args&) { return v.is_string(); }},
        {"mapping",
         [](Interpreter&, const Value& v, Args&) { return v.is_dict() && !v.dict().is_namespace; }},
        {"iterable",
         [](Interpreter&, const Value& v, Args&) {
             return v.is_string() || v.is_list() || (v.is_dict() && !v.dict().is_namespace) ||
                    v.is_undefined();
         }},
        {"sequence",
         [](Interpreter&, const Value& v, Args&) {
             return v.is_string() || v.is_list() || (v.is_dict() && !v.dict().is_namespace) ||
                    v.is_undefined();
         }},
        {"callable", [](Interpreter&, const Value& v, Args&) { return v.is_callable(); }},
        {"odd",
         [](Interpreter&, const Value& v, Args&) { return v.is_int() && (v.as_int() % 2) != 0; }},
        {"even",
         [](Interpreter&, const Value& v, Args&) { return v.is_int() && (v.as_int() % 2) == 0; }},
        {"divisibleby",
         [](Interpreter&, const Value& v, Args& a) {
             const Value n = a.get(0, "num");
             if (!v.is_int() || !n.is_int() || n.as_int() == 0) return false;
             return v.as_int() % n.as_int() == 0;
         }},
        {"lower", [](Interpreter&, const Value& v,
                     Args&) { return v.is_string() && to_lower(v.as_string()) == v.as_string(); }},
        {"upper", [](Interpreter&, const Value& v,
                     Args&) { return v.is_string() && to_upper(v.as_string()) == v.as_string(); }},
        {"eq", [](Interpreter&, const Value& v, Args& a) { return v.equals(a.get(0, "other")); }},
        {"ne", [](Interpreter&, const Value& v, Args& a) { return !v.equals(a.get(0, "other")); }},
        {"lt", [](Interpreter&, const Value& v,
                  Args& a) { return py_compare(v, a.get(0, "other")) < 0; }},
        {"le", [](Interpreter&, const Value& v,
                  Args& a) { return py_compare(v, a.get(0, "other")) <= 0; }},
        {"gt", [](Interpreter&, const Value& v,
                  Args& a) { return py_compare(v, a.get(0, "other")) > 0; }},
        {"ge", [](Interpreter&, const Value& v,
                  Args& a) { return py_compare(v, a.get(0, "other")) >= 0; }},
        {"in",
         [](Interpreter&, const Value& v, Args& a) { return py_contains(a.get(0, "seq"), v); }},
        {"sameas",
         [](Interpreter&, const Value& v, Args& a) {
             const Value o = a.get(0, "other");
             if (v.type() != o.type()) return false;
             if (v.is_list()) return v.list_ptr() == o.list_ptr();
             if (v.is_dict()) return v.dict_ptr() == o.dict_ptr();
             return v.equals(o);
         }},
        {"escaped", [](Interpreter&, const Value&, Args&) { return false; }},
    };
    return kTests;
}

const char* test_alias(const std::string& name) {
    static const std::unordered_map<std::string, const char*> kAliases = {
        {"equalto", "eq"}, {"==", "eq"}, {"!=", "ne"},       {"<", "lt"},          {"<=", "le"},
        {">", "gt"},       {">=", "ge"}, {"lessthan", "lt"}, {"greaterthan", "gt"}};
    auto it = kAliases.find(name);
    return it == kAliases.end() ? nullptr : it->second;
}

// ---- globals ----

// strftime with English names, independent of the process locale.
std::string format_time(const std::string& fmt, const std::tm& t) {
    static const char* const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
    static const char* const kMonths[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
    auto two = [](int v) {
        char b[16];
        std::snprintf(b, sizeof b, "%02d", v);
        return std::string(b);
    };
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%' || i + 1 >= fmt.size()) {
            out += fmt[i];
            continue;
        }
        const char c = fmt[++i];
        const int wday = std::clamp(t.tm_wday, 0, 6), mon = std::clamp(t.tm_mon, 0, 11);
        switch (c) {
            case 'a':
                out += std::string(kDays[wday]).substr(0, 3);
                break;
            case 'A':
                out += kDays[wday];
                break;
            case 'b':
            case 'h':
                out += std::string(kMonths[mon]).substr(0, 3);
                break;
            case 'B':
                out += kMonths[mon];
                break;
            case 'd':
                out += two(t.tm_mday);
                break;
            case 'e': {
                char b[16];
                std::snprintf(b, sizeof b, "%2d", t.tm_mday);
                out += b;
                break;
            }
            case 'm':
                out += two(mon + 1);
                break;
            case 'Y':
                out += std::to_string(t.tm_year + 1900);
                break;
            case 'y':
                out += two((t.tm_year + 1900) % 100);
                break;
            case 'H':
                out += two(t.tm_hour);
                break;
            case 'I':
                out += two(t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12);
                break;
            case 'M':
                out += two(t.tm_min);
                break;
            case 'S':
                out += two(t.tm_sec);
                break;
            case 'p':
                out += t.tm_hour < 12 ? "AM" : "PM";
                break;
            case 'j': {
                char b[16];
                std::snprintf(b, sizeof b, "%03d", t.tm_yday + 1);
                out += b;
                break;
            }
            case 'w':
                out += std::to_string(wday);
                break;
            case 'u':
                out += std::to_string(wday == 0 ? 7 : wday);
                break;
            case 'F':
                out += std::to_string(t.tm_year + 1900) + "-" + two(mon + 1) + "-" + two(t.tm_mday);
                break;
            case 'D':
                out += two(mon + 1) + "/" + two(t.tm_mday) + "/" + two((t.tm_year + 1900) % 100);
                break;
            case 'T':
                out += two(t.tm_hour) + ":" + two(t.tm_min) + ":" + two(t.tm_sec);
                break;
            case 'R':
                out += two(t.tm_hour) + ":" + two(t.tm_min);
                break;
            case 'Z':
                break;
            case 'z':
                out += "+0000";
                break;
            case '%':
                out += '%';
                break;
            default:
                out += '%';
                out += c;
        }
    }
    return out;
}

std::tm current_time(const std::string& date) {
    std::tm t{};
    int y = 0, m = 0, d = 0;
    if (!date.empty() && std::sscanf(date.c_str(), "%d-%d-%d", &y, &m, &d) == 3) {
        t.tm_year = y - 1900;
        t.tm_mon = m - 1;
        t.tm_mday = d;
        t.tm_hour = 0;
        const time_t secs = timegm(&t);  // normalizes and fills tm_wday/tm_yday
        gmtime_r(&secs, &t);
        return t;
    }
    const time_t now = std::time(nullptr);
    localtime_r(&now, &t);
    return t;
}

using GlobalFn = Value (*)(Interpreter&, CallArgs&);

const std::unordered_map<std::string, GlobalFn>& global_functions() {
    static const std::unordered_map<std::string, GlobalFn> kGlobals = {
        {"range",
         [](Interpreter& in, CallArgs& a) {
             std::vector<int64_t> p;
             for (const auto& v : a.positional) {
                 if (!v.is_int() && !v.is_bool()) throw Error("range() arguments must be integers");
                 p.push_back(v.is_bool() ? int64_t(v.as_bool()) : v.as_int());
             }
             int64_t start = 0, stop = 0, step = 1;
             if (p.size() == 1)
                 stop = p[0];
             else if (p.size() == 2)
                 start = p[0], stop = p[1];
             else if (p.size() == 3)
                 start = p[0], stop = p[1], step = p[2];
             else
                 throw Error("range() takes 1 to 3 arguments");
             if (step == 0) throw Error("range() step must not be zero");
             const double count = std::ceil((double(stop) - double(start)) / double(step));
             if (count > double(in.limits().max_list_items)) throw Error("range() too large");
             List out;
             for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
             return Value(std::move(out));
         }},
        {"namespace",
         [](Interpreter&, CallArgs& a) {
             Dict d;
             d.is_namespace = true;
             for (const auto& v : a.positional)
                 if (v.is_dict())
                     for (const auto& [k, x] : v.dict().items()) d.set(k, x);
             for (const auto& [k, v] : a.named) d.set(k, v);
             return Value(std::move(d));
         }},
        {"dict",
         [](Interpreter&, CallArgs& a) {
             Dict d;
             for (const auto& v : a.positional)
                 if (v.is_dict())
                     for (const auto& [k, x] : v.dict().items()) d.set(k, x);
             for (const auto& [k, v] : a.named) d.set(k, v);
             return Value(std::move(d));
         }},
        {"raise_exception",
         [](Interpreter&, CallArgs& a) -> Value {
             throw Error(a.positional.empty() ? std::string("raise_exception() called")
                                              : a.positional[0].to_str());
         }},
        {"strftime_now",
         [](Interpreter& in, CallArgs& a) {
             if (a.positional.empty() || !a.positional[0].is_string())
                 throw Error("strftime_now() takes a format string");
             return Value(format_time(a.positional[0].as_string(), current_time(in.date())));
         }},
    };
    return kGlobals;
}

}  // namespace

Value apply_filter(Interpreter& in, const std::string& name, Value input, CallArgs& args) {
    const std::string& real = name == "d"   ? std::string("default")
                              : name == "e" ? std::string("escape")
                                            : name;
    auto it = filters().find(real);
    if (it == filters().end()) throw Error("unknown filter '" + name + "'");
    Args a{args, real};
    return it->second(in, input, a);
}

std::string format_date(const std::string& fmt, const std::string& date) {
    return format_time(fmt, current_time(date));
}

bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
    const char* alias = test_alias(name);
    const std::string real = alias ? alias : name;
    auto it = tests().find(real);
    if (it == tests().end()) throw Error("unknown test '" + name + "'");
    Args a{args, real};
    return it->second(in, input, a);
}

Value get_global_function(const std::string& name) {
    auto it = global_functions().find(name);
    if (it == global_functions().end()) return Value::undefined(name);
    const GlobalFn fn = it->second;
    return Value::callable(name, [fn](Interpreter& in, CallArgs& a) { return fn(in, a); });
}

}  // namespace folio::chat::jinja
