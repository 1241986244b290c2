// Hand-written splitters with the exact behaviour of llama.cpp's custom ones: the two most common
// pre-tokenizer regexes (gpt2, llama3; its .out test files encode them), Kimi-K2's pattern and the
// AFMoE digit grouping.
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace folio {

namespace {

constexpr uint32_t kOutOfRange = 0xFFFFFFFF;

// Walks one piece [begin, end) of the codepoints, emitting sub-pieces.
class PieceCursor {
  public:
    PieceCursor(const std::vector<uint32_t>& cpts, size_t begin, size_t end,
                std::vector<size_t>& out)
        : m_cpts(cpts), m_begin(begin), m_end(end), m_prev_end(begin), m_out(out) {}

    uint32_t cpt(size_t pos) const {
        return (pos >= m_begin && pos < m_end) ? m_cpts[pos] : kOutOfRange;
    }
    unicode::CptFlags flags(size_t pos) const {
        return (pos >= m_begin && pos < m_end) ? unicode::cpt_flags(m_cpts[pos])
                                               : unicode::CptFlags{};
    }
    // Ends the current sub-piece at `end`; returns its length.
    size_t add(size_t end) {
        const size_t len = end - m_prev_end;
        if (len > 0) m_out.push_back(len);
        m_prev_end = end;
        return len;
    }
    size_t end() const { return m_end; }

  private:
    const std::vector<uint32_t>& m_cpts;
    size_t m_begin, m_end, m_prev_end;
    std::vector<size_t>& m_out;
};

// Runs `step` over every piece of every pre-split fragment: step(cursor, pos) consumes at least
// one code point at pos (adding the piece boundaries it finds) and returns where it stopped.
template <typename Step>
std::vector<size_t> split_pieces(const std::vector<uint32_t>& cpts,
                                 const std::vector<size_t>& offsets, Step step) {
    std::vector<size_t> out;
    out.reserve(offsets.size());
    size_t start = 0;
    for (size_t len : offsets) {
        PieceCursor c(cpts, start, start + len, out);
        for (size_t pos = start; pos < c.end();) pos = step(c, pos);
        start += len;
    }
    return out;
}

bool is_rn(uint32_t c) {
    return c == '\r' || c == '\n';
}

// 's|'t|'re|'ve|'m|'ll|'d  (case-insensitive when `fold`): length of the match at pos, or 0.
size_t contraction(const PieceCursor& c, size_t pos, bool fold) {
    if (c.cpt(pos) != '\'' || pos + 1 >= c.end()) return 0;
    const auto get = [&](size_t p) { return fold ? unicode::to_lower(c.cpt(p)) : c.cpt(p); };
    const uint32_t n1 = get(pos + 1);
    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return 2;
    if (pos + 2 < c.end()) {
        const uint32_t n2 = get(pos + 2);
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l'))
            return 3;
    }
    return 0;
}

bool not_ws_letter_number(unicode::CptFlags f) {
    return !(f.is_whitespace() || f.is_letter() || f.is_number());
}

// ` ?[^\s\p{L}\p{N}]+[\r\n]*` at pos: end of the match, or pos when none.
size_t symbol_run(const PieceCursor& c, size_t pos) {
    const uint32_t cpt = c.cpt(pos);
    auto flags2 = cpt == ' ' ? c.flags(pos + 1) : c.flags(pos);
    if (!(not_ws_letter_number(flags2) && c.flags(pos).bits)) return pos;
    pos += (cpt == ' ');
    while (not_ws_letter_number(flags2) && flags2.bits) flags2 = c.flags(++pos);
    while (is_rn(c.cpt(pos))) ++pos;
    return pos;
}

// `\s*[\r\n]+|\s+(?!\S)|\s+` at pos: end of the match, or pos when none.
size_t whitespace_run(const PieceCursor& c, size_t pos) {
    size_t num_ws = 0;
    size_t last_rn_end = 0;
    while (c.flags(pos + num_ws).is_whitespace()) {
        if (is_rn(c.cpt(pos + num_ws))) last_rn_end = pos + num_ws + 1;
        ++num_ws;
    }
    if (last_rn_end > 0) return last_rn_end;
    if (num_ws > 1 && c.cpt(pos + num_ws) != kOutOfRange) return pos + num_ws - 1;
    return pos + num_ws;
}

// `\p{N}{1,3}` repeated over a run of numbers starting at pos; returns the run's end.
size_t numbers_by_three(PieceCursor& c, size_t pos) {
    size_t ini = pos;
    while (c.flags(pos).is_number()) {
        if (++pos - ini >= 3) {
            c.add(pos);
            ini = pos;
        }
    }
    c.add(pos);
    return pos;
}

}  // namespace

bool is_han(uint32_t cpt) {
    static constexpr uint32_t kRanges[][2] = {
        {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xF900, 0xFAFF},
        {0x20000, 0x2A6DF}, {0x2A700, 0x2B73F}, {0x2B740, 0x2B81F},
        {0x2B820, 0x2CEAF}, {0x2CEB0, 0x2EBEF}, {0x2F800, 0x2FA1F},
    };
    for (const auto& r : kRanges)
        if (cpt >= r[0] && cpt <= r[1]) return true;
    return false;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::vector<size_t> split_gpt2(const std::vector<uint32_t>& cpts,
                               const std::vector<size_t>& offsets) {
    return split_pieces(cpts, offsets, [&](PieceCursor& c, size_t pos) -> size_t {
        const uint32_t cpt = c.cpt(pos);
        const auto flags = c.flags(pos);

        if (size_t n = contraction(c, pos, false)) {
            pos += c.add(pos + n);
            return pos;
        }

        auto flags2 = cpt == ' ' ? c.flags(pos + 1) : flags;
        if (flags2.is_letter()) {  // <space>?\p{L}+
            pos += (cpt == ' ');
            while (flags2.is_letter()) flags2 = c.flags(++pos);
            c.add(pos);
            return pos;
        }
        if (flags2.is_number()) {  // <space>?\p{N}+
            pos += (cpt == ' ');
            while (flags2.is_number()) flags2 = c.flags(++pos);
            c.add(pos);
            return pos;
        }
        if (not_ws_letter_number(flags2) && flags2.bits) {  // <space>?[^\s\p{L}\p{N}]+
            pos += (cpt == ' ');
            while (not_ws_letter_number(flags2) && flags2.bits) flags2 = c.flags(++pos);
            c.add(pos);
            return pos;
        }

        size_t num_ws = 0;
        while (c.flags(pos + num_ws).is_whitespace()) ++num_ws;
        if (num_ws > 1 && c.cpt(pos + num_ws) != kOutOfRange) {  // \s+(?!\S)
            pos += num_ws - 1;
            c.add(pos);
            return pos;
        }
        if (num_ws > 0) {  // \s+
            pos += num_ws;
            c.add(pos);
            return pos;
        }
        c.add(++pos);  // no match
        return pos;
    });
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
std::vector<size_t> split_llama3(const std::vector<uint32_t>& cpts,
                                 const std::vector<size_t>& offsets) {
    return split_pieces(cpts, offsets, [&](PieceCursor& c, size_t pos) -> size_t {
        const uint32_t cpt = c.cpt(pos);
        const auto flags = c.flags(pos);

        if (size_t n = contraction(c, pos, true)) {
            pos += c.add(pos + n);
            return pos;
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!(is_rn(cpt) || flags.is_number())) {
            if (flags.is_letter() || c.flags(pos + 1).is_letter()) {
                ++pos;
                while (c.flags(pos).is_letter()) ++pos;
                c.add(pos);
                return pos;
            }
        }

        if (flags.is_number()) {  // \p{N}{1,3}
            size_t ini = pos;
            while (c.flags(pos).is_number()) {
                if (++pos - ini >= 3) {
                    c.add(pos);
                    ini = pos;
                }
            }
            c.add(pos);
            return pos;
        }

        // <space>?[^\s\p{L}\p{N}]+[\r\n]*
        auto flags2 = cpt == ' ' ? c.flags(pos + 1) : flags;
        if (not_ws_letter_number(flags2) && flags.bits) {
            pos += (cpt == ' ');
            while (not_ws_letter_number(flags2) && flags2.bits) flags2 = c.flags(++pos);
            while (is_rn(c.cpt(pos))) ++pos;
            c.add(pos);
            return pos;
        }

        size_t num_ws = 0;
        size_t last_rn_end = 0;
        while (c.flags(pos + num_ws).is_whitespace()) {
            if (is_rn(c.cpt(pos + num_ws))) last_rn_end = pos + num_ws + 1;
            ++num_ws;
        }
        if (last_rn_end > 0) {  // \s*[\r\n]+
            pos = last_rn_end;
            c.add(pos);
            return pos;
        }
        if (num_ws > 1 && c.cpt(pos + num_ws) != kOutOfRange) {  // \s+(?!\S)
            pos += num_ws - 1;
            c.add(pos);
            return pos;
        }
        if (num_ws > 0) {  // \s+
            pos += num_ws;
            c.add(pos);
            return pos;
        }
        c.add(++pos);  // no match
        return pos;
    });
}

// [\p{Han}]+|[^\r\n\p{L}\p{N}]?<letters>(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// where <letters> is a run of non-Han letters. llama.cpp's version of the tiktoken regex differs
// from it on purpose in three ways that this follows: Han is a fixed set of CJK blocks (is_han),
// the two upper/lower-case letter branches are one (any run of letters, no case split), and
// combining marks
// (\p{M}) are not part of letter runs.
std::vector<size_t> split_kimi_k2(const std::vector<uint32_t>& cpts,
                                  const std::vector<size_t>& offsets) {
    return split_pieces(cpts, offsets, [&](PieceCursor& c, size_t pos) -> size_t {
        const auto han = [&](size_t p) { return c.cpt(p) != kOutOfRange && is_han(c.cpt(p)); };
        const auto word_letter = [&](size_t p) { return c.flags(p).is_letter() && !han(p); };
        const uint32_t cpt = c.cpt(pos);
        const auto flags = c.flags(pos);

        if (han(pos)) {  // [\p{Han}]+
            while (han(pos)) ++pos;
            c.add(pos);
            return pos;
        }

        // [^\r\n\p{L}\p{N}]?<letters>+ with an optional contraction
        const bool can_lead = !(is_rn(cpt) || flags.is_letter() || flags.is_number());
        if (word_letter(pos) || (can_lead && word_letter(pos + 1))) {
            ++pos;
            while (word_letter(pos)) ++pos;
            pos += contraction(c, pos, true);
            c.add(pos);
            return pos;
        }

        if (flags.is_number()) {  // \p{N}{1,3}
            pos = numbers_by_three(c, pos);
            return pos;
        }

        size_t end = symbol_run(c, pos);
        if (end == pos) end = whitespace_run(c, pos);
        if (end == pos) end = pos + 1;  // no match
        c.add(end);
        pos = end;
        return pos;
    });
}

std::vector<size_t> split_afmoe_digits(const std::vector<uint32_t>& cpts,
                                       const std::vector<size_t>& offsets) {
    std::vector<size_t> out;
    out.reserve(offsets.size());
    size_t start = 0;
    for (size_t len : offsets) {
        PieceCursor c(cpts, start, start + len, out);
        for (size_t pos = start; pos < c.end();) {
            if (!c.flags(pos).is_number()) {
                ++pos;
                continue;
            }
            const size_t run_begin = pos;
            while (c.flags(pos).is_number()) ++pos;
            // the head group (1 or 2 digits) first, then groups of 3; the first group emitted also
            // takes any text left since the previous piece
            size_t group_end = run_begin + (pos - run_begin) % 3;
            if (group_end == run_begin) group_end += 3;
            for (; group_end <= pos; group_end += 3) c.add(group_end);
        }
        c.add(c.end());
        start += len;
    }
    return out;
}

}  // namespace folio
