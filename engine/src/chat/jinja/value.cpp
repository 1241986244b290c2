#include "chat/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace folio::chat::jinja {

// ---- iterative destruction ----

namespace {
thread_local bool t_draining = false;
thread_local std::vector<Value> t_pending;

// Moves children that would be destroyed with their parent onto a worklist drained by the
// outermost destructor, so that a list nested a million levels deep does not overflow the stack.
void release_child(Value& v) {
    if ((v.is_list() && v.list_ptr().use_count() == 1) ||
        (v.is_dict() && v.dict_ptr().use_count() == 1))
        t_pending.push_back(std::move(v));
}

void drain() {
    if (t_draining) return;
    t_draining = true;
    while (!t_pending.empty()) {
        Value v = std::move(t_pending.back());
        t_pending.pop_back();
    }
    t_draining = false;
}
}  // namespace

List::~List() {
    for (Value& v : *this) release_child(v);
    drain();
}

Dict::~Dict() {
    for (auto& kv : m_items) release_child(kv.second);
    drain();
}

// ---- Dict ----

const Value* Dict::find(std::string_view key) const {
    auto it = m_index.find(std::string(key));
    return it == m_index.end() ? nullptr : &m_items[it->second].second;
}

Value* Dict::find(std::string_view key) {
    auto it = m_index.find(std::string(key));
    return it == m_index.end() ? nullptr : &m_items[it->second].second;
}

void Dict::set(const std::string& key, Value v) {
    auto it = m_index.find(key);
    if (it != m_index.end()) {
        m_items[it->second].second = std::move(v);
        return;
    }
    m_index.emplace(key, m_items.size());
    m_items.emplace_back(key, std::move(v));
}

void Dict::set_at(size_t index, const char* key, Value v) {
    if (index < m_items.size() && m_items[index].first == key) {
        m_items[index].second = std::move(v);
        return;
    }
    set(key, std::move(v));
}

bool Dict::erase(std::string_view key) {
    auto it = m_index.find(std::string(key));
    if (it == m_index.end()) return false;
    m_items.erase(m_items.begin() + std::ptrdiff_t(it->second));
    m_index.clear();
    for (size_t i = 0; i < m_items.size(); ++i) m_index.emplace(m_items[i].first, i);
    return true;
}

// ---- Value ----

Value Value::undefined(std::string name) {
    Value v;
    v.m_str = std::move(name);
    return v;
}

Value Value::none() {
    Value v;
    v.m_type = Type::None;
    return v;
}

Value::Value(bool b) : m_type(Type::Bool), m_bool(b) {}
Value::Value(int64_t i) : m_type(Type::Int), m_int(i) {}
Value::Value(double d) : m_type(Type::Float), m_float(d) {}
Value::Value(std::string s) : m_type(Type::String), m_str(std::move(s)) {}
Value::Value(List l) : m_type(Type::List), m_list(std::make_shared<List>(std::move(l))) {}
Value::Value(Dict d) : m_type(Type::Dict), m_dict(std::make_shared<Dict>(std::move(d))) {}

Value Value::list_ref(std::shared_ptr<List> l) {
    Value v;
    v.m_type = Type::List;
    v.m_list = std::move(l);
    return v;
}

Value Value::dict_ref(std::shared_ptr<Dict> d) {
    Value v;
    v.m_type = Type::Dict;
    v.m_dict = std::move(d);
    return v;
}

Value Value::callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
    Value v;
    v.m_type = Type::Callable;
    v.m_callable = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
    return v;
}

