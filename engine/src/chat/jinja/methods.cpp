// Python semantics shared by the interpreter and the builtins (indexing, slicing, `in`,
// ordering, iteration) and the methods of str, list and dict.
#include <utf8proc.h>
#include <algorithm>

#include "chat/jinja/builtins.h"
#include "chat/jinja/text.h"

namespace folio::chat::jinja {

namespace {

int64_t index_of(const Value& v) {
    if (v.is_bool()) return int64_t(v.as_bool());
    if (v.is_int()) return v.as_int();
    throw Error(std::string("indices must be integers, not ") + v.type_name());
}

// Python slice indices for a sequence of length n.
void slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step, int64_t& b,
                   int64_t& e, int64_t& s) {
    s = step.is_none() ? 1 : index_of(step);
    if (s == 0) throw Error("slice step cannot be zero");
    auto clamp = [&](const Value& v, int64_t dflt) {
        if (v.is_none()) return dflt;
        int64_t i = index_of(v);
        if (i < 0) i += n;
        if (s > 0) return std::clamp<int64_t>(i, 0, n);
        return std::clamp<int64_t>(i, -1, n - 1);
    };
    b = clamp(start, s > 0 ? 0 : n - 1);
    e = clamp(stop, s > 0 ? n : -1);
}

}  // namespace

