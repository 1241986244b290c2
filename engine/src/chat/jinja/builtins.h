#pragma once
// Filters, tests, global functions and methods of str/list/dict, with Python/Jinja2 semantics.
// All throw jinja::Error on misuse (wrong type, bad argument).
#include <string>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/value.h"

namespace folio::chat::jinja {

Value apply_filter(Interpreter& in, const std::string& name, Value input, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
// `obj.name` when name is a method of obj's type (str/list/dict); undefined otherwise.
Value get_method(const Value& obj, const std::string& name);
// range, namespace, dict, raise_exception, strftime_now, joiner/cycler-free subset.
Value get_global_function(const std::string& name);

// strftime(fmt) of `date` ("YYYY-MM-DD", midnight) or of the local time when empty; English
// month and day names whatever the process locale.
std::string format_date(const std::string& fmt, const std::string& date);

// Python semantics shared with the interpreter.
Value py_getitem(const Value& obj, const Value& key);  // undefined when absent
Value py_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
bool py_contains(const Value& container, const Value& item);
int py_compare(const Value& a, const Value& b);  // <0, 0, >0; Error when not ordered
List py_iterate(const Value& v);                 // list items, dict keys, string chars
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right);

}  // namespace folio::chat::jinja
