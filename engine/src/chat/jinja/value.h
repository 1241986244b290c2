#pragma once
// The dynamic value of the Jinja subset: Python-like undefined/None/bool/int/float/str/list/dict
// plus callables (macros, builtins, bound methods). Lists and dicts are shared by reference, as
// in Python, so `ns.items.append(x)` and namespace attribute assignment mutate in place.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace folio::chat::jinja {

class Value;
class Interpreter;

// A list; destroying a deeply nested structure does not recurse (see release_children).
struct List : std::vector<Value> {
    using std::vector<Value>::vector;
    List() = default;
    List(const List&) = default;
    List(List&&) = default;
    List& operator=(const List&) = default;
    List& operator=(List&&) = default;
    ~List();
};

// An insertion-ordered string-keyed map (Python dict order).
class Dict {
  public:
    const Value* find(std::string_view key) const;
    Value* find(std::string_view key);
    void set(const std::string& key, Value v);
    // Sets the value of the entry at `index` when its key is `key` (fast path for the loop
    // object); otherwise like set().
    void set_at(size_t index, const char* key, Value v);
    bool erase(std::string_view key);
    size_t size() const { return m_items.size(); }
    const std::vector<std::pair<std::string, Value>>& items() const { return m_items; }

    bool is_namespace = false;  // created by namespace(): attributes may be assigned

    Dict() = default;
    Dict(const Dict&) = default;
    Dict(Dict&&) = default;
    Dict& operator=(const Dict&) = default;
    Dict& operator=(Dict&&) = default;
    ~Dict();

  private:
    std::vector<std::pair<std::string, Value>> m_items;
    std::unordered_map<std::string, size_t> m_index;
};

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> named;
};

struct Callable {
    std::string name;
    std::function<Value(Interpreter&, CallArgs&)> fn;
};

enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict, Callable };

class Value {
  public:
    Value() = default;  // undefined
    static Value undefined(std::string name = {});
    static Value none();
    Value(bool b);
    Value(int64_t i);
    Value(int i) : Value(int64_t(i)) {}
    Value(double d);
    Value(std::string s);
    Value(const char* s) : Value(std::string(s)) {}
    Value(List l);
    Value(Dict d);
    static Value list_ref(std::shared_ptr<List> l);
    static Value dict_ref(std::shared_ptr<Dict> d);
    static Value callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);
    static Value from_json(const nlohmann::json& j);
    static Value from_json(const nlohmann::ordered_json& j);

    Type type() const { return m_type; }
    bool is_undefined() const { return m_type == Type::Undefined; }
    bool is_none() const { return m_type == Type::None; }
    bool is_bool() const { return m_type == Type::Bool; }
    bool is_int() const { return m_type == Type::Int; }
    bool is_float() const { return m_type == Type::Float; }
    bool is_number() const { return m_type == Type::Int || m_type == Type::Float; }
    bool is_string() const { return m_type == Type::String; }
    bool is_list() const { return m_type == Type::List; }
    bool is_dict() const { return m_type == Type::Dict; }
    bool is_callable() const { return m_type == Type::Callable; }

    bool as_bool() const { return m_bool; }
    int64_t as_int() const { return m_int; }
    double as_float() const { return m_type == Type::Int ? double(m_int) : m_float; }
    const std::string& as_string() const { return m_str; }  // also the name of an undefined
    List& list() const { return *m_list; }
    Dict& dict() const { return *m_dict; }
    const std::shared_ptr<List>& list_ptr() const { return m_list; }
    const std::shared_ptr<Dict>& dict_ptr() const { return m_dict; }
    const Callable& callable() const { return *m_callable; }

    // Python truthiness.
    bool truthy() const;
    // Python str(): what {{ value }} prints. Undefined prints as "".
    std::string to_str() const;
    // Python repr(): strings quoted, used inside containers.
    std::string repr(int depth = 0) const;
    // Python ==.
    bool equals(const Value& other, int depth = 0) const;
    const char* type_name() const;

  private:
    Type m_type = Type::Undefined;
    bool m_bool = false;
    int64_t m_int = 0;
    double m_float = 0;
    std::string m_str;
    std::shared_ptr<List> m_list;
    std::shared_ptr<Dict> m_dict;
    std::shared_ptr<const Callable> m_callable;
};

// Dict keys are strings; Python's other hashable keys (int, float, bool, None, as in
// `{0: 'a'}`) are stored as "\0" + a type letter + text. dict_key() throws std::runtime_error
// for unhashable values (lists, dicts).
std::string dict_key(const Value& key);
Value key_value(const std::string& key);       // the key as a value again
std::string key_text(const std::string& key);  // as json.dumps writes a key: 4096 → "4096"

// Python's repr() of a float ("1.0", "0.1", "1e+16").
std::string format_float(double d);

// Containers nested deeper than this are refused (repr, ==, tojson, JSON input).
constexpr int kMaxValueDepth = 512;

// json.dumps(value, indent, separators, ensure_ascii, sort_keys) as Python writes it; throws
// std::runtime_error for values JSON cannot hold (callables). Undefined serializes as null.
struct JsonFormat {
    int indent = -1;  // < 0: single line
    std::string item_sep = ", ";
    std::string key_sep = ": ";
    bool ensure_ascii = false;
    bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonFormat& fmt);
Value parse_json(const std::string& text);  // throws std::runtime_error

// UTF-8 helpers: code points of a string and back (invalid bytes map to U+FFFD's position-free
// passthrough: each invalid byte becomes one code point with its byte value).
std::vector<char32_t> decode_utf8(std::string_view s);
std::string encode_utf8(const std::vector<char32_t>& cps);
void append_utf8(std::string& out, char32_t cp);
size_t utf8_length(std::string_view s);

}  // namespace folio::chat::jinja
