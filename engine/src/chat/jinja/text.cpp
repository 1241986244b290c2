#include "chat/jinja/text.h"

#include <utf8proc.h>

#include "chat/jinja/value.h"

namespace folio::chat::jinja {

bool is_py_space(char32_t c) {
    switch (c) {
        case ' ':
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case 0x1c:
        case 0x1d:
        case 0x1e:
        case 0x1f:
        case 0x85:
        case 0xa0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202f:
        case 0x205f:
        case 0x3000:
            return true;
        default:
            return c >= 0x2000 && c <= 0x200a;
    }
}

bool is_py_alpha(char32_t c) {
    if (c >= 0xDC80 && c <= 0xDCFF) return false;
    const auto cat = utf8proc_category(utf8proc_int32_t(c));
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
           cat == UTF8PROC_CATEGORY_LT || cat == UTF8PROC_CATEGORY_LM ||
           cat == UTF8PROC_CATEGORY_LO;
}

namespace {
char32_t upper(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
    if (c >= 0xDC80 && c <= 0xDCFF) return c;
    return char32_t(utf8proc_toupper(utf8proc_int32_t(c)));
}
char32_t lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xDC80 && c <= 0xDCFF) return c;
    return char32_t(utf8proc_tolower(utf8proc_int32_t(c)));
}
bool is_cased(char32_t c) {
    return upper(c) != c || lower(c) != c;
}
}  // namespace

std::string to_upper(const std::string& s) {
    auto cps = decode_utf8(s);
    for (auto& c : cps) c = upper(c);
    return encode_utf8(cps);
}

std::string to_lower(const std::string& s) {
    auto cps = decode_utf8(s);
    for (auto& c : cps) c = lower(c);
    return encode_utf8(cps);
}

std::string capitalize(const std::string& s) {
    auto cps = decode_utf8(s);
    for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? upper(cps[i]) : lower(cps[i]);
    return encode_utf8(cps);
}

std::string py_title(const std::string& s) {
    auto cps = decode_utf8(s);
    bool prev_cased = false;
    for (auto& c : cps) {
        c = prev_cased ? lower(c) : upper(c);
        prev_cased = is_cased(c);
    }
    return encode_utf8(cps);
}

std::string jinja_title(const std::string& s) {
    auto cps = decode_utf8(s);
    bool word_start = true;
    for (auto& c : cps) {
        const bool sep = is_py_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
        if (sep) {
            word_start = true;
            continue;
        }
        c = word_start ? upper(c) : lower(c);
        word_start = false;
    }
    return encode_utf8(cps);
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace folio::chat::jinja
