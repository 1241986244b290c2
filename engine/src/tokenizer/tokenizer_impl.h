#pragma once
// Internal: the two tokenization algorithms, applied to one raw-text fragment (special tokens
// already split out by Vocab::tokenize). Both append to `out`.
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace folio::detail {

// llama.cpp's SPM: bigram merges by token score through a priority queue, byte fallback for
// symbols that are not tokens. `text` already has spaces escaped as U+2581 and any prefix space.
void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<token_id>& out);

// Byte-level BPE: pre-tokenize with the vocabulary's regexes, then merge by rank within each word.
void bpe_tokenize(const Vocab& vocab, std::string_view text, std::vector<token_id>& out);

}  // namespace folio::detail
