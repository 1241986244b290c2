#pragma once
// StopStringMatcher: finds SamplingParams::stop strings in streamed output text.
//
// Feed it the detokenizer's text deltas in order. It returns the text that is safe to show now
// and holds back the longest tail that could still become the start of a stop string, so a stop
// string split across tokens is caught and never partially shown. On a match, the text before the
// stop string is released, the stop string itself and everything after it are dropped (as OpenAI
// does), and the matcher stays stopped. flush() at the end of generation releases the held tail.
//
// When several stop strings match, the one that completes first in the text wins (on a tie, the
// one that starts first), so the result does not depend on how the text was split into deltas.
// Matching is byte-wise on UTF-8: emitted text ends on the same character boundaries as the input.
// One per sequence; not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

class StopStringMatcher {
  public:
    struct Result {
        std::string text;         // safe to emit now (may be empty)
        bool stopped = false;     // a stop string matched; generation should end
        int32_t stop_index = -1;  // index into the stop strings of the match, -1 if none
    };

    // Empty strings are ignored.
    explicit StopStringMatcher(std::vector<std::string> stop_strings);

    // Appends a delta. After a match, further calls return nothing.
    Result feed(std::string_view delta);
    // Releases the held-back text (empty once stopped).
    std::string flush();

    bool stopped() const { return stopped_; }
    bool empty() const { return stops_.empty(); }
    // The matched stop string, or empty if none matched.
    std::string_view matched() const;

  private:
    std::vector<std::string> stops_;
    std::vector<int32_t> stop_indices_;  // stops_[i] is the caller's stop_strings[stop_indices_[i]]
    std::string held_;
    size_t max_len_ = 0;
    bool stopped_ = false;
    int32_t matched_ = -1;  // index into stops_
};

}  // namespace folio
