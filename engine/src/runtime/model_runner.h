#pragma once
// ModelRunner: turns a SchedulerOutput into one flat ForwardBatch (prefill chunks and decodes of
// many requests mixed), runs the backend and returns the logits rows each request needs.
//
// Per scheduled request, in order: its tokens at positions [num_computed, num_computed +
// num_scheduled), the slot of each (block_ids[pos / block_size] * block_size + pos % block_size),
// and a SeqBatchInfo with its block table. Logits rows: the last scheduled token of a request
// that samples this step, or every scheduled token of a scoring request (all_logits).
//
// Engine thread only. Borrows the backend.
#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend.h"
#include "runtime/forward_batch.h"
#include "sched/scheduler_output.h"

namespace folio {

struct ModelRunnerOutput {
    int64_t n_vocab = 0;
    std::vector<float> logits;  // [num rows][n_vocab]
    int64_t n_embd = 0;
    std::vector<float> hidden;  // [num hidden rows][n_embd] (all_hidden requests)
    // Per scheduled request: its first row and number of rows, -1 / 0 if none; rows of
    // `hidden` for an all_hidden request, of `logits` otherwise.
    std::vector<int32_t> first_row;
    std::vector<int32_t> num_rows;

    std::span<float> row(int32_t r) {
        return std::span<float>(logits).subspan(static_cast<size_t>(r) * n_vocab,
                                                static_cast<size_t>(n_vocab));
    }
};

class ModelRunner {
  public:
    ModelRunner(Backend& backend, int64_t n_vocab, int64_t n_embd);

    // Fills `batch` from `output` (exposed for tests; execute() calls it).
    void build_batch(const SchedulerOutput& output, ForwardBatch& batch,
                     ModelRunnerOutput& result) const;
    // Builds the batch and runs the forward pass. Precondition: !output.empty().
    void execute(const SchedulerOutput& output, ModelRunnerOutput& result);

    const ForwardBatch& last_batch() const { return batch_; }

  private:
    Backend& backend_;
    int64_t n_vocab_;
    int64_t n_embd_;
    ForwardBatch batch_;  // reused across steps
};

}  // namespace folio
