#pragma once
// Tokenizer vocabulary: SPM (tokenizer.ggml.model "llama") and byte-level BPE ("gpt2") with
// llama.cpp's exact behaviour (token ids match llama_tokenize / llama_detokenize), plus a streaming
// detokenizer.
//
// A Vocab owns all its data (nothing points into the GGUF file) and is immutable after loading:
// every const method is thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/string_index.h"

namespace folio {

namespace gguf {
class GgufFile;
}

using token_id = int32_t;
inline constexpr token_id kNoToken = -1;

enum class VocabType { None, Spm, Bpe };

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// Per-token attribute bits (llama.cpp's llama_token_attr).
enum TokenAttr : uint32_t {
    kAttrUndefined = 0,
    kAttrUnknown = 1u << 0,
    kAttrUnused = 1u << 1,
    kAttrNormal = 1u << 2,
    kAttrControl = 1u << 3,
    kAttrUserDefined = 1u << 4,
    kAttrByte = 1u << 5,
    kAttrLstrip = 1u << 7,  // whitespace before the token is dropped when it is parsed from text
    kAttrRstrip = 1u << 8,  // whitespace after it is dropped
};

// Everything a Vocab is built from: the tokenizer.* metadata of a GGUF file (absent keys left
// empty), or hand-made for tests.
struct VocabSpec {
    std::string model;  // tokenizer.ggml.model: "llama" (SPM), "gpt2" (BPE), "no_vocab"/"none"
    std::string pre;    // tokenizer.ggml.pre ("" when absent)
    std::string name;   // general.name (llama.cpp keys some token attributes on it, e.g. phi-3)
    std::string architecture;  // general.architecture
    std::vector<std::string> tokens;
    std::vector<float> scores;          // empty: all 0
    std::vector<int32_t> token_types;   // empty: all Normal
    std::vector<std::string> merges;    // "left right", rank = index (BPE only)
    std::optional<int64_t> vocab_size;  // {arch}.vocab_size, used by no_vocab
    std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, unk_id, sep_id, pad_id, mask_id;
    std::optional<int64_t> fim_pad_id, fim_rep_id, fim_sep_id;
    std::optional<bool> add_bos, add_eos, add_space_prefix, remove_extra_whitespaces;
};

class PreTokenizer;

class Vocab {
  public:
    // Reads the tokenizer.* keys. Throws gguf::GgufError for malformed values and
    // std::runtime_error (with the file name) for missing keys or unsupported tokenizers.
    static std::unique_ptr<Vocab> from_gguf(const gguf::GgufFile& f);
    static std::unique_ptr<Vocab> from_spec(VocabSpec spec);  // throws std::runtime_error
    ~Vocab();
    Vocab(const Vocab&) = delete;
    Vocab& operator=(const Vocab&) = delete;

    VocabType type() const { return m_type; }
    const std::string& model() const { return m_model; }  // tokenizer.ggml.model
    const std::string& pre() const { return m_pre; }      // tokenizer.ggml.pre as given
    int32_t n_tokens() const { return static_cast<int32_t>(m_tokens.size()); }

    // add_special: add BOS/EOS as the metadata says (add_bos_token / add_eos_token, llama.cpp's
    //   defaults per tokenizer type when absent).
    // parse_special: control tokens found in the text (e.g. "<|im_start|>") become those tokens.
    //   User-defined tokens are always matched, as in llama.cpp / HF tokenizers.
    // Throws std::runtime_error for a vocabulary without tokens (no_vocab).
    std::vector<token_id> tokenize(std::string_view text, bool add_special,
                                   bool parse_special) const;

    // Raw bytes of one token: byte tokens <0xNN> give the byte, SPM "▁" gives a space, BPE
    // byte-level characters give their bytes. special=false renders control and unknown tokens
    // as "". Throws std::out_of_range for an invalid id.
    std::string token_to_piece(token_id id, bool special) const;
    // llama_detokenize: concatenated pieces. The first token loses one leading space when the
    // vocabulary adds an SPM prefix space (not when a BOS comes first, removed or not: llama.cpp's
    // rule); remove_special drops a leading BOS / trailing EOS the tokenizer would add;
    // unparse_special renders control tokens; vocabularies with clean_spaces (gpt-2, llama3 ...)
    // tidy " ." " ," " 's" " ' " etc., so their round trip is not always exact.
    std::string detokenize(std::span<const token_id> ids, bool remove_special,
                           bool unparse_special) const;

