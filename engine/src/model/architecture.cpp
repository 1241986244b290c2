#include "model/architecture.h"

#include <array>

namespace folio {
namespace {

constexpr std::array kArchitectures = {
    Architecture{"llama", RopeType::Norm, &bind_llama},
    Architecture{"qwen2", RopeType::Neox, &bind_qwen2},
    Architecture{"phi3", RopeType::Neox, &bind_phi3},
};

}  // namespace

const Architecture* find_architecture(std::string_view name) {
    for (const auto& a : kArchitectures)
        if (a.name == name) return &a;
    return nullptr;
}

std::string supported_architectures() {
    std::string out;
    for (const auto& a : kArchitectures) {
        if (!out.empty()) out += ", ";
        out += a.name;
    }
    return out;
}

}  // namespace folio