Value py_getitem(const Value& obj, const Value& key) {
    if (obj.is_dict()) {
        if (key.is_list() || key.is_dict() || key.is_undefined() || key.is_callable())
            return Value::undefined();
        const Value* v = obj.dict().find(dict_key(key));
        return v ? *v : Value::undefined(key.to_str());
    }
    if (obj.is_list()) {
        if (!key.is_int() && !key.is_bool()) return Value::undefined();
        int64_t i = index_of(key);
        const auto n = int64_t(obj.list().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined();
        return obj.list()[size_t(i)];
    }
    if (obj.is_string()) {
        if (!key.is_int() && !key.is_bool()) return Value::undefined();
        const auto cps = decode_utf8(obj.as_string());
        int64_t i = index_of(key);
        const auto n = int64_t(cps.size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined();
        std::string out;
        append_utf8(out, cps[size_t(i)]);
        return Value(std::move(out));
    }
    return Value::undefined();
}

Value py_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    int64_t b, e, s;
    if (obj.is_list()) {
        const List& l = obj.list();
        slice_indices(int64_t(l.size()), start, stop, step, b, e, s);
        List out;
        for (int64_t i = b; s > 0 ? i < e : i > e; i += s) out.push_back(l[size_t(i)]);
        return Value(std::move(out));
    }
    if (obj.is_string()) {
        const auto cps = decode_utf8(obj.as_string());
        slice_indices(int64_t(cps.size()), start, stop, step, b, e, s);
        std::string out;
        for (int64_t i = b; s > 0 ? i < e : i > e; i += s) append_utf8(out, cps[size_t(i)]);
        return Value(std::move(out));
    }
    if (obj.is_undefined()) throw Error("'" + obj.as_string() + "' is undefined");
    throw Error(std::string("'") + obj.type_name() + "' object is not subscriptable");
}

bool py_contains(const Value& c, const Value& item) {
    if (c.is_string()) {
        if (!item.is_string())
            throw Error(std::string("'in <string>' requires string as left operand, not ") +
                        item.type_name());
        return c.as_string().find(item.as_string()) != std::string::npos;
    }
    if (c.is_list()) {
        for (const auto& v : c.list())
            if (v.equals(item)) return true;
        return false;
    }
    if (c.is_dict()) {
        if (item.is_list() || item.is_dict() || item.is_undefined() || item.is_callable())
            return false;
        return c.dict().find(dict_key(item)) != nullptr;
    }
    if (c.is_undefined()) return false;
    throw Error(std::string("argument of type '") + c.type_name() + "' is not iterable");
}

int py_compare(const Value& a, const Value& b) {
    const bool an = a.is_number() || a.is_bool(), bn = b.is_number() || b.is_bool();
    if (an && bn) {
        if ((a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool())) {
            const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
            const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        const double x = a.is_bool() ? a.as_bool() : a.as_float();
        const double y = b.is_bool() ? b.as_bool() : b.as_float();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        const int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_list() && b.is_list()) {
        const List& x = a.list();
        const List& y = b.list();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (x[i].equals(y[i])) continue;
            return py_compare(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    throw Error(std::string("'<' not supported between instances of '") + a.type_name() +
                "' and '" + b.type_name() + "'");
}

List py_iterate(const Value& v) {
    if (v.is_list()) return v.list();
    List out;
    if (v.is_dict()) {
        for (const auto& kv : v.dict().items()) out.push_back(key_value(kv.first));
    } else if (v.is_string()) {
        for (char32_t cp : decode_utf8(v.as_string())) {
            std::string s;
            append_utf8(s, cp);
            out.emplace_back(std::move(s));
        }
    } else if (!v.is_undefined()) {
        throw Error(std::string("'") + v.type_name() + "' object is not iterable");
    }
    return out;
}

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
    const auto cps = decode_utf8(s);
    std::vector<char32_t> set;
    const bool custom = chars.is_string();
    if (custom) set = decode_utf8(chars.as_string());
    auto strip_it = [&](char32_t c) {
        return custom ? std::find(set.begin(), set.end(), c) != set.end() : is_py_space(c);
    };
    size_t b = 0, e = cps.size();
    if (left)
        while (b < e && strip_it(cps[b])) ++b;
    if (right)
        while (e > b && strip_it(cps[e - 1])) --e;
    return encode_utf8(
        std::vector<char32_t>(cps.begin() + std::ptrdiff_t(b), cps.begin() + std::ptrdiff_t(e)));
}

namespace {

struct Args {
    CallArgs& a;
    const char* fn;
    Value get(size_t pos, const char* name, Value dflt = Value()) const {
        for (auto& [k, v] : a.named)
            if (k == name) return v;
        if (pos < a.positional.size()) return a.positional[pos];
        return dflt;
    }
    std::string str(size_t pos, const char* name) const {
        Value v = get(pos, name);
        if (!v.is_string())
            throw Error(std::string(fn) + "() argument '" + name + "' must be a string, not " +
                        v.type_name());
        return v.as_string();
    }
};

using MethodFn = Value (*)(Interpreter&, const Value& self, Args&);

Value bind(const Value& self, const std::string& name, MethodFn fn) {
    return Value::callable(name, [self, name, fn](Interpreter& in, CallArgs& call_args) {
        Args args{call_args, name.c_str()};
        return fn(in, self, args);
    });
}

// ---- str ----

Value str_split(Interpreter& in, const Value& self, Args& a, bool from_right) {
    const std::string& s = self.as_string();
    Value sep = a.get(0, "sep", Value::none());
    int64_t maxsplit = a.get(1, "maxsplit", Value(int64_t(-1))).as_int();
    List out;
    if (sep.is_none() || sep.is_undefined()) {
        const auto cps = decode_utf8(s);
        std::vector<std::pair<size_t, size_t>> words;
        size_t i = 0;
        while (i < cps.size()) {
            while (i < cps.size() && is_py_space(cps[i])) ++i;
            if (i >= cps.size()) break;
            size_t j = i;
            while (j < cps.size() && !is_py_space(cps[j])) ++j;
            words.emplace_back(i, j);
            i = j;
        }
        auto piece = [&](size_t b, size_t e) {
            return encode_utf8(std::vector<char32_t>(cps.begin() + std::ptrdiff_t(b),
                                                     cps.begin() + std::ptrdiff_t(e)));
        };
        if (maxsplit < 0 || size_t(maxsplit) >= words.size()) {
            for (auto [b, e] : words) out.emplace_back(piece(b, e));
        } else if (!from_right) {
            for (size_t k = 0; k < size_t(maxsplit); ++k)
                out.emplace_back(piece(words[k].first, words[k].second));
            size_t rest = words[size_t(maxsplit)].first;
            size_t end = cps.size();
            while (end > rest && is_py_space(cps[end - 1])) --end;
            out.emplace_back(piece(rest, end));
        } else {
            const size_t first_kept = words.size() - size_t(maxsplit);
            size_t b = 0;
            while (b < cps.size() && is_py_space(cps[b])) ++b;
            out.emplace_back(piece(b, words[first_kept - 1].second));
            for (size_t k = first_kept; k < words.size(); ++k)
                out.emplace_back(piece(words[k].first, words[k].second));
        }
        return Value(std::move(out));
    }
    if (!sep.is_string()) throw Error("split() separator must be a string");
    const std::string& d = sep.as_string();
    if (d.empty()) throw Error("empty separator");
    std::vector<std::string> parts;
    if (!from_right) {
        size_t pos = 0;
        int64_t n = 0;
        while (maxsplit < 0 || n < maxsplit) {
            const size_t hit = s.find(d, pos);
            if (hit == std::string::npos) break;
            parts.push_back(s.substr(pos, hit - pos));
            pos = hit + d.size();
            ++n;
            in.step();
        }
        parts.push_back(s.substr(pos));
    } else {
        size_t end = s.size();
        int64_t n = 0;
        std::vector<std::string> rev;
        while (maxsplit < 0 || n < maxsplit) {
            if (end < d.size()) break;
            const size_t hit = s.rfind(d, end - d.size());
            if (hit == std::string::npos) break;
            rev.push_back(s.substr(hit + d.size(), end - hit - d.size()));
            end = hit;
            ++n;
            in.step();
        }
        rev.push_back(s.substr(0, end));
        parts.assign(rev.rbegin(), rev.rend());
    }
    for (auto& p : parts) out.emplace_back(std::move(p));
    return Value(std::move(out));
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
    auto one = [&](const Value& v) {
        if (!v.is_string()) throw Error("startswith/endswith takes a string or a tuple of strings");
        const std::string& x = v.as_string();
        if (x.size() > s.size()) return false;
        return prefix ? s.compare(0, x.size(), x) == 0
                      : s.compare(s.size() - x.size(), x.size(), x) == 0;
    };
    if (affix.is_list()) {
        for (const auto& v : affix.list())
            if (one(v)) return true;
        return false;
    }
    return one(affix);
}

std::string replace_all(Interpreter& in, const std::string& s, const std::string& from,
                        const std::string& to, int64_t count) {
    std::string out;
    if (from.empty()) {
        // Python inserts `to` between every character (and at both ends)
        const auto cps = decode_utf8(s);
        int64_t n = 0;
        for (size_t i = 0; i <= cps.size(); ++i) {
            if (count < 0 || n < count) {
                out += to;
                ++n;
            }
            if (i < cps.size()) append_utf8(out, cps[i]);
            in.check_size(out.size());
        }
        return out;
    }
    size_t pos = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
        const size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s, pos, hit - pos);
        out += to;
        in.check_size(out.size());
        pos = hit + from.size();
        ++n;
    }
    out.append(s, pos, std::string::npos);
    in.check_size(out.size());
    return out;
}

// Python str.format: {} {0} {name} and {{ }}; format specs are ignored.
std::string py_format(Interpreter& in, const std::string& fmt, CallArgs& a) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        const char c = fmt[i];
        if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            ++i;
        } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out += '}';
            ++i;
        } else if (c == '{') {
            const size_t close = fmt.find('}', i);
            if (close == std::string::npos) throw Error("format: single '{' in format string");
            std::string field = fmt.substr(i + 1, close - i - 1);
            const size_t colon = field.find_first_of(":!");
            if (colon != std::string::npos) field.resize(colon);
            Value v;
            if (field.empty()) {
                if (auto_index >= a.positional.size()) throw Error("format: index out of range");
                v = a.positional[auto_index++];
            } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
                const size_t k = std::stoul(field);
                if (k >= a.positional.size()) throw Error("format: index out of range");
                v = a.positional[k];
            } else {
                bool found = false;
                for (auto& [k, val] : a.named)
                    if (k == field) {
                        v = val;
                        found = true;
                    }
                if (!found) throw Error("format: no argument named '" + field + "'");
            }
            out += v.to_str();
            in.check_size(out.size());
            i = close;
        } else if (c == '}') {
            throw Error("format: single '}' in format string");
        } else {
            out += c;
        }
    }
    return out;
}

