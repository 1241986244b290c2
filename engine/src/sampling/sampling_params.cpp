#include "folio/sampling_params.h"

#include <cmath>
#include <cstdio>

namespace folio {

namespace {

std::string got(double value) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), " (got %g)", value);
    return buf;
}

}  // namespace

std::string SamplingParams::validate(int32_t vocab_size) const {
    // Written as !(ok) so that NaN fails every check.
    if (!(std::isfinite(temperature) && temperature >= 0.0f)) {
        return "temperature must be >= 0" + got(temperature);
    }
    if (top_k < -1) return "top_k must be -1, 0 (off) or >= 1" + got(top_k);
    if (!(top_p > 0.0f && top_p <= 1.0f)) return "top_p must be in (0, 1]" + got(top_p);
    if (!(min_p >= 0.0f && min_p <= 1.0f)) return "min_p must be in [0, 1]" + got(min_p);
    if (!(std::isfinite(repetition_penalty) && repetition_penalty > 0.0f)) {
        return "repetition_penalty must be > 0" + got(repetition_penalty);
    }
    if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) {
        return "presence_penalty must be in [-2, 2]" + got(presence_penalty);
    }
    if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) {
        return "frequency_penalty must be in [-2, 2]" + got(frequency_penalty);
    }
    if (penalty_last_n < -1) {
        return "penalty_last_n must be -1 (whole context), 0 (off) or >= 1" + got(penalty_last_n);
    }
    for (const auto& [token, bias] : logit_bias) {
        if (token < 0 || (vocab_size > 0 && token >= vocab_size)) {
            return "logit_bias token id " + std::to_string(token) + " is out of range";
        }
        if (!(bias >= -100.0f && bias <= 100.0f)) {
            return "logit_bias values must be in [-100, 100]" + got(bias);
        }
    }
    for (const std::string& s : stop) {
        if (s.empty()) return "stop strings must not be empty";
    }
    for (int32_t token : stop_token_ids) {
        if (token < 0 || (vocab_size > 0 && token >= vocab_size)) {
            return "stop_token_ids token id " + std::to_string(token) + " is out of range";
        }
    }
    if (max_tokens && *max_tokens < 1) return "max_tokens must be >= 1" + got(*max_tokens);
    if (min_tokens < 0) return "min_tokens must be >= 0" + got(min_tokens);
    if (max_tokens && min_tokens > *max_tokens) {
        return "min_tokens must be <= max_tokens" + got(min_tokens);
    }
    if (logprobs && (*logprobs < 0 || *logprobs > kMaxLogprobs)) {
        return "logprobs must be in [0, " + std::to_string(kMaxLogprobs) + "]" + got(*logprobs);
    }
    if (n < 1) return "n must be >= 1" + got(n);
    return {};
}

}  // namespace folio
