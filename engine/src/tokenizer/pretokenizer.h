#pragma once
// Byte-level BPE pre-tokenization: splits text into words with the regex set that
// `tokenizer.ggml.pre` selects, reproducing llama.cpp's splitter (unicode_regex_split) exactly:
//
//  - The regexes of a set apply one after the other; each one splits every piece left by the
//    previous ones (matches and the text between matches both become pieces). Lookaheads and `$`
//    never see past the end of the piece being split.
//  - The GPT-2 and Llama-3 main regexes run as hand-written splitters (llama.cpp's "custom" ones),
//  and
//    so do three pseudo-regexes that llama.cpp only uses as names for custom code: "\p{Han}+" (the
//    whole Kimi-K2 pattern), "\p{AFMoE_digits}" and tiny_aya's "\d{1,3}(?=(?:\d{3})*\b)" (both the
//    AFMoE digit grouping).
//  - Regexes that use \p{N} \p{L} \p{P} \p{M} \p{S} (or \p{Lu} \p{Ll} \p{Lt} \p{Lm} \p{Lo}, which
//    all stand for \p{L}) run on a "collapsed" text where every non-ASCII codepoint becomes one
//    byte standing for its category (non-ASCII whitespace becomes \v), with the classes rewritten
//    to match (PCRE2 in byte mode, JIT). This is what llama.cpp does with std::regex, quirks
//    included (e.g. [^a-z] matching every non-ASCII letter, no upper/lower case distinction past
//    ASCII).
//  - Other regexes run in PCRE2 UTF mode with ASCII-only \s\d\w (std::wregex semantics), on text
//    where non-ASCII whitespace is replaced by \v.
//
// A PreTokenizer is immutable after construction; split() is thread-safe.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

// What a `tokenizer.ggml.pre` name selects, besides its regexes (llama.cpp's per-pre defaults).
struct BpePreConfig {
    std::string name;  // canonical group name, e.g. "llama3" for "llama-bpe"
    std::vector<std::string> regexes;
    bool clean_spaces =
        true;  // detokenize cleans " ." " ," " 's" ... (clean_up_tokenization_spaces)
    bool ignore_merges = false;  // a word that is itself a token is taken whole
    bool add_bos = false;        // default for tokenizer.ggml.add_bos_token
    bool no_bos = false;         // the vocabulary has no BOS (chatglm)
    // SPM-style BPE (gemma4, sarvam-moe, whitespace): words are not GPT-2 byte-encoded before the
    // merges, and a piece missing from the vocabulary falls back to <0xXX> byte tokens.
    bool byte_encode = true;
    // Spaces become U+2581 before pre-tokenization, and back on detokenization (gemma4,
    // sarvam-moe).
    bool escape_whitespaces = false;
};

// Config for a pre-tokenizer name; "" and "default" give llama.cpp's default set.
// Throws std::runtime_error naming the unknown value and listing the known ones.
BpePreConfig bpe_pre_config(std::string_view pre);
// Every name bpe_pre_config() accepts, sorted.
std::vector<std::string> known_bpe_pre_names();

class PreTokenizer {
  public:
    // Compiles the regexes (throws std::runtime_error on a bad pattern).
    explicit PreTokenizer(const std::vector<std::string>& regexes);
    ~PreTokenizer();
    PreTokenizer(const PreTokenizer&) = delete;
    PreTokenizer& operator=(const PreTokenizer&) = delete;

    // Splits `cpts` into consecutive words; returns their lengths in codepoints (no zeros; they
    // sum to cpts.size()).
    std::vector<size_t> split(const std::vector<uint32_t>& cpts) const;

    struct Regex;  // one compiled regex with its mode (internal)

  private:
    std::vector<std::unique_ptr<Regex>> m_regexes;
    bool m_need_collapsed = false;
    bool m_need_utf = false;
};

// llama.cpp's custom splitters, exposed for tests. Each takes and returns piece lengths.
std::vector<size_t> split_gpt2(const std::vector<uint32_t>& cpts,
                               const std::vector<size_t>& offsets);
std::vector<size_t> split_llama3(const std::vector<uint32_t>& cpts,
                                 const std::vector<size_t>& offsets);
// Kimi-K2's whole regex (Han runs, non-Han letter words with contractions, digits by 3, ...).
std::vector<size_t> split_kimi_k2(const std::vector<uint32_t>& cpts,
                                  const std::vector<size_t>& offsets);
// AFMoE digit grouping: each \p{N} run splits into a 1-2 digit head (length mod 3) and groups of 3.
// Like llama.cpp, the text before a run is not a piece of its own but the start of the run's first
// group; the text after the last run is one piece.
std::vector<size_t> split_afmoe_digits(const std::vector<uint32_t>& cpts,
                                       const std::vector<size_t>& offsets);
// True for the codepoints llama.cpp counts as Han (CJK ideograph blocks, fixed ranges).
bool is_han(uint32_t cpt);

}  // namespace folio