Value str_method(const Value& self, const std::string& name) {
    static const std::unordered_map<std::string, MethodFn> kMethods = {
        {"strip",
         [](Interpreter&, const Value& s, Args& a) {
             return Value(py_strip(s.as_string(), a.get(0, "chars"), true, true));
         }},
        {"lstrip",
         [](Interpreter&, const Value& s, Args& a) {
             return Value(py_strip(s.as_string(), a.get(0, "chars"), true, false));
         }},
        {"rstrip",
         [](Interpreter&, const Value& s, Args& a) {
             return Value(py_strip(s.as_string(), a.get(0, "chars"), false, true));
         }},
        {"split",
         [](Interpreter& in, const Value& s, Args& a) { return str_split(in, s, a, false); }},
        {"rsplit",
         [](Interpreter& in, const Value& s, Args& a) { return str_split(in, s, a, true); }},
        {"splitlines",
         [](Interpreter& in, const Value& s, Args&) {
             List out;
             const std::string& str = s.as_string();
             size_t pos = 0;
             while (pos < str.size()) {
                 size_t e = str.find_first_of("\r\n", pos);
                 if (e == std::string::npos) {
                     out.emplace_back(str.substr(pos));
                     break;
                 }
                 out.emplace_back(str.substr(pos, e - pos));
                 pos = e + ((str[e] == '\r' && e + 1 < str.size() && str[e + 1] == '\n') ? 2 : 1);
                 in.step();
             }
             return Value(std::move(out));
         }},
        {"startswith",
         [](Interpreter&, const Value& s, Args& a) {
             return Value(affix_match(s.as_string(), a.get(0, "prefix"), true));
         }},
        {"endswith",
         [](Interpreter&, const Value& s, Args& a) {
             return Value(affix_match(s.as_string(), a.get(0, "suffix"), false));
         }},
        {"upper",
         [](Interpreter&, const Value& s, Args&) { return Value(to_upper(s.as_string())); }},
        {"lower",
         [](Interpreter&, const Value& s, Args&) { return Value(to_lower(s.as_string())); }},
        {"title",
         [](Interpreter&, const Value& s, Args&) { return Value(py_title(s.as_string())); }},
        {"capitalize",
         [](Interpreter&, const Value& s, Args&) { return Value(capitalize(s.as_string())); }},
        {"replace",
         [](Interpreter& in, const Value& s, Args& a) {
             const Value count = a.get(2, "count", Value(int64_t(-1)));
             return Value(replace_all(in, s.as_string(), a.str(0, "old"), a.str(1, "new"),
                                      count.is_int() ? count.as_int() : -1));
         }},
        {"find",
         [](Interpreter&, const Value& s, Args& a) {
             const size_t p = s.as_string().find(a.str(0, "sub"));
             return Value(p == std::string::npos
                              ? int64_t(-1)
                              : int64_t(utf8_length(std::string_view(s.as_string()).substr(0, p))));
         }},
        {"rfind",
         [](Interpreter&, const Value& s, Args& a) {
             const size_t p = s.as_string().rfind(a.str(0, "sub"));
             return Value(p == std::string::npos
                              ? int64_t(-1)
                              : int64_t(utf8_length(std::string_view(s.as_string()).substr(0, p))));
         }},
        {"count",
         [](Interpreter&, const Value& s, Args& a) {
             const std::string sub = a.str(0, "sub");
             if (sub.empty()) return Value(int64_t(utf8_length(s.as_string()) + 1));
             int64_t n = 0;
             for (size_t p = s.as_string().find(sub); p != std::string::npos;
                  p = s.as_string().find(sub, p + sub.size()))
                 ++n;
             return Value(n);
         }},
        {"join",
         [](Interpreter& in, const Value& s, Args& a) {
             std::string out;
             bool first = true;
             for (const auto& v : py_iterate(a.get(0, "iterable"))) {
                 if (!first) out += s.as_string();
                 first = false;
                 out += v.to_str();
                 in.check_size(out.size());
             }
             return Value(std::move(out));
         }},
        {"format", [](Interpreter& in, const Value& s,
                      Args& a) { return Value(py_format(in, s.as_string(), a.a)); }},
        {"removeprefix",
         [](Interpreter&, const Value& s, Args& a) {
             const std::string p = a.str(0, "prefix");
             const std::string& str = s.as_string();
             return Value(str.compare(0, p.size(), p) == 0 ? str.substr(p.size()) : str);
         }},
        {"removesuffix",
         [](Interpreter&, const Value& s, Args& a) {
             const std::string p = a.str(0, "suffix");
             const std::string& str = s.as_string();
             const bool ends =
                 p.size() <= str.size() && str.compare(str.size() - p.size(), p.size(), p) == 0;
             return Value(ends && !p.empty() ? str.substr(0, str.size() - p.size()) : str);
         }},
        {"isdigit",
         [](Interpreter&, const Value& s, Args&) {
             const std::string& str = s.as_string();
             return Value(!str.empty() && std::all_of(str.begin(), str.end(), ::isdigit));
         }},
        {"isalpha",
         [](Interpreter&, const Value& s, Args&) {
             const auto cps = decode_utf8(s.as_string());
             return Value(!cps.empty() && std::all_of(cps.begin(), cps.end(), is_py_alpha));
         }},
        {"isalnum",
         [](Interpreter&, const Value& s, Args&) {
             const auto cps = decode_utf8(s.as_string());
             return Value(!cps.empty() && std::all_of(cps.begin(), cps.end(), [](char32_t c) {
                 return is_py_alpha(c) || (c >= '0' && c <= '9');
             }));
         }},
        {"isspace",
         [](Interpreter&, const Value& s, Args&) {
             const auto cps = decode_utf8(s.as_string());
             return Value(!cps.empty() && std::all_of(cps.begin(), cps.end(), is_py_space));
         }},
        {"isupper",
         [](Interpreter&, const Value& s, Args&) {
             const std::string& str = s.as_string();
             return Value(to_upper(str) == str && to_lower(str) != str);
         }},
        {"islower",
         [](Interpreter&, const Value& s, Args&) {
             const std::string& str = s.as_string();
             return Value(to_lower(str) == str && to_upper(str) != str);
         }},
    };
    auto it = kMethods.find(name);
    return it == kMethods.end() ? Value::undefined(name) : bind(self, name, it->second);
}

