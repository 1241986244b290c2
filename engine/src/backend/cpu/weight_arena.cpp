#include "backend/cpu/weight_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace folio {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// Address space reserved per mapping. Untouched pages cost nothing, so this is generous.
constexpr size_t kMappingSize = size_t{512} << 20;

size_t round_up(size_t v, size_t a) {
    return (v + a - 1) / a * a;
}

// A huge-page aligned anonymous mapping of `size` bytes (a multiple of kHugePage).
uint8_t* map_aligned(size_t size) {
    const size_t span = size + kHugePage;
    void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    auto* raw = static_cast<uint8_t*>(p);
    auto* base = reinterpret_cast<uint8_t*>(round_up(reinterpret_cast<uintptr_t>(raw), kHugePage));
    if (base > raw) munmap(raw, base - raw);
    const size_t tail = raw + span - (base + size);
    if (tail > 0) munmap(base + size, tail);
    // Advice only: without THP the mapping still works on small pages.
    madvise(base, size, MADV_HUGEPAGE);
    return base;
}

}  // namespace

WeightArena::~WeightArena() {
    for (const Mapping& m : m_maps) munmap(m.base, m.size);
}

void* WeightArena::allocate(size_t bytes) {
    bytes = round_up(std::max<size_t>(bytes, 1), 64);
    if (m_maps.empty() || m_maps.back().size - m_maps.back().used < bytes) {
        const size_t size = round_up(std::max(bytes, kMappingSize), kHugePage);
        m_maps.push_back({map_aligned(size), size, 0});
    }
    Mapping& m = m_maps.back();
    void* p = m.base + m.used;
    m.used += bytes;
    m_used += bytes;
    return p;
}

}  // namespace folio