namespace {
template <class J>
Value json_to_value(const J& j, int depth = 0) {
    if (depth > kMaxValueDepth) throw std::runtime_error("JSON value nested too deeply");
    switch (j.type()) {
        case nlohmann::json::value_t::null:
        case nlohmann::json::value_t::discarded:
            return Value::none();
        case nlohmann::json::value_t::boolean:
            return Value(j.template get<bool>());
        case nlohmann::json::value_t::number_integer:
            return Value(j.template get<int64_t>());
        case nlohmann::json::value_t::number_unsigned: {
            const auto u = j.template get<uint64_t>();
            if (u > uint64_t(INT64_MAX)) return Value(double(u));
            return Value(int64_t(u));
        }
        case nlohmann::json::value_t::number_float:
            return Value(j.template get<double>());
        case nlohmann::json::value_t::string:
            return Value(j.template get<std::string>());
        case nlohmann::json::value_t::array: {
            List l;
            l.reserve(j.size());
            for (const auto& e : j) l.push_back(json_to_value(e, depth + 1));
            return Value(std::move(l));
        }
        case nlohmann::json::value_t::object: {
            Dict d;
            for (auto it = j.begin(); it != j.end(); ++it)
                d.set(it.key(), json_to_value(it.value(), depth + 1));
            return Value(std::move(d));
        }
        case nlohmann::json::value_t::binary:
            return Value::none();
    }
    return Value::none();
}
}  // namespace

Value Value::from_json(const nlohmann::json& j) {
    return json_to_value(j);
}
Value Value::from_json(const nlohmann::ordered_json& j) {
    return json_to_value(j);
}

bool Value::truthy() const {
    switch (m_type) {
        case Type::Undefined:
        case Type::None:
            return false;
        case Type::Bool:
            return m_bool;
        case Type::Int:
            return m_int != 0;
        case Type::Float:
            return m_float != 0.0;
        case Type::String:
            return !m_str.empty();
        case Type::List:
            return !m_list->empty();
        case Type::Dict:
            return m_dict->size() != 0 || m_dict->is_namespace;
        case Type::Callable:
            return true;
    }
    return false;
}

std::string format_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    // Shortest round-trip digits, then Python's repr layout: positional for 1e-4 <= |d| < 1e16.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);  // e.g. "-1.2345e+02"
    const size_t e = sci.find('e');
    std::string mant = sci.substr(0, e);
    const int exp = std::stoi(sci.substr(e + 1));
    bool neg = false;
    if (!mant.empty() && mant[0] == '-') {
        neg = true;
        mant.erase(0, 1);
    }
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    std::string out;
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            if (int(digits.size()) <= exp + 1) {
                out = digits + std::string(size_t(exp + 1) - digits.size(), '0') + ".0";
            } else {
                out = digits.substr(0, size_t(exp + 1)) + "." + digits.substr(size_t(exp + 1));
            }
        } else {
            out = "0." + std::string(size_t(-exp - 1), '0') + digits;
        }
    } else {
        out = digits.substr(0, 1);
        if (digits.size() > 1) {
            out += '.';
            out.append(digits, 1, std::string::npos);
        }
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        out += eb;
    }
    return neg ? "-" + out : out;
}

namespace {
std::string py_quote(const std::string& s) {
    const bool has_single = s.find('\'') != std::string::npos;
    const bool has_double = s.find('"') != std::string::npos;
    const char q = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c == static_cast<unsigned char>(q)) {
                    out += '\\';
                    out += char(c);
                } else if (c < 0x20 || c == 0x7f) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\x%02x", c);
                    out += b;
                } else {
                    out += char(c);
                }
        }
    }
    out += q;
    return out;
}
}  // namespace

std::string Value::to_str() const {
    switch (m_type) {
        case Type::Undefined:
            return "";
        case Type::None:
            return "None";
        case Type::Bool:
            return m_bool ? "True" : "False";
        case Type::Int:
            return std::to_string(m_int);
        case Type::Float:
            return format_float(m_float);
        case Type::String:
            return m_str;
        case Type::List:
        case Type::Dict:
        case Type::Callable:
            return repr();
    }
    return "";
}

std::string dict_key(const Value& k) {
    switch (k.type()) {
        case Type::String:
            return k.as_string();
        case Type::Bool:
            return std::string("\0i", 2) + (k.as_bool() ? "1" : "0");
        case Type::Int:
            return std::string("\0i", 2) + std::to_string(k.as_int());
        case Type::Float: {
            const double d = k.as_float();
            if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18)
                return std::string("\0i", 2) + std::to_string(int64_t(d));
            return std::string("\0f", 2) + format_float(d);
        }
        case Type::None:
            return std::string("\0n", 2);
        default:
            throw std::runtime_error(std::string("unhashable type: '") + k.type_name() + "'");
    }
}

