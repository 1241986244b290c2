#include <algorithm>
#include <queue>
#include <unordered_map>

#include "tokenizer/symbol_merge.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace folio::detail {

namespace {

using Symbol = MergeSymbol;

struct Bigram {
    int left;
    int right;
    float score;
    size_t size;
};

// Highest score first; on ties the leftmost pair.
struct BigramLess {
    bool operator()(const Bigram& l, const Bigram& r) const {
        return l.score < r.score || (l.score == r.score && l.left > r.left);
    }
};

class SpmSession {
  public:
    explicit SpmSession(const Vocab& vocab) : m_vocab(vocab) {}

    void tokenize(std::string_view text, std::vector<token_id>& out) {
        size_t offs = 0;
        int index = 0;
        while (offs < text.size()) {
            const size_t len =
                std::min(unicode::utf8_len(static_cast<uint8_t>(text[offs])), text.size() - offs);
            Symbol sym{text.data() + offs, len, index - 1, -1};
            offs += len;
            sym.next = offs == text.size() ? -1 : index + 1;
            ++index;
            m_symbols.push_back(sym);
        }
        if (m_symbols.empty()) return;

        merge_symbols(m_symbols, m_queue, [this](int l, int r) { try_add_bigram(l, r); });

        for (int i = 0; i != -1; i = m_symbols[i].next) resegment(m_symbols[i], out);
    }

  private:
    void try_add_bigram(int left, int right) {
        if (left == -1 || right == -1) return;
        const std::string_view text(m_symbols[left].text, m_symbols[left].n + m_symbols[right].n);
        const token_id id = m_vocab.find_token(text);
        if (id == kNoToken || id >= m_vocab.n_tokens()) return;
        m_queue.push(Bigram{left, right, m_vocab.token_score(id), text.size()});
        m_rev_merge[text] = {left, right};
    }

    void resegment(const Symbol& symbol, std::vector<token_id>& out) {
        const std::string_view text(symbol.text, symbol.n);
        const token_id id = m_vocab.find_token(text);
        if (id != kNoToken) {
            out.push_back(id);
            return;
        }
        const auto it = m_rev_merge.find(text);
        if (it == m_rev_merge.end()) {
            for (size_t j = 0; j < symbol.n; ++j)
                out.push_back(m_vocab.byte_token(static_cast<uint8_t>(symbol.text[j])));
            return;
        }
        resegment(m_symbols[it->second.first], out);
        resegment(m_symbols[it->second.second], out);
    }

    const Vocab& m_vocab;
    std::vector<Symbol> m_symbols;
    std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> m_queue;
    // Keyed by text content (views into the caller's text), like llama.cpp's rev_merge.
    std::unordered_map<std::string_view, std::pair<int, int>> m_rev_merge;
};

}  // namespace

void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<token_id>& out) {
    SpmSession session(vocab);
    session.tokenize(text, out);
}

}  // namespace folio::detail
