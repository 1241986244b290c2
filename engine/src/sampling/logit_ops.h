#pragma once
// Whole-vocabulary passes used by the sampler, written so the compiler vectorizes them (fixed lane
// counts, no early exits). All of them treat NaN like -inf: never the max, weight 0.
#include <cstddef>
#include <cstdint>
#include <span>

namespace folio::logit_ops {

// A token under consideration: its logit, or later its unnormalized probability.
struct Candidate {
    float value;
    int32_t id;
};

// exp(x) for x <= 0 (Cephes polynomial, ~1 ulp); 0 for x < -87 (where expf is denormal) and NaN.
// The same bits on every platform, unlike std::exp.
float exp_nonpositive(float x);

// Largest value and smallest finite value. max = -inf when every value is -inf/NaN;
// min_finite = +inf when there is no finite value.
void value_range(std::span<const float> x, float* max, float* min_finite);

// Index of the largest value, the lowest index on ties; 0 when every value is -inf/NaN.
int32_t argmax(std::span<const float> x);

// Number of values >= threshold.
size_t count_at_least(std::span<const float> x, float threshold);

// w[i] = exp_nonpositive((x[i] - max) * inv_temp); returns the sum. w.size() >= x.size().
double exp_weights(std::span<const float> x, float max, float inv_temp, std::span<float> w);

// Appends {x[i], i} for every x[i] >= threshold to out, in index order; returns the count.
// out must have room for x.size() entries. Fast when few values pass.
size_t collect_at_least(std::span<const float> x, float threshold, Candidate* out);

// Sum of the values >= threshold.
double sum_at_least(std::span<const float> w, float threshold);

}  // namespace folio::logit_ops