// ---- list ----

Value list_method(const Value& self, const std::string& name) {
    static const std::unordered_map<std::string, MethodFn> kMethods = {
        {"append",
         [](Interpreter& in, const Value& s, Args& a) {
             if (s.list().size() >= in.limits().max_list_items) throw Error("list too large");
             s.list().push_back(a.get(0, "item"));
             return Value::none();
         }},
        {"extend",
         [](Interpreter& in, const Value& s, Args& a) {
             List items = py_iterate(a.get(0, "iterable"));
             if (s.list().size() + items.size() > in.limits().max_list_items)
                 throw Error("list too large");
             s.list().insert(s.list().end(), items.begin(), items.end());
             return Value::none();
         }},
        {"insert",
         [](Interpreter& in, const Value& s, Args& a) {
             if (s.list().size() >= in.limits().max_list_items) throw Error("list too large");
             const Value idx = a.get(0, "index");
             if (!idx.is_int()) throw Error("insert() index must be an integer");
             auto n = int64_t(s.list().size());
             int64_t i = idx.as_int();
             if (i < 0) i = std::max<int64_t>(0, i + n);
             i = std::min(i, n);
             s.list().insert(s.list().begin() + i, a.get(1, "object"));
             return Value::none();
         }},
        {"pop",
         [](Interpreter&, const Value& s, Args& a) {
             List& l = s.list();
             if (l.empty()) throw Error("pop from empty list");
             const Value idx = a.get(0, "index", Value(int64_t(-1)));
             if (!idx.is_int()) throw Error("pop() index must be an integer");
             int64_t i = idx.as_int();
             if (i < 0) i += int64_t(l.size());
             if (i < 0 || i >= int64_t(l.size())) throw Error("pop index out of range");
             Value v = l[size_t(i)];
             l.erase(l.begin() + i);
             return v;
         }},
        {"remove",
         [](Interpreter&, const Value& s, Args& a) {
             List& l = s.list();
             const Value x = a.get(0, "value");
             for (size_t i = 0; i < l.size(); ++i)
                 if (l[i].equals(x)) {
                     l.erase(l.begin() + std::ptrdiff_t(i));
                     return Value::none();
                 }
             throw Error("list.remove(x): x not in list");
         }},
        {"index",
         [](Interpreter&, const Value& s, Args& a) {
             const Value x = a.get(0, "value");
             for (size_t i = 0; i < s.list().size(); ++i)
                 if (s.list()[i].equals(x)) return Value(int64_t(i));
             throw Error("list.index(x): x not in list");
         }},
        {"count",
         [](Interpreter&, const Value& s, Args& a) {
             const Value x = a.get(0, "value");
             int64_t n = 0;
             for (const auto& v : s.list()) n += v.equals(x) ? 1 : 0;
             return Value(n);
         }},
        {"reverse",
         [](Interpreter&, const Value& s, Args&) {
             std::reverse(s.list().begin(), s.list().end());
             return Value::none();
         }},
        {"copy", [](Interpreter&, const Value& s, Args&) { return Value(List(s.list())); }},
        {"clear",
         [](Interpreter&, const Value& s, Args&) {
             s.list().clear();
             return Value::none();
         }},
    };
    auto it = kMethods.find(name);
    return it == kMethods.end() ? Value::undefined(name) : bind(self, name, it->second);
}

