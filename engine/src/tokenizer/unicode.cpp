#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <array>

namespace folio::unicode {

namespace {

uint16_t category_flags(utf8proc_category_t c) {
    switch (c) {
        case UTF8PROC_CATEGORY_CN:
            return CptFlags::UNDEFINED;
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
            return CptFlags::LETTER;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
            return CptFlags::ACCENT_MARK;
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return CptFlags::NUMBER;
        case UTF8PROC_CATEGORY_PC:
        case UTF8PROC_CATEGORY_PD:
        case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE:
        case UTF8PROC_CATEGORY_PI:
        case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
            return CptFlags::PUNCTUATION;
        case UTF8PROC_CATEGORY_SM:
        case UTF8PROC_CATEGORY_SC:
        case UTF8PROC_CATEGORY_SK:
        case UTF8PROC_CATEGORY_SO:
            return CptFlags::SYMBOL;
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
            return CptFlags::SEPARATOR;
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_CS:
        case UTF8PROC_CATEGORY_CO:
            return CptFlags::CONTROL;
    }
    return CptFlags::UNDEFINED;
}

CptFlags compute_flags(uint32_t cpt) {
    CptFlags f;
    if (cpt > 0x10FFFF) {
        f.bits = CptFlags::UNDEFINED;
        return f;
    }
    f.bits = category_flags(utf8proc_category(static_cast<utf8proc_int32_t>(cpt)));
    if (is_whitespace(cpt)) f.bits |= CptFlags::WHITESPACE;
    return f;
}

struct AsciiTable {
    std::array<CptFlags, 128> flags;
    AsciiTable() {
        for (uint32_t c = 0; c < 128; ++c) flags[c] = compute_flags(c);
    }
};

struct ByteTables {
    std::array<std::string, 256> byte_to_utf8;
    // Inverse over the codepoints used (all below 0x200).
    std::array<int16_t, 0x200> cpt_to_byte;
    ByteTables() {
        cpt_to_byte.fill(-1);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const uint32_t cpt = printable ? static_cast<uint32_t>(b) : 256u + n++;
            byte_to_utf8[b] = encode(cpt);
            cpt_to_byte[cpt] = static_cast<int16_t>(b);
        }
    }
};

const ByteTables& byte_tables() {
    static const ByteTables t;
    return t;
}

}  // namespace

bool is_whitespace(uint32_t cpt) {
    // Unicode White_Space property (PropList.txt), as llama.cpp's tables.
    if (cpt <= 0x20) return cpt == 0x20 || (cpt >= 0x09 && cpt <= 0x0D);
    if (cpt < 0x85) return false;
    switch (cpt) {
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
            return true;
        default:
            return cpt >= 0x2000 && cpt <= 0x200A;
    }
}

CptFlags cpt_flags(uint32_t cpt) {
    static const AsciiTable ascii;
    if (cpt < 128) return ascii.flags[cpt];
    return compute_flags(cpt);
}

uint32_t to_lower(uint32_t cpt) {
    if (cpt > 0x10FFFF) return cpt;
    return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cpt)));
}

uint32_t decode_one(std::string_view s, size_t& offset) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[offset + i]); };
    const auto cont = [&](size_t i) { return offset + i < s.size() && (byte(i) & 0xC0) == 0x80; };
    const uint8_t b0 = byte(0);
    if (!(b0 & 0x80)) {
        offset += 1;
        return b0;
    }
    if ((b0 & 0xE0) == 0xC0 && cont(1)) {
        const uint32_t c = ((b0 & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
        offset += 2;
        return c;
    }
    if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
        const uint32_t c = ((b0 & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
        offset += 3;
        return c;
    }
    if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
        const uint32_t c = ((b0 & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) |
                           ((byte(2) & 0x3Fu) << 6) | (byte(3) & 0x3Fu);
        if (c <= 0x10FFFF) {
            offset += 4;
            return c;
        }
    }
    offset += 1;
    return kReplacementChar;
}

std::vector<uint32_t> decode(std::string_view s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    size_t off = 0;
    while (off < s.size()) out.push_back(decode_one(s, off));
    return out;
}

void append_utf8(std::string& out, uint32_t cpt) {
    if (cpt < 0x80) {
        out.push_back(static_cast<char>(cpt));
    } else if (cpt < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else if (cpt < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else if (cpt <= 0x10FFFF) {
        out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else {
        append_utf8(out, kReplacementChar);
    }
}

std::string encode(uint32_t cpt) {
    std::string s;
    append_utf8(s, cpt);
    return s;
}

const std::string& byte_to_utf8(uint8_t byte) {
    return byte_tables().byte_to_utf8[byte];
}

int utf8_to_byte(std::string_view s) {
    if (s.empty()) return -1;
    size_t off = 0;
    const uint32_t cpt = decode_one(s, off);
    if (off != s.size() || cpt >= 0x200) return -1;
    return byte_tables().cpt_to_byte[cpt];
}

int utf8_sequence_status(std::string_view s, size_t* invalid_len) {
    if (invalid_len) *invalid_len = 1;
    if (s.empty()) return 0;
    const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
    const uint8_t b0 = b(0);
    if (b0 < 0x80) return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return -1;
    }
    for (size_t i = 1; i < need; ++i) {
        if (i >= s.size()) return 0;
        const uint8_t c = b(i);
        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
            if (invalid_len) *invalid_len = i;
            return -1;
        }
    }
    return static_cast<int>(need);
}

}  // namespace folio::unicode
