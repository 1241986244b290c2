#pragma once
// Memory for repacked weights, carved out of large anonymous mappings that the kernel may back
// with 2 MiB transparent huge pages (MADV_HUGEPAGE; Debian's default THP mode is "madvise").
// Decoding streams every weight once per token; on 4 KiB pages that is a TLB miss every 4 KiB,
// which cost bench-300m about 8% of its decode speed. Weights are bump-allocated back to back,
// so small ones share huge pages and only the last page of a mapping is partly used.
// One arena per loaded model: everything goes when it goes.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace folio {

class WeightArena {
  public:
    WeightArena() = default;
    ~WeightArena();
    WeightArena(const WeightArena&) = delete;
    WeightArena& operator=(const WeightArena&) = delete;

    // `bytes` of zeroed memory, 64-byte aligned, valid until the arena is destroyed.
    // Throws std::bad_alloc when no address space is left.
    void* allocate(size_t bytes);

    // Bytes handed out so far (the resident size, up to one partly used page per mapping).
    size_t bytes_used() const { return m_used; }

  private:
    struct Mapping {
        uint8_t* base;
        size_t size, used;
    };
    std::vector<Mapping> m_maps;
    size_t m_used = 0;
};

}  // namespace folio
