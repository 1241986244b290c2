#include <algorithm>
#include <queue>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/symbol_merge.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace folio::detail {

namespace {

using Symbol = MergeSymbol;

struct Bigram {
    int left;
    int right;
    int32_t rank;
    size_t size;
};

// Lowest rank first; on ties the leftmost pair.
struct BigramGreater {
    bool operator()(const Bigram& l, const Bigram& r) const {
        return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
    }
};

class BpeSession {
  public:
    explicit BpeSession(const Vocab& vocab) : m_vocab(vocab) {}

    // `word` is byte-level encoded.
    void tokenize_word(const std::string& word, std::vector<token_id>& out) {
        if (word.empty()) return;
        if (m_vocab.ignore_merges()) {
            const token_id id = m_vocab.find_token(word);
            if (id != kNoToken) {
                out.push_back(id);
                return;
            }
        }
        m_symbols.clear();
        m_queue = {};
        size_t offset = 0;
        int index = 0;
        while (offset < word.size()) {
            const size_t len = std::min(word.size() - offset,
                                        unicode::utf8_len(static_cast<uint8_t>(word[offset])));
            Symbol sym{word.data() + offset, len, index - 1, -1};
            offset += len;
            sym.next = offset == word.size() ? -1 : index + 1;
            ++index;
            m_symbols.push_back(sym);
        }
        merge_symbols(m_symbols, m_queue, [this](int l, int r) { add_bigram(l, r); });

        for (const Symbol& sym : m_symbols) {
            if (sym.n == 0) continue;
            const std::string_view text(sym.text, sym.n);
            const token_id id = m_vocab.find_token(text);
            if (id != kNoToken) {
                out.push_back(id);
                continue;
            }
            // not a token: llama.cpp falls back to the single bytes that happen to be tokens
            for (char c : text) {
                const token_id b = m_vocab.find_token(std::string_view(&c, 1));
                if (b != kNoToken) out.push_back(b);
            }
        }
    }

  private:
    void add_bigram(int left, int right) {
        if (left == -1 || right == -1) return;
        const std::string_view l(m_symbols[left].text, m_symbols[left].n);
        const std::string_view r(m_symbols[right].text, m_symbols[right].n);
        const int32_t rank = m_vocab.merge_rank(l, r);
        if (rank < 0) return;
        m_queue.push(Bigram{left, right, rank, l.size() + r.size()});
    }

    const Vocab& m_vocab;
    std::vector<Symbol> m_symbols;
    std::priority_queue<Bigram, std::vector<Bigram>, BigramGreater> m_queue;
};

}  // namespace

void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<token_id>& out) {
    const PreTokenizer* pre = vocab.pre_tokenizer();
    const std::vector<uint32_t> cpts = unicode::decode(text);
    const std::vector<size_t> lengths = pre->split(cpts);

    BpeSession session(vocab);
    std::string utf8, word;
    size_t start = 0;
    for (size_t len : lengths) {
        utf8.clear();
        for (size_t i = start; i < start + len; ++i) unicode::append_utf8(utf8, cpts[i]);
        start += len;
        word.clear();
        for (char c : utf8) word += unicode::byte_to_utf8(static_cast<uint8_t>(c));
        session.tokenize_word(word, out);
    }
}

}  // namespace folio::detail
