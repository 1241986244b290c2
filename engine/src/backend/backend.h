#pragma once
// A backend owns the device memory (weights, KV cache pool, activations) and runs the forward
// pass for one ForwardBatch at a time. The CPU backend is the reference the others are tested
// against. Called from the engine thread only.
#include <cstdint>
#include <string>

#include "runtime/forward_batch.h"

namespace folio {

class Backend {
  public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    // Runs every token of `batch` through the model, storing each token's K/V at its slot, and
    // writes logits for batch.logits_rows to `logits` ([logits_rows.size()][n_vocab]) and the
    // final normed hidden states of batch.hidden_rows to `hidden` ([hidden_rows.size()][n_embd];
    // may be null when there are none).
    virtual void forward(const ForwardBatch& batch, float* logits, float* hidden) = 0;
    virtual int64_t kv_num_blocks() const = 0;
    virtual int64_t kv_block_size() const = 0;
};

}  // namespace folio