// ---- dict ----

Value dict_items(const Dict& d) {
    List out;
    for (const auto& [k, v] : d.items()) out.emplace_back(List{key_value(k), v});
    return Value(std::move(out));
}

Value dict_method(const Value& self, const std::string& name) {
    static const std::unordered_map<std::string, MethodFn> kMethods = {
        {"get",
         [](Interpreter&, const Value& s, Args& a) {
             const Value key = a.get(0, "key");
             const Value* v = key.is_list() || key.is_dict() || key.is_undefined()
                                  ? nullptr
                                  : s.dict().find(dict_key(key));
             return v ? *v : a.get(1, "default", Value::none());
         }},
        {"items", [](Interpreter&, const Value& s, Args&) { return dict_items(s.dict()); }},
        {"keys",
         [](Interpreter&, const Value& s, Args&) {
             List out;
             for (const auto& kv : s.dict().items()) out.push_back(key_value(kv.first));
             return Value(std::move(out));
         }},
        {"values",
         [](Interpreter&, const Value& s, Args&) {
             List out;
             for (const auto& kv : s.dict().items()) out.push_back(kv.second);
             return Value(std::move(out));
         }},
        {"pop",
         [](Interpreter&, const Value& s, Args& a) {
             const Value key = a.get(0, "key");
             const Value* v = key.is_list() || key.is_dict() || key.is_undefined()
                                  ? nullptr
                                  : s.dict().find(dict_key(key));
             if (!v) {
                 if (a.a.positional.size() > 1 || !a.a.named.empty()) return a.get(1, "default");
                 throw Error("KeyError: " + key.repr());
             }
             Value out = *v;
             s.dict().erase(dict_key(key));
             return out;
         }},
        {"setdefault",
         [](Interpreter&, const Value& s, Args& a) {
             const Value key = a.get(0, "key");
             if (const Value* v = s.dict().find(dict_key(key))) return *v;
             Value d = a.get(1, "default", Value::none());
             s.dict().set(dict_key(key), d);
             return d;
         }},
        {"update",
         [](Interpreter&, const Value& s, Args& a) {
             if (!a.a.positional.empty()) {
                 const Value& other = a.a.positional[0];
                 if (!other.is_dict()) throw Error("update() expects a dict");
                 for (const auto& [k, v] : other.dict().items()) s.dict().set(k, v);
             }
             for (const auto& [k, v] : a.a.named) s.dict().set(k, v);
             return Value::none();
         }},
        {"copy",
         [](Interpreter&, const Value& s, Args&) {
             Dict d = s.dict();
             d.is_namespace = false;
             return Value(std::move(d));
         }},
    };
    auto it = kMethods.find(name);
    return it == kMethods.end() ? Value::undefined(name) : bind(self, name, it->second);
}

}  // namespace

Value get_method(const Value& obj, const std::string& name) {
    if (obj.is_string()) return str_method(obj, name);
    if (obj.is_list()) return list_method(obj, name);
    if (obj.is_dict()) return dict_method(obj, name);
    return Value::undefined(name);
}

}  // namespace folio::chat::jinja
