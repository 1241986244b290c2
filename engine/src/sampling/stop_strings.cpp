#include "sampling/stop_strings.h"

#include <algorithm>

namespace folio {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stop_strings) {
    for (size_t i = 0; i < stop_strings.size(); ++i) {
        if (stop_strings[i].empty()) continue;
        max_len_ = std::max(max_len_, stop_strings[i].size());
        stops_.push_back(std::move(stop_strings[i]));
        stop_indices_.push_back(static_cast<int32_t>(i));
    }
}

std::string_view StopStringMatcher::matched() const {
    return matched_ < 0 ? std::string_view{} : std::string_view{stops_[matched_]};
}

StopStringMatcher::Result StopStringMatcher::feed(std::string_view delta) {
    Result out;
    if (stopped_) {
        out.stopped = true;
        out.stop_index = stop_indices_[matched_];
        return out;
    }
    if (stops_.empty()) {
        out.text.assign(delta);
        return out;
    }
    held_.append(delta);

    // Earliest-completing match. held_ never contains the start of a match that began in text
    // already emitted, so searching held_ alone is enough; it is shorter than max_len_ + delta.
    size_t best_end = std::string::npos;
    size_t best_start = 0;
    for (size_t i = 0; i < stops_.size(); ++i) {
        const size_t pos = held_.find(stops_[i]);
        if (pos == std::string::npos) continue;
        const size_t end = pos + stops_[i].size();
        if (end < best_end || (end == best_end && pos < best_start)) {
            best_end = end;
            best_start = pos;
            matched_ = static_cast<int32_t>(i);
        }
    }
    if (matched_ >= 0) {
        stopped_ = true;
        out.text = held_.substr(0, best_start);
        out.stopped = true;
        out.stop_index = stop_indices_[matched_];
        held_.clear();
        return out;
    }

    // Hold back the longest tail of held_ that is a proper prefix of some stop string.
    size_t hold = 0;
    for (size_t len = std::min(held_.size(), max_len_ - 1); len > 0 && hold == 0; --len) {
        const std::string_view tail = std::string_view(held_).substr(held_.size() - len);
        for (const std::string& s : stops_) {
            if (s.size() > len && std::string_view(s).substr(0, len) == tail) {
                hold = len;
                break;
            }
        }
    }
    out.text = held_.substr(0, held_.size() - hold);
    held_.erase(0, held_.size() - hold);
    return out;
}

std::string StopStringMatcher::flush() {
    std::string out;
    out.swap(held_);
    return out;
}

}  // namespace folio
