#include "golden_logits.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "shared_data.h"

namespace folio::test {

std::vector<GoldenRow> load_golden(const std::string& name) {
    std::istringstream in(read_file(shared_path("golden/logits/" + name + ".jsonl")));
    std::vector<GoldenRow> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto j = nlohmann::json::parse(line);
        GoldenRow r;
        r.prompt = j.at("prompt").get<std::string>();
        r.prompt_tokens = j.at("prompt_tokens").get<std::vector<int32_t>>();
        r.tokens = j.at("tokens").get<std::vector<int32_t>>();
        r.text = j.at("text").get<std::string>();
        for (const auto& step : j.at("steps")) {
            TopLogits top;
            for (const auto& e : step.at("top"))
                top.emplace_back(e[0].get<int32_t>(), e[1].get<float>());
            std::stable_sort(top.begin(), top.end(),
                             [](const auto& a, const auto& b) { return a.second > b.second; });
            r.top.push_back(std::move(top));
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

float reference_scale(const TopLogits& top) {
    float scale = 1.0f;
    for (const auto& [id, v] : top) scale = std::max(scale, std::fabs(v));
    return scale;
}

bool clear_margin(const TopLogits& top, double tol) {
    return top.size() >= 2 && top[0].second - top[1].second > 2 * tol * reference_scale(top);
}

}  // namespace folio::test
