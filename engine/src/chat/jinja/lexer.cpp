#include "chat/jinja/lexer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "chat/chat_template.h"
#include "chat/jinja/value.h"

namespace folio::chat::jinja {

SourceMap::SourceMap(std::string_view source) {
    m_line_starts.push_back(0);
    for (size_t i = 0; i < source.size(); ++i)
        if (source[i] == '\n') m_line_starts.push_back(i + 1);
}

std::string SourceMap::location(size_t offset) const {
    auto it = std::upper_bound(m_line_starts.begin(), m_line_starts.end(), offset);
    const size_t line = size_t(it - m_line_starts.begin());
    const size_t col = offset - m_line_starts[line - 1] + 1;
    return std::to_string(line) + ":" + std::to_string(col);
}

std::string normalize_source(std::string_view source) {
    std::string s;
    s.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r' && i + 1 < source.size() && source[i + 1] == '\n') continue;
        s += source[i];
    }
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class Lexer {
  public:
    Lexer(const std::string& src, const SourceMap& map) : m_src(src), m_map(map) {}

    std::vector<Token> run() {
        size_t pos = 0;
        bool lstrip_next = false;  // previous tag ended with '-'
        while (pos < m_src.size()) {
            const size_t open = find_open(pos);
            std::string text = m_src.substr(pos, open - pos);
            if (lstrip_next) {
                size_t k = 0;
                while (k < text.size() && is_space(text[k])) ++k;
                text.erase(0, k);
                lstrip_next = false;
            }
            if (open == m_src.size()) {
                push_text(std::move(text), pos);
                break;
            }
            const char kind = m_src[open + 1];  // '{', '%' or '#'
            const char mod = open + 2 < m_src.size() ? m_src[open + 2] : '\0';
            if (mod == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mod != '+' && (kind == '%' || kind == '#')) {
                lstrip_blocks(text, open);
            }
            push_text(std::move(text), pos);
            size_t p = open + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
            bool strip_after = false, keep_after = false;
            if (kind == '#') {
                size_t close = m_src.find("#}", p);
                if (close == std::string::npos) fail("unterminated comment", open);
                if (close > p && m_src[close - 1] == '-') strip_after = true;
                if (close > p && m_src[close - 1] == '+') keep_after = true;
                p = close + 2;
                pos = after_block(p, strip_after, keep_after, lstrip_next);
                continue;
            }
            const bool is_var = kind == '{';
            push(is_var ? Tok::VarBegin : Tok::BlockBegin, "", open);
            p = lex_tag(p, is_var, strip_after, keep_after, open);
            if (is_var) {
                lstrip_next = strip_after;
                pos = p;
            } else {
                pos = after_block(p, strip_after, keep_after, lstrip_next);
            }
        }
        push(Tok::Eof, "", m_src.size());
        return std::move(m_tokens);
    }

  private:
    [[noreturn]] void fail(const std::string& what, size_t offset) const {
        throw TemplateError("chat template " + m_map.location(offset) + ": " + what);
    }

    size_t find_open(size_t pos) const {
        while (true) {
            const size_t p = m_src.find('{', pos);
            if (p == std::string::npos || p + 1 >= m_src.size()) return m_src.size();
            const char c = m_src[p + 1];
            if (c == '{' || c == '%' || c == '#') return p;
            pos = p + 1;
        }
    }

    // lstrip_blocks: spaces and tabs between the start of the line and a block tag go.
    void lstrip_blocks(std::string& text, size_t open) const {
        size_t k = text.size();
        while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
        bool at_line_start;
        if (k > 0) {
            at_line_start = text[k - 1] == '\n';
        } else {
            const size_t start = open - text.size();
            at_line_start = start == 0 || m_src[start - 1] == '\n';
        }
        if (at_line_start) text.erase(k);
    }

    // trim_blocks: the first newline after a block tag goes; `-` strips all whitespace.
    size_t after_block(size_t p, bool strip_after, bool keep_after, bool& lstrip_next) const {
        lstrip_next = strip_after;
        if (!strip_after && !keep_after && p < m_src.size() && m_src[p] == '\n') ++p;
        return p;
    }

    void push_text(std::string text, size_t offset) {
        if (text.empty()) return;
        Token t;
        t.type = Tok::Text;
        t.text = std::move(text);
        t.offset = offset;
        m_tokens.push_back(std::move(t));
    }

    void push(Tok type, std::string text, size_t offset) {
        Token t;
        t.type = type;
        t.text = std::move(text);
        t.offset = offset;
        m_tokens.push_back(std::move(t));
    }

    size_t lex_tag(size_t p, bool is_var, bool& strip_after, bool& keep_after, size_t open) {
        const char close_ch = is_var ? '}' : '%';
        int depth = 0;  // brackets: `}}` inside a dict literal is not the end
        while (true) {
            while (p < m_src.size() && is_space(m_src[p])) ++p;
            if (p >= m_src.size()) fail(is_var ? "unterminated {{" : "unterminated {%", open);
            const char c = m_src[p];
            // end of tag, with optional -/+ modifier
            if (depth == 0) {
                if ((c == '-' || c == '+') && p + 2 < m_src.size() && m_src[p + 1] == close_ch &&
                    m_src[p + 2] == '}') {
                    if (c == '-')
                        strip_after = true;
                    else
                        keep_after = true;
                    push(is_var ? Tok::VarEnd : Tok::BlockEnd, "", p);
                    return p + 3;
                }
                if (c == close_ch && p + 1 < m_src.size() && m_src[p + 1] == '}') {
                    push(is_var ? Tok::VarEnd : Tok::BlockEnd, "", p);
                    return p + 2;
                }
            }
            if (is_name_start(c)) {
                size_t e = p;
                while (e < m_src.size() && is_name_char(m_src[e])) ++e;
                push(Tok::Name, m_src.substr(p, e - p), p);
                p = e;
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                p = lex_number(p);
            } else if (c == '\'' || c == '"') {
                p = lex_string(p);
            } else {
                static const char* const kOps2[] = {"//", "**", "==", "!=", "<=", ">="};
                std::string op(1, c);
                for (const char* o : kOps2)
                    if (m_src.compare(p, 2, o) == 0) op = o;
                if (op.size() == 1 &&
                    std::string_view("+-*/%~<>=()[]{},.:|!?").find(c) == std::string_view::npos)
                    fail(std::string("unexpected character '") + c + "'", p);
                if (op == "(" || op == "[" || op == "{") ++depth;
                if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
                push(Tok::Op, op, p);
                p += op.size();
            }
        }
    }

    size_t lex_number(size_t p) {
        size_t e = p;
        while (e < m_src.size() &&
               (std::isdigit(static_cast<unsigned char>(m_src[e])) || m_src[e] == '_'))
            ++e;
        bool is_float = false;
        if (e + 1 < m_src.size() && m_src[e] == '.' &&
            std::isdigit(static_cast<unsigned char>(m_src[e + 1]))) {
            is_float = true;
            ++e;
            while (e < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[e]))) ++e;
        }
        if (e < m_src.size() && (m_src[e] == 'e' || m_src[e] == 'E')) {
            size_t k = e + 1;
            if (k < m_src.size() && (m_src[k] == '+' || m_src[k] == '-')) ++k;
            if (k < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[k]))) {
                is_float = true;
                e = k;
                while (e < m_src.size() && std::isdigit(static_cast<unsigned char>(m_src[e]))) ++e;
            }
        }
        std::string digits;
        for (size_t i = p; i < e; ++i)
            if (m_src[i] != '_') digits += m_src[i];
        Token t;
        t.offset = p;
        t.text = digits;
        if (is_float) {
            t.type = Tok::Float;
            t.float_value = std::strtod(digits.c_str(), nullptr);
        } else {
            t.type = Tok::Int;
            errno = 0;
            const long long v = std::strtoll(digits.c_str(), nullptr, 10);
            if (errno == ERANGE) fail("integer literal out of range", p);
            t.int_value = v;
        }
        m_tokens.push_back(std::move(t));
        return e;
    }

    size_t lex_string(size_t p) {
        const char q = m_src[p];
        std::string out;
        size_t i = p + 1;
        while (true) {
            if (i >= m_src.size()) fail("unterminated string", p);
            const char c = m_src[i];
            if (c == q) break;
            if (c == '\\' && i + 1 < m_src.size()) {
                const char n = m_src[i + 1];
                i += 2;
                switch (n) {
                    case 'n':
                        out += '\n';
                        break;
                    case 't':
                        out += '\t';
                        break;
                    case 'r':
                        out += '\r';
                        break;
                    case 'b':
                        out += '\b';
                        break;
                    case 'f':
                        out += '\f';
                        break;
                    case 'v':
                        out += '\v';
                        break;
                    case '0':
                        out += '\0';
                        break;
                    case '\\':
                        out += '\\';
                        break;
                    case '\'':
                        out += '\'';
                        break;
                    case '"':
                        out += '"';
                        break;
                    case '\n':
                        break;  // line continuation
                    case 'x':
                    case 'u':
                    case 'U': {
                        const size_t len = n == 'x' ? 2 : n == 'u' ? 4 : 8;
                        if (i + len > m_src.size()) fail("bad escape in string", i - 2);
                        char32_t cp = 0;
                        for (size_t k = 0; k < len; ++k) {
                            const char h = m_src[i + k];
                            if (!std::isxdigit(static_cast<unsigned char>(h)))
                                fail("bad escape in string", i - 2);
                            cp = cp * 16 + char32_t(std::isdigit(static_cast<unsigned char>(h))
                                                        ? h - '0'
                                                        : (std::tolower(h) - 'a' + 10));
                        }
                        if (cp > 0x10FFFF) fail("bad escape in string", i - 2);
                        append_utf8(out, cp);
                        i += len;
                        break;
                    }
                    default:
                        out += '\\';
                        out += n;
                }
                continue;
            }
            out += c;
            ++i;
        }
        Token t;
        t.type = Tok::String;
        t.text = std::move(out);
        t.offset = p;
        m_tokens.push_back(std::move(t));
        return i + 1;
    }

    const std::string& m_src;
    const SourceMap& m_map;
    std::vector<Token> m_tokens;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const SourceMap& map) {
    return Lexer(source, map).run();
}

}  // namespace folio::chat::jinja
