#pragma once
// Unicode helpers shared by the tokenizers. Stateless and thread-safe.
//
// Decoding follows llama.cpp's lenient rules so that token ids match it byte for byte: a lead byte
// followed by the right number of continuation bytes is accepted as is (overlong forms and
// surrogates included); anything else becomes U+FFFD and consumes one byte.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace folio::unicode {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Category flags of a codepoint, grouped like llama.cpp's unicode tables.
struct CptFlags {
    enum : uint16_t {
        UNDEFINED = 0x0001,    // Cn (unassigned)
        NUMBER = 0x0002,       // Nd Nl No
        LETTER = 0x0004,       // Lu Ll Lt Lm Lo
        SEPARATOR = 0x0008,    // Zs Zl Zp
        ACCENT_MARK = 0x0010,  // Mn Mc Me
        PUNCTUATION = 0x0020,  // Pc Pd Ps Pe Pi Pf Po
        SYMBOL = 0x0040,       // Sm Sc Sk So
        CONTROL = 0x0080,      // Cc Cf Cs Co
        WHITESPACE = 0x0100,   // Unicode White_Space property
    };
    uint16_t bits = 0;

    bool is_undefined() const { return bits & UNDEFINED; }
    bool is_number() const { return bits & NUMBER; }
    bool is_letter() const { return bits & LETTER; }
    bool is_separator() const { return bits & SEPARATOR; }
    bool is_accent_mark() const { return bits & ACCENT_MARK; }
    bool is_punctuation() const { return bits & PUNCTUATION; }
    bool is_symbol() const { return bits & SYMBOL; }
    bool is_control() const { return bits & CONTROL; }
    bool is_whitespace() const { return bits & WHITESPACE; }
    // The general-category part only (one of the first eight flags).
    uint16_t category() const { return bits & 0xFF; }
};

CptFlags cpt_flags(uint32_t cpt);
bool is_whitespace(uint32_t cpt);
uint32_t to_lower(uint32_t cpt);

// Length of the UTF-8 sequence announced by a lead byte (1 for ASCII and stray continuation bytes),
// from the high nibble only, as llama.cpp's SPM/BPE symbol splitting does.
inline size_t utf8_len(uint8_t lead) {
    static constexpr uint8_t kLookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLookup[lead >> 4];
}

// Decodes one codepoint at `offset` (advanced past it); invalid input yields U+FFFD, one byte.
uint32_t decode_one(std::string_view s, size_t& offset);
std::vector<uint32_t> decode(std::string_view s);
void append_utf8(std::string& out, uint32_t cpt);
std::string encode(uint32_t cpt);

// GPT-2 byte-level encoding: every byte maps to one printable codepoint.
// byte_to_utf8 returns that codepoint as UTF-8; utf8_to_byte is the inverse (-1 when `s` is not
// exactly one such codepoint).
const std::string& byte_to_utf8(uint8_t byte);
int utf8_to_byte(std::string_view s);

// Status of the UTF-8 sequence starting at s[0]: its length when complete and valid, 0 when it is a
// valid but incomplete prefix (more bytes could complete it), -1 when invalid (strict rules:
// no overlongs, no surrogates, nothing above U+10FFFF). For -1, `invalid_len` (when given) is the
// length of the maximal ill-formed subpart to replace by one U+FFFD (at least 1).
int utf8_sequence_status(std::string_view s, size_t* invalid_len = nullptr);

}  // namespace folio::unicode
