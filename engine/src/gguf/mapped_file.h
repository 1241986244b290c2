#pragma once
// A whole file mapped read-only (MAP_PRIVATE), unmapped on destruction.
#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace folio::gguf {

class MappedFile {
  public:
    // Throws GgufError (offset 0, field "file") when the file cannot be opened or mapped.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    // nullptr for an empty file.
    const uint8_t* data() const { return static_cast<const uint8_t*>(m_addr); }
    size_t size() const { return m_size; }

  private:
    void* m_addr = nullptr;
    size_t m_size = 0;
};

// Drops this process's resident pages of a read-only file mapping in [addr, addr + bytes)
// (whole pages inside the range only), e.g. tensor data once a repacked copy replaces it: the
// process's memory no longer counts them, and a later read faults them back in from the file.
void release_mapped_pages(const void* addr, size_t bytes);

}  // namespace folio::gguf
