#include "kv/kv_cache_manager.h"

#include <algorithm>

#include "common/check.h"

namespace folio {

KVCacheManager::KVCacheManager(int32_t num_blocks, int32_t block_size, bool enable_caching)
    : block_size_(block_size), block_pool_(num_blocks, enable_caching) {
    FOLIO_CHECK(block_size >= 1);
}

ComputedBlocks KVCacheManager::get_computed_blocks(KVRequest& request) {
    auto it = requests_.find(request.request_id);
    FOLIO_CHECK(it == requests_.end() || it->second.blocks.empty());
    if (!enable_caching()) return {};

    request.update_block_hashes(block_size_);
    // Never the whole prompt: the last token is recomputed to get logits to sample from.
    const int32_t max_cache_hit_tokens = std::max(request.num_tokens() - 1, 0);
    const size_t max_cache_hit_blocks = static_cast<size_t>(max_cache_hit_tokens / block_size_);
    ComputedBlocks result;
    for (size_t i = 0; i < max_cache_hit_blocks; ++i) {
        const KVCacheBlock* block = block_pool_.get_cached_block(request.block_hashes[i]);
        if (block == nullptr) break;
        result.block_ids.push_back(block->block_id);
    }
    result.num_computed_tokens = static_cast<int32_t>(result.block_ids.size()) * block_size_;

    ++prefix_cache_stats_.requests;
    prefix_cache_stats_.queries += request.num_tokens();
    prefix_cache_stats_.hits += result.num_computed_tokens;
    return result;
}

std::optional<std::vector<int32_t>> KVCacheManager::allocate_slots(
    KVRequest& request, int32_t num_new_tokens, int32_t num_new_computed_tokens,
    std::span<const int32_t> new_computed_block_ids) {
    FOLIO_CHECK(num_new_tokens >= 1);
    check_computed_blocks(request, num_new_computed_tokens, new_computed_block_ids);

    const int32_t num_blocks_to_allocate = get_num_blocks_to_allocate(
        request, num_new_tokens, num_new_computed_tokens, new_computed_block_ids);
    if (num_blocks_to_allocate > block_pool_.get_num_free_blocks()) return std::nullopt;

    RequestState& state = requests_[request.request_id];
    if (!new_computed_block_ids.empty()) {
        std::vector<KVCacheBlock*> hit_blocks;
        hit_blocks.reserve(new_computed_block_ids.size());
        for (int32_t id : new_computed_block_ids) hit_blocks.push_back(block_pool_.get_block(id));
        block_pool_.touch(hit_blocks);
        state.blocks = std::move(hit_blocks);
        state.num_cached_blocks = static_cast<int32_t>(state.blocks.size());
    }

    const int32_t num_total_tokens =
        request.num_computed_tokens + num_new_computed_tokens + num_new_tokens;
    const int32_t num_new_blocks = std::max(
        num_blocks_for_tokens(num_total_tokens) - static_cast<int32_t>(state.blocks.size()), 0);
    std::vector<KVCacheBlock*> new_blocks = block_pool_.get_new_blocks(num_new_blocks);
    std::vector<int32_t> new_block_ids;
    new_block_ids.reserve(new_blocks.size());
    for (KVCacheBlock* block : new_blocks) new_block_ids.push_back(block->block_id);
    state.blocks.insert(state.blocks.end(), new_blocks.begin(), new_blocks.end());

    if (enable_caching()) {
        // Cache what becomes full, but only up to the tokens the request really has.
        request.update_block_hashes(block_size_);
        const int32_t num_tokens_to_cache = std::min(num_total_tokens, request.num_tokens());
        const int32_t num_full_blocks = num_tokens_to_cache / block_size_;
        if (num_full_blocks > state.num_cached_blocks) {
            block_pool_.cache_full_blocks(state.blocks, state.num_cached_blocks, num_full_blocks,
                                          request.block_hashes);
            state.num_cached_blocks = num_full_blocks;
        }
    }
    return new_block_ids;
}

void KVCacheManager::free(const KVRequest& request) {
    auto it = requests_.find(request.request_id);
    if (it == requests_.end()) return;
    const std::vector<KVCacheBlock*>& blocks = it->second.blocks;
    const std::vector<KVCacheBlock*> reversed(blocks.rbegin(), blocks.rend());
    block_pool_.free_blocks(reversed);
    requests_.erase(it);
}

std::vector<int32_t> KVCacheManager::get_block_ids(const std::string& request_id) const {
    std::vector<int32_t> ids;
    auto it = requests_.find(request_id);
    if (it == requests_.end()) return ids;
    ids.reserve(it->second.blocks.size());
    for (const KVCacheBlock* block : it->second.blocks) ids.push_back(block->block_id);
    return ids;
}

int32_t KVCacheManager::num_blocks_for_tokens(int32_t num_tokens) const {
    FOLIO_CHECK(num_tokens >= 0);
    return (num_tokens + block_size_ - 1) / block_size_;
}

int32_t KVCacheManager::get_num_blocks_to_allocate(
    const KVRequest& request, int32_t num_new_tokens, int32_t num_new_computed_tokens,
    std::span<const int32_t> new_computed_block_ids) const {
    auto it = requests_.find(request.request_id);
    const int32_t num_held =
        it == requests_.end() ? 0 : static_cast<int32_t>(it->second.blocks.size());
    const int32_t num_total_tokens =
        request.num_computed_tokens + num_new_computed_tokens + num_new_tokens;
    const int32_t num_hit_blocks = static_cast<int32_t>(new_computed_block_ids.size());
    const int32_t num_new_blocks =
        std::max(num_blocks_for_tokens(num_total_tokens) - num_held - num_hit_blocks, 0);
    // A hit block that is free leaves the free queue when touched: it costs a free block too.
    int32_t num_evictable_hit_blocks = 0;
    for (int32_t id : new_computed_block_ids) {
        if (block_pool_.block(id).ref_cnt == 0) ++num_evictable_hit_blocks;
    }
    return num_new_blocks + num_evictable_hit_blocks;
}

void KVCacheManager::check_computed_blocks(const KVRequest& request,
                                           int32_t num_new_computed_tokens,
                                           std::span<const int32_t> block_ids) const {
    FOLIO_CHECK(num_new_computed_tokens == static_cast<int32_t>(block_ids.size()) * block_size_);
    auto it = requests_.find(request.request_id);
    const size_t num_held = it == requests_.end() ? 0 : it->second.blocks.size();
    FOLIO_CHECK(request.num_computed_tokens >= 0 &&
                request.num_computed_tokens <= static_cast<int32_t>(num_held) * block_size_);
    if (block_ids.empty()) return;
    // A hit is only for a request that holds nothing yet, and must still be what
    // get_computed_blocks() found (no allocation in between evicted it).
    FOLIO_CHECK(enable_caching() && num_held == 0);
    FOLIO_CHECK(block_ids.size() <= request.block_hashes.size());
    for (size_t i = 0; i < block_ids.size(); ++i) {
        const KVCacheBlock& block = block_pool_.block(block_ids[i]);
        FOLIO_CHECK(!block.is_null && block.block_hash == request.block_hashes[i]);
    }
}

}  // namespace folio
