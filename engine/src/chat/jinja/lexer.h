#pragma once
// Splits a template into text and tag tokens, applying whitespace control the way Hugging Face
// and llama.cpp configure Jinja2: trim_blocks and lstrip_blocks on, `-` / `+` modifiers on tags,
// \r\n normalized to \n, and one trailing newline of the source dropped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace folio::chat::jinja {

enum class Tok {
    Text,        // literal output
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,
    String,
    Int,
    Float,
    Op,  // punctuation and operators: + - * / // % ** ~ == != < > <= >= = ( ) [ ] { } , . : |
    Eof,
};

struct Token {
    Tok type = Tok::Eof;
    std::string text;  // Text/Name/String (unescaped)/Op
    int64_t int_value = 0;
    double float_value = 0;
    size_t offset = 0;  // into the normalized source
};

class SourceMap {
  public:
    explicit SourceMap(std::string_view source);
    // "line:column", both 1-based.
    std::string location(size_t offset) const;

  private:
    std::vector<size_t> m_line_starts;
};

// Throws TemplateError (with line:column) on an unterminated tag, comment or string.
std::vector<Token> tokenize(const std::string& source, const SourceMap& map);

// The source as the lexer sees it (\r\n → \n, final newline removed).
std::string normalize_source(std::string_view source);

}  // namespace folio::chat::jinja
