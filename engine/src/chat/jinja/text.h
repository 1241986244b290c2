#pragma once
// Unicode-aware string helpers with Python's semantics (str.isspace, str.upper, str.title ...).
#include <string>

namespace folio::chat::jinja {

bool is_py_space(char32_t c);  // str.isspace() for one code point
bool is_py_alpha(char32_t c);  // a letter (Unicode category L*)
std::string to_upper(const std::string& s);
std::string to_lower(const std::string& s);
std::string capitalize(const std::string& s);  // str.capitalize(): first upper, rest lower
std::string py_title(const std::string& s);    // str.title()
std::string jinja_title(
    const std::string& s);  // the `title` filter (words split at space, -, ( ...)
std::string html_escape(const std::string& s);  // & < > " '

}  // namespace folio::chat::jinja
