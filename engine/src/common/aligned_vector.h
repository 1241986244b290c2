#pragma once
// std::vector with 64-byte aligned storage: SIMD loops over it never split a load across two
// cache lines (what malloc's 16-byte alignment allows for 32-byte vectors).
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace folio {

template <typename T>
struct CacheLineAllocator {
    using value_type = T;
    static constexpr size_t kAlign = 64;

    CacheLineAllocator() = default;
    template <typename U>
    CacheLineAllocator(const CacheLineAllocator<U>&) {}

    T* allocate(size_t n) {
        const size_t bytes = (n * sizeof(T) + kAlign - 1) / kAlign * kAlign;
        void* p = std::aligned_alloc(kAlign, bytes == 0 ? kAlign : bytes);
        if (p == nullptr) throw std::bad_alloc();
        return static_cast<T*>(p);
    }
    void deallocate(T* p, size_t) { std::free(p); }
    template <typename U>
    bool operator==(const CacheLineAllocator<U>&) const {
        return true;
    }
};

template <typename T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace folio
