#include "shared_data.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace folio::test {

std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("FOLIO_SHARED_DIR"); env && *env) return env;
    return FOLIO_SHARED_DIR;
}

std::filesystem::path shared_path(const std::string& relative) {
    return shared_dir() / relative;
}

std::filesystem::path scratch_dir(const std::string& name) {
    auto dir = std::filesystem::path(FOLIO_BINARY_DIR) / "test-scratch" / name;
    std::filesystem::create_directories(dir);
    return dir;
}

std::filesystem::path folio_binary() {
    return std::filesystem::path(FOLIO_BINARY_DIR) / "app" / "folio";
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace folio::test