    token_id bos() const { return m_bos; }  // kNoToken (-1) when absent
    token_id eos() const { return m_eos; }
    token_id eot() const { return m_eot; }
    token_id eom() const { return m_eom; }
    token_id unk() const { return m_unk; }
    token_id pad() const { return m_pad; }
    bool is_eog(token_id id) const;  // eos, eot, eom and other end-of-generation tokens
    const std::vector<token_id>& eog_ids() const { return m_eog; }  // sorted
    bool add_bos() const { return m_add_bos; }
    bool add_eos() const { return m_add_eos; }
    bool add_space_prefix() const { return m_add_space_prefix; }
    bool clean_spaces() const { return m_clean_spaces; }

    std::string_view token_text(token_id id) const;  // as stored; throws std::out_of_range
    float token_score(token_id id) const;
    TokenType token_type(token_id id) const;
    uint32_t token_attr(token_id id) const;  // TokenAttr bits
    bool is_control(token_id id) const { return token_attr(id) & kAttrControl; }
    // Exact text lookup; kNoToken when absent.
    token_id find_token(std::string_view text) const;
    // BPE merge rank of (left, right); -1 when they do not merge.
    int32_t merge_rank(std::string_view left, std::string_view right) const;
    // SPM byte-fallback token for a byte (<0xNN>, else the byte itself, else unk).
    token_id byte_token(uint8_t byte) const { return m_byte_tokens[byte]; }
    bool ignore_merges() const { return m_ignore_merges; }
    const PreTokenizer* pre_tokenizer() const { return m_pre_tokenizer.get(); }

  private:
    Vocab() = default;
    struct TokenData {
        std::string text;
        float score = 0.0f;
        uint32_t attr = kAttrNormal;
        TokenType type = TokenType::Normal;
    };
    struct Fragment {
        token_id token;  // kNoToken for raw text
        size_t offset, length;
    };

    void init_special_tokens(const VocabSpec& spec);
    void init_caches();
    std::vector<Fragment> partition(std::string_view text, bool parse_special) const;
    std::string make_piece(token_id id) const;
    const TokenData& data(token_id id) const;

    VocabType m_type = VocabType::None;
    std::string m_model, m_pre;
    std::vector<TokenData> m_tokens;
    StringIndex m_token_to_id;
    StringIndex m_merge_ranks;  // key: left + '\xff' + right
    std::unique_ptr<PreTokenizer> m_pre_tokenizer;
    std::vector<std::string> m_pieces;       // token_to_piece(id, special=true)
    std::vector<token_id> m_special_tokens;  // control/user-defined/unknown, longest text first
    std::vector<token_id> m_eog;
    token_id m_byte_tokens[256] = {};

    token_id m_bos = kNoToken, m_eos = kNoToken, m_eot = kNoToken, m_eom = kNoToken;
    token_id m_unk = kNoToken, m_pad = kNoToken, m_sep = kNoToken, m_mask = kNoToken;
    token_id m_fim_pad = kNoToken, m_fim_rep = kNoToken, m_fim_sep = kNoToken;
    bool m_add_bos = false, m_add_eos = false, m_add_space_prefix = false;
    bool m_clean_spaces = false, m_ignore_merges = false, m_remove_extra_whitespaces = false;
};

// Incremental detokenizer for streaming output: push ids one by one and get back only complete
// UTF-8 text. Pieces are concatenated as they are (no SPM prefix-space removal, no space
// cleaning: the text of a continuation); an incomplete trailing UTF-8 sequence is held back until
// later bytes complete it, and bytes that can never form valid UTF-8 become U+FFFD. flush()
// returns what is left (an incomplete tail becomes U+FFFD) and resets the stream.
// With strip_leading_space the very first space of the stream is dropped when the vocabulary adds
// an SPM prefix space, so that the output equals detokenize(ids, false, render_special) for
// vocabularies without space cleaning. Not thread-safe; the Vocab must outlive it.
class StreamingDetokenizer {
  public:
    explicit StreamingDetokenizer(const Vocab& vocab, bool render_special = false,
                                  bool strip_leading_space = false);
    std::string push(token_id id);
    std::string flush();

  private:
    std::string drain(bool final);

    const Vocab& m_vocab;
    bool m_render_special;
    bool m_strip_leading_space;
    bool m_first = true;
    std::string m_pending;  // bytes not yet returned
};

// Complete UTF-8 prefix of `bytes` with invalid sequences replaced by U+FFFD; `consumed` is how
// many bytes that covers (an incomplete but valid-so-far tail is left out unless `final`).
std::string utf8_take_valid(std::string_view bytes, bool final, size_t& consumed);

}  // namespace folio
