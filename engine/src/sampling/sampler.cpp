#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/check.h"
#include "sampling/logit_ops.h"
#include "sampling/penalties.h"

namespace folio {

namespace {

using logit_ops::argmax;
using logit_ops::Candidate;
using logit_ops::exp_nonpositive;

// Strict weak order: larger value first, lower id on ties (ids are unique).
inline bool better(const Candidate& a, const Candidate& b) {
    return a.value > b.value || (a.value == b.value && a.id < b.id);
}

// Scratch shared by every Sampler on this thread; sized to the largest vocabulary seen.
thread_local std::vector<Candidate> t_candidates;
thread_local std::vector<float> t_weights;  // dense weights, indexed by token id
thread_local std::vector<Candidate> t_logprob_candidates;
thread_local std::vector<float> t_logprob_weights;

// Uniform in [0, 1) from the top 53 bits: the same on every standard library.
inline double uniform01(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Writes to out (room for logits.size()) a superset of the k best logits (by `better`) and
// returns its size: >= k unless fewer than k logits are finite. Widens a window below the max
// until it holds k logits (a few vectorized counting passes), then collects it.
size_t collect_top_k(std::span<const float> logits, size_t k, float max_logit, float min_logit,
                     Candidate* out) {
    float threshold = min_logit;
    if (!std::isfinite(max_logit)) threshold = -INFINITY;  // degenerate row: take everything
    for (float delta = 1.0f; std::isfinite(max_logit) && max_logit - delta > min_logit;
         delta *= 2.0f) {
        if (logit_ops::count_at_least(logits, max_logit - delta) >= k) {
            threshold = max_logit - delta;
            break;
        }
    }
    return logit_ops::collect_at_least(logits, threshold, out);
}

// Reorders cand[0, n) so that its first `cut` entries are the best ones by `better`, where `cut`
// is the smallest count whose weights sum to >= target, and returns cut. Weighted quickselect:
// expected O(n), no full sort. Precondition: the weights of all n sum to >= target.
size_t top_p_cut(Candidate* cand, size_t n, double target) {
    // Invariant: cand[0, lo) are better than cand[lo, n) and weigh acc < target; the cut is in
    // (lo, hi], and cand[lo, hi) are better than cand[hi, n).
    size_t lo = 0, hi = n;
    double acc = 0.0;
    while (hi - lo > 64) {
        const size_t mid = lo + (hi - lo) / 2;
        std::nth_element(cand + lo, cand + mid, cand + hi, better);
        double upper = 0.0;
        for (size_t i = lo; i < mid; ++i) upper += cand[i].value;
        if (acc + upper >= target) {
            hi = mid;
        } else {
            acc += upper;
            lo = mid;
        }
    }
    std::sort(cand + lo, cand + hi, better);
    for (size_t i = lo; i < hi; ++i) {
        acc += cand[i].value;
        if (acc >= target) return i + 1;
    }
    return hi;  // rounding
}

uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

}  // namespace

TokenLogprobs compute_logprobs(std::span<const float> logits, token_id chosen, int32_t top_n) {
    float max_logit = -INFINITY, min_logit = INFINITY;
    logit_ops::value_range(logits, &max_logit, &min_logit);
    // log_softmax. Degenerate rows: all -inf gives -inf everywhere; +inf entries share the mass.
    const bool inf_row = max_logit == INFINITY;
    double lse = INFINITY;
    float inf_logprob = 0.0f;
    if (inf_row) {
        inf_logprob = -std::log(static_cast<float>(logit_ops::count_at_least(logits, INFINITY)));
    } else if (max_logit > -INFINITY) {
        std::vector<float>& w = t_logprob_weights;
        if (w.size() < logits.size()) w.resize(logits.size());
        lse = max_logit + std::log(logit_ops::exp_weights(logits, max_logit, 1.0f, w));
    }
    auto logprob_of = [&](float x) -> float {
        if (inf_row) return x == INFINITY ? inf_logprob : -INFINITY;
        return static_cast<float>(static_cast<double>(x) - lse);
    };

    TokenLogprobs out;
    out.logprob = chosen >= 0 && static_cast<size_t>(chosen) < logits.size()
                      ? logprob_of(logits[static_cast<size_t>(chosen)])
                      : -INFINITY;
    const size_t k = std::min(static_cast<size_t>(std::max(top_n, 0)), logits.size());
    if (k == 0 || !(max_logit > -INFINITY)) return out;
    std::vector<Candidate>& cand = t_logprob_candidates;
    if (cand.size() < logits.size()) cand.resize(logits.size());
    const size_t n = collect_top_k(logits, k, max_logit, min_logit, cand.data());
    const size_t m = std::min(k, n);
    std::partial_sort(cand.begin(), cand.begin() + m, cand.begin() + n, better);
    out.top.reserve(m);
    for (size_t i = 0; i < m; ++i) out.top.push_back({cand[i].id, logprob_of(cand[i].value)});
    return out;
}

Sampler::Sampler(const SamplingParams& params, int32_t vocab_size,
                 std::span<const token_id> eos_token_ids, uint64_t seq_index)
    : params_(params), vocab_size_(vocab_size), penalties_(penalties_enabled(params)) {
    FOLIO_CHECK(vocab_size > 0);
    FOLIO_CHECK(params_.validate().empty());  // callers validate at the API boundary
    if (params_.min_tokens > 0) {
        if (!params_.ignore_eos) {
            min_tokens_banned_.assign(eos_token_ids.begin(), eos_token_ids.end());
        }
        min_tokens_banned_.insert(min_tokens_banned_.end(), params_.stop_token_ids.begin(),
                                  params_.stop_token_ids.end());
    }
    if (params_.seed) {
        rng_.seed(*params_.seed + seq_index * 0x9E3779B97F4A7C15ull);
    } else {
        rng_.seed(random_seed());
    }
}

void Sampler::process_logits(std::span<float> row, std::span<const token_id> prompt_tokens,
                             std::span<const token_id> generated_tokens) {
    if (!params_.logit_bias.empty()) apply_logit_bias(row, params_.logit_bias);
    if (!min_tokens_banned_.empty() &&
        generated_tokens.size() < static_cast<size_t>(params_.min_tokens)) {
        ban_tokens(row, min_tokens_banned_);
    }
    if (penalties_) apply_penalties(row, params_, prompt_tokens, generated_tokens);
}

token_id Sampler::sample(std::span<float> logits, std::span<const token_id> prompt_tokens,
                         std::span<const token_id> generated_tokens, TokenLogprobs* logprobs) {
    FOLIO_CHECK(logits.size() >= static_cast<size_t>(vocab_size_));
    const std::span<float> row = logits.first(static_cast<size_t>(vocab_size_));
    process_logits(row, prompt_tokens, generated_tokens);

    token_id token = 0;
    if (params_.is_greedy()) {
        token = argmax(row);
    } else {
        const Truncated t = truncate(row);
        token = t.num_candidates == 0 ? argmax(row) : draw(t);
    }
    if (logprobs) *logprobs = compute_logprobs(row, token, params_.logprobs.value_or(0));
    return token;
}

token_id Sampler::draw(const Truncated& t) {
    double u = uniform01(rng_) * t.total_weight;
    if (t.dense) {
        // Find the block of 1024 holding u with vectorized block sums, then scan inside it.
        const float* w = t_weights.data();
        constexpr size_t kBlock = 1024;
        size_t start = 0;
        for (; start + kBlock < t.num_candidates; start += kBlock) {
            const double block = logit_ops::sum_at_least({w + start, kBlock}, 0.0f);
            if (u < block) break;
            u -= block;
        }
        const size_t end = std::min(t.num_candidates, start + kBlock);
        double cum = 0.0;
        size_t last_nonzero = start;
        for (size_t i = start; i < end; ++i) {
            if (w[i] <= 0.0f) continue;
            cum += w[i];
            last_nonzero = i;
            if (u < cum) return static_cast<token_id>(i);
        }
        // Rounding past the end of the block (or of the vocabulary).
        if (w[last_nonzero] > 0.0f) return static_cast<token_id>(last_nonzero);
        for (size_t i = end; i-- > 0;) {
            if (w[i] > 0.0f) return static_cast<token_id>(i);
        }
        return 0;
    }
    const Candidate* cand = t_candidates.data();
    double cum = 0.0;
    for (size_t i = 0; i < t.num_candidates; ++i) {
        cum += cand[i].value;
        if (u < cum) return cand[i].id;
    }
    // Rounding: the last candidate with non-zero weight.
    for (size_t i = t.num_candidates; i-- > 0;) {
        if (cand[i].value > 0.0f) return cand[i].id;
    }
    return cand[0].id;
}

std::vector<TokenProb> Sampler::distribution(std::span<float> logits,
                                             std::span<const token_id> prompt_tokens,
                                             std::span<const token_id> generated_tokens) {
    FOLIO_CHECK(logits.size() >= static_cast<size_t>(vocab_size_));
    const std::span<float> row = logits.first(static_cast<size_t>(vocab_size_));
    process_logits(row, prompt_tokens, generated_tokens);
    std::vector<TokenProb> out;
    const Truncated t = params_.is_greedy() ? Truncated{} : truncate(row);
    if (t.num_candidates == 0) {
        out.push_back({argmax(row), 1.0f});
        return out;
    }
    for (size_t i = 0; i < t.num_candidates; ++i) {
        const token_id id = t.dense ? static_cast<token_id>(i) : t_candidates[i].id;
        const float w = t.dense ? t_weights[i] : t_candidates[i].value;
        if (w > 0.0f) out.push_back({id, static_cast<float>(w / t.total_weight)});
    }
    std::sort(out.begin(), out.end(), [](const TokenProb& a, const TokenProb& b) {
        return a.prob > b.prob || (a.prob == b.prob && a.token < b.token);
    });
    return out;
}

Sampler::Truncated Sampler::truncate(std::span<const float> logits) const {
    const size_t vocab = logits.size();
    float max_logit = -INFINITY, min_logit = INFINITY;
    logit_ops::value_range(logits, &max_logit, &min_logit);
    // Everything banned, or a +inf logit: degenerate, the caller falls back to argmax.
    if (!(max_logit > -INFINITY) || max_logit == INFINITY) return {};
    const float inv_temp = 1.0f / params_.temperature;
    if (!std::isfinite(inv_temp)) return {};  // temperature below ~1e-38: greedy

    std::vector<Candidate>& cand = t_candidates;
    if (cand.size() < vocab) cand.resize(vocab);
    size_t n = 0;
    double total = 0.0;  // mass of the distribution after top_k, before min_p / top_p
    const double top_p = params_.top_p;

    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < vocab) {
        // top_k on logits (temperature does not change the order).
        const auto k = static_cast<size_t>(params_.top_k);
        n = collect_top_k(logits, k, max_logit, min_logit, cand.data());
        if (n > k) {
            std::nth_element(cand.begin(), cand.begin() + params_.top_k, cand.begin() + n, better);
            n = k;
        }
        // temperature + softmax numerator; the most likely token gets weight exactly 1.
        for (size_t i = 0; i < n; ++i) {
            cand[i].value = exp_nonpositive((cand[i].value - max_logit) * inv_temp);
            total += cand[i].value;
        }
    } else {
        std::vector<float>& w = t_weights;
        if (w.size() < vocab) w.resize(vocab);
        const std::span<const float> weights(w.data(), vocab);
        total = logit_ops::exp_weights(logits, max_logit, inv_temp, w);
        // Only tokens with weight >= floor can survive min_p / top_p.
        float floor = 0.0f;
        if (params_.min_p > 0.0f) {
            floor = params_.min_p;
        } else if (top_p < 1.0) {
            // top_p keeps a head of the sorted weights. The tokens with weight >= tau are a head
            // too, so once they hold top_p of the mass they contain the answer. Lower tau 16x at a
            // time until they do, then refine to within 2x (a few vectorized passes).
            const double target = top_p * total;
            auto enough = [&](float tau) {
                return logit_ops::sum_at_least(weights, tau) >= target;
            };
            constexpr float kMinTau = 1e-36f;
            floor = 0.5f;
            while (floor > kMinTau && !enough(floor)) floor *= 1.0f / 16.0f;
            if (floor <= kMinTau) {
                floor = std::numeric_limits<float>::min();  // every non-zero weight
            } else if (floor < 0.5f) {
                if (enough(floor * 4.0f)) floor *= 4.0f;
                if (enough(floor * 2.0f)) floor *= 2.0f;
            }
        } else {
            return {vocab, total, true};  // no truncation: draw from the dense weights
        }
        n = logit_ops::collect_at_least(weights, floor, cand.data());
    }

    // min_p: p_i >= min_p * p_max  <=>  weight_i >= min_p. Applying it before top_p gives the same
    // set as after (both keep a head of the sorted distribution and min_p is invariant under
    // top_p's renormalization) as long as top_p measures mass against the full total.
    double kept = 0.0;
    {
        size_t m = 0;
        for (size_t i = 0; i < n; ++i) {
            if (cand[i].value >= params_.min_p) {
                kept += cand[i].value;
                cand[m++] = cand[i];
            }
        }
        n = m;
    }

    // top_p: smallest head (by probability, lower id on ties) holding >= top_p of the mass.
    if (top_p < 1.0) {
        const double target = top_p * total;
        if (kept > target) {
            n = top_p_cut(cand.data(), n, target);
            kept = 0.0;
            for (size_t i = 0; i < n; ++i) kept += cand[i].value;
        }
    }
    return {n, kept, false};
}

}  // namespace folio
