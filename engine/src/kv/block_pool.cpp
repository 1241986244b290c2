#include "kv/block_pool.h"

#include "common/check.h"

namespace folio {

namespace {

std::vector<KVCacheBlock> make_blocks(int32_t num_blocks) {
    FOLIO_CHECK(num_blocks >= 1);
    std::vector<KVCacheBlock> blocks(static_cast<size_t>(num_blocks));
    for (int32_t i = 0; i < num_blocks; ++i) blocks[static_cast<size_t>(i)].block_id = i;
    return blocks;
}

}  // namespace

BlockPool::BlockPool(int32_t num_blocks, bool enable_caching)
    : enable_caching_(enable_caching),
      blocks_(make_blocks(num_blocks)),
      free_block_queue_(std::span<KVCacheBlock>(blocks_)) {
    KVCacheBlock* null_block = free_block_queue_.popleft();
    FOLIO_CHECK(null_block->block_id == 0);
    null_block->is_null = true;
}

std::vector<KVCacheBlock*> BlockPool::get_new_blocks(int32_t num_blocks) {
    FOLIO_CHECK(num_blocks >= 0 && num_blocks <= get_num_free_blocks());
    std::vector<KVCacheBlock*> out;
    free_block_queue_.popleft_n(num_blocks, out);
    for (KVCacheBlock* block : out) {
        FOLIO_CHECK(block->ref_cnt == 0 && !block->is_null);
        maybe_evict_cached_block(block);
        block->ref_cnt = 1;
    }
    return out;
}

KVCacheBlock* BlockPool::get_cached_block(const BlockHash& block_hash) const {
    auto [first, last] = cached_block_map_.equal_range(block_hash);
    if (first == last) return nullptr;
    for (auto it = first; it != last; ++it) {
        if (it->second->ref_cnt > 0) return it->second;
    }
    return first->second;
}

void BlockPool::cache_full_blocks(std::span<KVCacheBlock* const> request_blocks,
                                  int32_t num_cached_blocks, int32_t num_full_blocks,
                                  std::span<const BlockHash> block_hashes) {
    if (!enable_caching_ || num_cached_blocks >= num_full_blocks) return;
    FOLIO_CHECK(num_cached_blocks >= 0);
    FOLIO_CHECK(static_cast<size_t>(num_full_blocks) <= request_blocks.size());
    FOLIO_CHECK(static_cast<size_t>(num_full_blocks) <= block_hashes.size());
    for (int32_t i = num_cached_blocks; i < num_full_blocks; ++i) {
        KVCacheBlock* block = request_blocks[static_cast<size_t>(i)];
        FOLIO_CHECK(!block->is_null && block->ref_cnt > 0 && !block->block_hash.has_value());
        const BlockHash& hash = block_hashes[static_cast<size_t>(i)];
        block->block_hash = hash;
        cached_block_map_.emplace(hash, block);
    }
}

void BlockPool::touch(std::span<KVCacheBlock* const> blocks) {
    for (KVCacheBlock* block : blocks) {
        FOLIO_CHECK(!block->is_null);
        if (block->ref_cnt == 0) free_block_queue_.remove(block);
        ++block->ref_cnt;
    }
}

void BlockPool::free_blocks(std::span<KVCacheBlock* const> ordered_blocks) {
    for (KVCacheBlock* block : ordered_blocks) {
        FOLIO_CHECK(!block->is_null && block->ref_cnt >= 1);
        if (--block->ref_cnt == 0) free_block_queue_.append(block);
    }
}

bool BlockPool::reset_prefix_cache() {
    if (get_num_free_blocks() != num_blocks() - 1) return false;
    for (auto& [hash, block] : cached_block_map_) block->block_hash.reset();
    cached_block_map_.clear();
    return true;
}

double BlockPool::get_usage() const {
    const int32_t num_usable = num_blocks() - 1;
    if (num_usable == 0) return 0.0;
    return 1.0 - static_cast<double>(get_num_free_blocks()) / static_cast<double>(num_usable);
}

KVCacheBlock* BlockPool::get_block(int32_t block_id) {
    FOLIO_CHECK(block_id >= 0 && block_id < num_blocks());
    return &blocks_[static_cast<size_t>(block_id)];
}

const KVCacheBlock& BlockPool::block(int32_t block_id) const {
    FOLIO_CHECK(block_id >= 0 && block_id < num_blocks());
    return blocks_[static_cast<size_t>(block_id)];
}

std::vector<int32_t> BlockPool::free_block_ids() const {
    std::vector<int32_t> ids;
    for (const KVCacheBlock* block : free_block_queue_.get_all_free_blocks()) {
        ids.push_back(block->block_id);
    }
    return ids;
}

std::vector<std::pair<BlockHash, int32_t>> BlockPool::cached_block_entries() const {
    std::vector<std::pair<BlockHash, int32_t>> entries;
    entries.reserve(cached_block_map_.size());
    for (const auto& [hash, block] : cached_block_map_) entries.emplace_back(hash, block->block_id);
    return entries;
}

void BlockPool::maybe_evict_cached_block(KVCacheBlock* block) {
    if (!block->block_hash) return;
    auto [first, last] = cached_block_map_.equal_range(*block->block_hash);
    bool erased = false;
    for (auto it = first; it != last; ++it) {
        if (it->second == block) {
            cached_block_map_.erase(it);
            erased = true;
            break;
        }
    }
    FOLIO_CHECK(erased);
    block->block_hash.reset();
}

}  // namespace folio
