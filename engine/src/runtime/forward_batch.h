#pragma once
// One step's work for the backend: a flat batch of tokens from one or more sequences (prefill
// chunks and decodes mixed), with where each token's K/V goes and how each sequence reads its
// context through its block table.
#include <cstdint>
#include <span>
#include <vector>

namespace folio {

struct SeqBatchInfo {
    int32_t token_begin = 0;  // first row of this sequence in the flat batch
    int32_t num_tokens = 0;   // rows of this sequence in this step (consecutive positions)
    // Physical KV block ids in position order; covers every position up to the last new token.
    std::span<const int32_t> block_table;
};

struct ForwardBatch {
    std::vector<int32_t> tokens;        // [n_tokens]
    std::vector<int32_t> positions;     // [n_tokens] position of each token in its sequence
    std::vector<int64_t> slot_mapping;  // [n_tokens] block_id * block_size + offset in block
    std::vector<SeqBatchInfo> seqs;     // rows of seqs are disjoint and cover the batch in order
    std::vector<int32_t> logits_rows;   // rows whose logits are wanted, in output order
    std::vector<int32_t> hidden_rows;   // rows whose final normed hidden state is wanted

    int32_t num_tokens() const { return static_cast<int32_t>(tokens.size()); }
    void clear() {
        tokens.clear();
        positions.clear();
        slot_mapping.clear();
        seqs.clear();
        logits_rows.clear();
        hidden_rows.clear();
    }
};

}  // namespace folio
