#pragma once
// Reader for shared/golden/logits/NAME.jsonl (llama.cpp's reference decodes; format in
// shared/README.md) and the comparison rule both golden tests use.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace folio::test {

using TopLogits = std::vector<std::pair<int32_t, float>>;  // (token, logit), best first

struct GoldenRow {
    std::string prompt;
    std::vector<int32_t> prompt_tokens;  // BOS included as llama.cpp adds it
    std::vector<int32_t> tokens;         // greedy continuation
    std::vector<TopLogits> top;          // per step: the 8 best logits after prompt + tokens[:i]
    std::string text;                    // decoded continuation
};

// Every row of golden/logits/<name>.jsonl; throws when the file is missing or malformed.
std::vector<GoldenRow> load_golden(const std::string& name);

// The magnitude logit errors are measured against: the step's largest |logit|, at least 1.
float reference_scale(const TopLogits& top);

// True when the reference's best token beats the second by more than twice `tol` (relative to
// reference_scale), so an engine within `tol` must pick the same token.
bool clear_margin(const TopLogits& top, double tol);

}  // namespace folio::test
