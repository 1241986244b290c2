#pragma once
// Locations of the test data in ../shared (see shared/README.md) and the build tree.
#include <filesystem>
#include <string>

namespace folio::test {

// Root of the shared data: $FOLIO_SHARED_DIR if set, else the path configured at build time.
std::filesystem::path shared_dir();
// shared_dir() / relative, e.g. shared_path("models/stories260K.gguf").
std::filesystem::path shared_path(const std::string& relative);
// A scratch folder inside the build tree, created on demand, unique per name.
std::filesystem::path scratch_dir(const std::string& name);
// The folio CLI binary built beside the tests.
std::filesystem::path folio_binary();
// Whole file contents; throws std::runtime_error naming the path when unreadable.
std::string read_file(const std::filesystem::path& path);

}  // namespace folio::test
