// StreamingDetokenizer and the UTF-8 hold-back logic it relies on.
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace folio {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}

std::string utf8_take_valid(std::string_view bytes, bool final, size_t& consumed) {
    std::string out;
    out.reserve(bytes.size());
    size_t i = 0;
    while (i < bytes.size()) {
        size_t invalid_len = 1;
        const int st = unicode::utf8_sequence_status(bytes.substr(i), &invalid_len);
        if (st > 0) {
            out.append(bytes.substr(i, static_cast<size_t>(st)));
            i += static_cast<size_t>(st);
        } else if (st == 0) {  // incomplete tail
            if (!final) break;
            out.append(kReplacement);
            i = bytes.size();
        } else {
            out.append(kReplacement);
            i += invalid_len;
        }
    }
    consumed = i;
    return out;
}

StreamingDetokenizer::StreamingDetokenizer(const Vocab& vocab, bool render_special,
                                           bool strip_leading_space)
    : m_vocab(vocab),
      m_render_special(render_special),
      m_strip_leading_space(strip_leading_space) {}

std::string StreamingDetokenizer::push(token_id id) {
    std::string piece = m_vocab.token_to_piece(id, m_render_special);
    if (m_first && m_strip_leading_space && m_vocab.add_space_prefix() && !piece.empty() &&
        piece[0] == ' ')
        piece.erase(0, 1);
    m_first = false;
    m_pending += piece;
    return drain(false);
}

std::string StreamingDetokenizer::flush() {
    std::string out = drain(true);
    m_pending.clear();
    m_first = true;
    return out;
}

std::string StreamingDetokenizer::drain(bool final) {
    size_t consumed = 0;
    std::string out = utf8_take_valid(m_pending, final, consumed);
    m_pending.erase(0, consumed);
    return out;
}

}  // namespace folio
