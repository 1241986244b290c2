#pragma once
// BlockPool: every physical KV block, the free queue and the prefix cache (vLLM v1's BlockPool).
//
// Block 0 is the null block: it is taken out of the free queue at construction and is never
// handed out, freed, touched or cached, so the pool has num_blocks - 1 usable blocks.
//
// Prefix cache: a full block of a request gets its chained block hash (block_hash.h) and is
// registered in a map hash -> block. When its last holder frees it, the block goes to the free
// queue but keeps its hash, so a later request with the same prefix reuses it (touch). It loses
// the hash only when the free queue hands it out again (eviction, LRU order). Two blocks may carry
// the same hash (two requests computed the same prefix before either was cached); the map then
// holds both, as vLLM's does.
//
// Owned by KVCacheManager; the scheduler never sees the pool. Engine thread only. Not copyable or
// movable: the free queue and the map point into the pool's block vector.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/block_hash.h"
#include "kv/kv_block.h"

namespace folio {

class BlockPool {
  public:
    // Precondition: num_blocks >= 1 (block 0 is the null block). With enable_caching false, no
    // block is ever hashed and cache_full_blocks / get_cached_block are no-ops.
    BlockPool(int32_t num_blocks, bool enable_caching);
    BlockPool(const BlockPool&) = delete;
    BlockPool& operator=(const BlockPool&) = delete;

    int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
    bool enable_caching() const { return enable_caching_; }

    // Pops `num_blocks` blocks from the head of the free queue (LRU first), evicting each from the
    // prefix cache if it carries a hash, and returns them with ref_cnt 1, in queue order.
    // Precondition: num_blocks <= get_num_free_blocks().
    std::vector<KVCacheBlock*> get_new_blocks(int32_t num_blocks);

    // A block carrying `block_hash` (held or free), or nullptr. Prefers a held block when several
    // carry the hash, so free duplicates stay evictable. Does not change any ref count.
    KVCacheBlock* get_cached_block(const BlockHash& block_hash) const;

    // Registers the blocks of one request that became full: request_blocks[i] for
    // num_cached_blocks <= i < num_full_blocks gets block_hashes[i] and enters the map.
    // Preconditions: num_cached_blocks <= num_full_blocks <= request_blocks.size() and
    // <= block_hashes.size(); those blocks carry no hash yet (fresh from get_new_blocks).
    void cache_full_blocks(std::span<KVCacheBlock* const> request_blocks, int32_t num_cached_blocks,
                           int32_t num_full_blocks, std::span<const BlockHash> block_hashes);

    // A request takes a reference on each block (prefix-cache hit): ref_cnt += 1, and blocks that
    // were free (ref_cnt 0) leave the free queue, wherever they are in it.
    void touch(std::span<KVCacheBlock* const> blocks);

    // Drops one reference on each block; blocks reaching ref_cnt 0 are appended to the free-queue
    // tail in the given order, keeping their hashes. Callers pass a request's blocks in reverse
    // order so that its last (least shareable) blocks are evicted first.
    // Precondition: every block has ref_cnt >= 1.
    void free_blocks(std::span<KVCacheBlock* const> ordered_blocks);

    // Drops every hash (e.g. after the model or the KV dtype changed). Only possible when no block
    // is held; returns false and changes nothing otherwise.
    bool reset_prefix_cache();

    int32_t get_num_free_blocks() const { return free_block_queue_.num_free_blocks(); }
    // Fraction of usable blocks held by requests, in [0, 1].
    double get_usage() const;

    // Introspection for the manager, tests and metrics.
    KVCacheBlock* get_block(int32_t block_id);
    const KVCacheBlock& block(int32_t block_id) const;
    const KVCacheBlock& null_block() const { return blocks_[0]; }
    // Free-queue block ids from head (evicted first) to tail.
    std::vector<int32_t> free_block_ids() const;
    // Entries of the hash -> block map (unordered), and their count.
    std::vector<std::pair<BlockHash, int32_t>> cached_block_entries() const;
    int32_t num_cached_blocks() const { return static_cast<int32_t>(cached_block_map_.size()); }

  private:
    // Removes `block`'s hash from the block and the map, if it has one.
    void maybe_evict_cached_block(KVCacheBlock* block);

    bool enable_caching_;
    std::vector<KVCacheBlock> blocks_;  // index == block_id; never resized
    FreeKVCacheBlockQueue free_block_queue_;
    std::unordered_multimap<BlockHash, KVCacheBlock*> cached_block_map_;
};

}  // namespace folio