Value key_value(const std::string& key) {
    if (key.size() < 2 || key[0] != '\0') return Value(key);
    switch (key[1]) {
        case 'i':
            return Value(int64_t(std::stoll(key.substr(2))));
        case 'f':
            return Value(std::stod(key.substr(2)));
        case 'n':
            return Value::none();
        default:
            return Value(key);
    }
}

std::string key_text(const std::string& key) {
    if (key.size() < 2 || key[0] != '\0') return key;
    if (key[1] == 'n') return "null";
    return key.substr(2);
}

std::string Value::repr(int depth) const {
    if (depth > kMaxValueDepth) throw std::runtime_error("value nested too deeply to print");
    switch (m_type) {
        case Type::String:
            return py_quote(m_str);
        case Type::List: {
            std::string out = "[";
            for (size_t i = 0; i < m_list->size(); ++i) {
                if (i) out += ", ";
                out += (*m_list)[i].repr(depth + 1);
            }
            return out + "]";
        }
        case Type::Dict: {
            if (m_dict->is_namespace) return "<Namespace>";
            std::string out = "{";
            bool first = true;
            for (const auto& [k, v] : m_dict->items()) {
                if (!first) out += ", ";
                first = false;
                out += key_value(k).repr(depth + 1) + ": " + v.repr(depth + 1);
            }
            return out + "}";
        }
        case Type::Callable:
            return "<function " + m_callable->name + ">";
        default:
            return to_str();
    }
}

bool Value::equals(const Value& o, int depth) const {
    if (depth > kMaxValueDepth) throw std::runtime_error("value nested too deeply to compare");
    if (is_number() && o.is_number()) {
        if (is_int() && o.is_int()) return m_int == o.m_int;
        return as_float() == o.as_float();
    }
    if (is_bool() && o.is_number()) return Value(int64_t(m_bool)).equals(o);
    if (is_number() && o.is_bool()) return equals(Value(int64_t(o.m_bool)));
    if (m_type != o.m_type) return false;
    switch (m_type) {
        case Type::Undefined:
        case Type::None:
            return true;
        case Type::Bool:
            return m_bool == o.m_bool;
        case Type::String:
            return m_str == o.m_str;
        case Type::List: {
            if (m_list == o.m_list) return true;
            if (m_list->size() != o.m_list->size()) return false;
            for (size_t i = 0; i < m_list->size(); ++i)
                if (!(*m_list)[i].equals((*o.m_list)[i], depth + 1)) return false;
            return true;
        }
        case Type::Dict: {
            if (m_dict == o.m_dict) return true;
            if (m_dict->size() != o.m_dict->size()) return false;
            for (const auto& [k, v] : m_dict->items()) {
                const Value* ov = o.m_dict->find(k);
                if (!ov || !v.equals(*ov, depth + 1)) return false;
            }
            return true;
        }
        case Type::Callable:
            return m_callable == o.m_callable;
        default:
            return false;
    }
}

const char* Value::type_name() const {
    switch (m_type) {
        case Type::Undefined:
            return "undefined";
        case Type::None:
            return "NoneType";
        case Type::Bool:
            return "bool";
        case Type::Int:
            return "int";
        case Type::Float:
            return "float";
        case Type::String:
            return "str";
        case Type::List:
            return "list";
        case Type::Dict:
            return m_dict->is_namespace ? "Namespace" : "dict";
        case Type::Callable:
            return "function";
    }
    return "?";
}

// ---- UTF-8 ----

std::vector<char32_t> decode_utf8(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        int len = 0;
        char32_t cp = 0;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c >> 5) == 0x6) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c >> 4) == 0xe) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c >> 3) == 0x1e) {
            len = 4;
            cp = c & 0x07;
        }
        bool ok = len > 0 && i + size_t(len) <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + size_t(k)]);
            if ((cc >> 6) != 0x2) ok = false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (!ok) {
            out.push_back(0xDC00 + c);  // surrogate escape: re-encoded as the raw byte
            ++i;
            continue;
        }
        out.push_back(cp);
        i += size_t(len);
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp >= 0xDC80 && cp <= 0xDCFF) {
        out += char(cp - 0xDC00);
    } else if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3f));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    }
}

std::string encode_utf8(const std::vector<char32_t>& cps) {
    std::string out;
    out.reserve(cps.size());
    for (char32_t cp : cps) append_utf8(out, cp);
    return out;
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
    return n;
}

