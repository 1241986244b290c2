#include "backend/cpu/cpu_kv_cache.h"

#include <sys/mman.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "backend/cpu/cpu_ops.h"
#include "common/check.h"
#include "tensor/quants.h"

namespace folio {
namespace {

void check_shape(const KvCacheShape& s) {
    if (s.dtype != DType::F16 && s.dtype != DType::F32 && s.dtype != DType::Q8_0)
        throw std::runtime_error("KV cache type " + std::string(dtype_name(s.dtype)) +
                                 " is not supported (use f16, f32 or q8_0)");
    if (s.dtype == DType::Q8_0 && s.head_dim % QK8_0 != 0)
        throw std::runtime_error("KV cache type q8_0 needs a head size that is a multiple of 32");
    if (s.n_layer <= 0 || s.n_kv_head <= 0 || s.head_dim <= 0 || s.num_blocks <= 0 ||
        s.block_size <= 0)
        throw std::runtime_error("KV cache shape must be positive");
}

}  // namespace

size_t CpuKvCache::bytes_per_block(const KvCacheShape& s) {
    return 2 * static_cast<size_t>(s.n_layer) * s.n_kv_head * s.block_size *
           dtype_row_size(s.dtype, s.head_dim);
}

CpuKvCache::CpuKvCache(const KvCacheShape& shape, bool commit_now) : m_shape(shape) {
    check_shape(shape);
    m_head_bytes = dtype_row_size(shape.dtype, shape.head_dim);
    m_block_bytes = m_head_bytes * shape.block_size * shape.n_kv_head;
    m_total_bytes = bytes_per_block(shape) * shape.num_blocks;
    // Anonymous mapping: zero pages are committed when a block is first written, or all at once
    // (MAP_POPULATE) when asked.
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (commit_now ? MAP_POPULATE : 0);
    void* p = mmap(nullptr, m_total_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error("cannot reserve " + std::to_string(m_total_bytes >> 20) +
                                 " MiB for the KV cache");
    m_data = static_cast<uint8_t*>(p);
}

CpuKvCache::~CpuKvCache() {
    if (m_data) munmap(m_data, m_total_bytes);
}

uint8_t* CpuKvCache::ptr(int kv, int64_t layer, int64_t block, int64_t h) {
    const size_t per_layer = m_block_bytes * m_shape.num_blocks;
    return m_data + (static_cast<size_t>(layer) * 2 + kv) * per_layer + block * m_block_bytes +
           h * m_head_bytes * m_shape.block_size;
}

void CpuKvCache::store(int64_t layer, int64_t slot, const float* k, const float* v) {
    const int64_t block = slot / m_shape.block_size, off = slot % m_shape.block_size;
    FOLIO_CHECK(block >= 0 && block < m_shape.num_blocks);
    for (int64_t h = 0; h < m_shape.n_kv_head; ++h) {
        uint8_t* kd = k_head(layer, block, h) + off * m_head_bytes;
        uint8_t* vd = v_head(layer, block, h) + off * m_head_bytes;
        const float* ks = k + h * m_shape.head_dim;
        const float* vs = v + h * m_shape.head_dim;
        if (m_shape.dtype == DType::F16) {  // the default cache: F16C instead of scalar code
            f32_to_fp16_row(ks, reinterpret_cast<fp16_t*>(kd), m_shape.head_dim);
            f32_to_fp16_row(vs, reinterpret_cast<fp16_t*>(vd), m_shape.head_dim);
        } else {
            quantize_row_ref(m_shape.dtype, ks, kd, m_shape.head_dim);
            quantize_row_ref(m_shape.dtype, vs, vd, m_shape.head_dim);
        }
    }
}

}  // namespace folio