// ---- JSON ----

namespace {
// The JSON escape of a quote, backslash or control character; nullptr for other characters.
const char* json_short_escape(char32_t c) {
    switch (c) {
        case '"':
            return "\\\"";
        case '\\':
            return "\\\\";
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        case '\b':
            return "\\b";
        case '\f':
            return "\\f";
        default:
            return nullptr;
    }
}

// Python's json.dumps string quoting: with ensure_ascii every non-ASCII code point becomes \uXXXX
// (a surrogate pair above U+FFFF), without it UTF-8 passes through.
void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    char b[16];
    if (!ensure_ascii) {
        for (unsigned char c : s) {
            if (const char* e = json_short_escape(c)) {
                out += e;
            } else if (c < 0x20) {
                std::snprintf(b, sizeof b, "\\u%04x", c);
                out += b;
            } else {
                out += char(c);
            }
        }
    } else {
        for (char32_t cp : decode_utf8(s)) {
            if (const char* e = json_short_escape(cp)) {
                out += e;
            } else if (cp < 0x20 || (cp >= 0x7f && cp < 0x10000)) {
                std::snprintf(b, sizeof b, "\\u%04x", unsigned(cp));
                out += b;
            } else if (cp >= 0x10000) {
                const char32_t v = cp - 0x10000;
                std::snprintf(b, sizeof b, "\\u%04x\\u%04x", unsigned(0xD800 + (v >> 10)),
                              unsigned(0xDC00 + (v & 0x3ff)));
                out += b;
            } else {
                out += char(cp);
            }
        }
    }
    out += '"';
}

void json_value(std::string& out, const Value& v, const JsonFormat& fmt, int depth) {
    if (depth > kMaxValueDepth) throw std::runtime_error("tojson: value nested too deeply");
    auto newline = [&](int d) {
        if (fmt.indent < 0) return;
        out += '\n';
        out.append(size_t(fmt.indent) * size_t(d), ' ');
    };
    switch (v.type()) {
        case Type::Undefined:
        case Type::None:
            out += "null";
            return;
        case Type::Bool:
            out += v.as_bool() ? "true" : "false";
            return;
        case Type::Int:
            out += std::to_string(v.as_int());
            return;
        case Type::Float: {
            const double d = v.as_float();
            if (std::isnan(d))
                out += "NaN";
            else if (std::isinf(d))
                out += d > 0 ? "Infinity" : "-Infinity";
            else
                out += format_float(d);
            return;
        }
        case Type::String:
            json_string(out, v.as_string(), fmt.ensure_ascii);
            return;
        case Type::List: {
            const List& l = v.list();
            if (l.empty()) {
                out += "[]";
                return;
            }
            out += '[';
            for (size_t i = 0; i < l.size(); ++i) {
                if (i) out += fmt.item_sep;
                newline(depth + 1);
                json_value(out, l[i], fmt, depth + 1);
            }
            newline(depth);
            out += ']';
            return;
        }
        case Type::Dict: {
            const Dict& d = v.dict();
            if (d.size() == 0) {
                out += "{}";
                return;
            }
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& kv : d.items()) items.push_back(&kv);
            if (fmt.sort_keys)
                std::stable_sort(items.begin(), items.end(),
                                 [](auto* a, auto* b) { return a->first < b->first; });
            out += '{';
            bool first = true;
            for (const auto* kv : items) {
                if (!first) out += fmt.item_sep;
                first = false;
                newline(depth + 1);
                json_string(out, key_text(kv->first), fmt.ensure_ascii);
                out += fmt.key_sep;
                json_value(out, kv->second, fmt, depth + 1);
            }
            newline(depth);
            out += '}';
            return;
        }
        case Type::Callable:
            throw std::runtime_error("tojson: a function is not JSON serializable");
    }
}
}  // namespace

std::string to_json(const Value& v, const JsonFormat& fmt) {
    std::string out;
    json_value(out, v, fmt, 0);
    return out;
}

Value parse_json(const std::string& text) {
    try {
        return Value::from_json(nlohmann::ordered_json::parse(text));
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("from_json: ") + e.what());
    }
}

}  // namespace folio::chat::jinja
