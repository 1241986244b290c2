#pragma once
// KVCacheManager: the scheduler's only interface to the paged KV cache (vLLM v1's KVCacheManager,
// one full-attention KV cache group).
//
// Per request it keeps the ordered list of physical blocks that make up the request's block
// table: block i holds the KV of tokens [i * block_size, (i + 1) * block_size). With prefix
// caching, full blocks are registered by chained hash as soon as they are allocated for the step
// that computes them, so requests with a common prefix (including the children of a parallel
// sampling request) share physical blocks.
//
// Typical use by the scheduler, per step:
//   waiting request:  auto hit = get_computed_blocks(req);
//                     auto ids = allocate_slots(req, n, hit.num_computed_tokens, hit.block_ids);
//                     (no other allocation in between: the hit blocks may be free and evictable)
//   running request:  auto ids = allocate_slots(req, n);   // decode: n = 1
//   std::nullopt ("no room", nothing changed) -> preempt someone (free + num_computed_tokens = 0)
//                     or leave the request waiting.
//   finished/aborted: free(req).
// A successful allocate_slots must be followed by the step that computes those tokens (or by
// free() before the next lookup), because the blocks are already visible to prefix-cache lookups.
//
// Owns the BlockPool. Engine thread only. Not copyable or movable.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv/block_pool.h"
#include "kv/kv_request.h"

namespace folio {

// The longest cached prefix of a request, from get_computed_blocks().
struct ComputedBlocks {
    std::vector<int32_t> block_ids;   // physical blocks of the prefix, in order
    int32_t num_computed_tokens = 0;  // block_ids.size() * block_size
};

// Prefix-cache counters, in tokens (as vLLM's PrefixCacheStats): every get_computed_blocks call
// with caching enabled counts one request, its num_tokens() as queries and the cached prefix as
// hits.
struct PrefixCacheStats {
    int64_t requests = 0;
    int64_t queries = 0;
    int64_t hits = 0;

    // hits / queries, 0 when nothing was queried.
    double hit_rate() const {
        return queries == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(queries);
    }
};

class KVCacheManager {
  public:
    // num_blocks includes the null block 0, so num_blocks - 1 blocks are usable.
    // Preconditions: num_blocks >= 1, block_size >= 1.
    KVCacheManager(int32_t num_blocks, int32_t block_size, bool enable_caching = true);
    KVCacheManager(const KVCacheManager&) = delete;
    KVCacheManager& operator=(const KVCacheManager&) = delete;

    int32_t block_size() const { return block_size_; }
    int32_t num_blocks() const { return block_pool_.num_blocks(); }
    bool enable_caching() const { return block_pool_.enable_caching(); }

    // The longest prefix of full blocks of `request` found in the prefix cache, capped at
    // num_tokens() - 1 tokens so that at least the last token is recomputed (its logits are
    // sampled). Changes no ref count; pass the result to allocate_slots() right away.
    // Updates request.block_hashes and the prefix-cache stats. Empty when caching is disabled.
    // Precondition: the request holds no blocks (waiting, or preempted and freed).
    ComputedBlocks get_computed_blocks(KVRequest& request);

    // Makes room for `num_new_tokens` tokens after the request's num_computed_tokens and the
    // `num_new_computed_tokens` tokens of `new_computed_block_ids` (a prefix-cache hit from
    // get_computed_blocks, only for a request that holds no blocks yet). Takes a reference on the
    // hit blocks, allocates the missing blocks and registers the blocks that become full (up to
    // the request's num_tokens()) in the prefix cache. Returns the ids of the newly allocated
    // blocks (possibly none), or std::nullopt when the free blocks do not suffice; then nothing
    // changed. Preconditions: num_new_tokens >= 1; num_new_computed_tokens ==
    // new_computed_block_ids.size() * block_size(); the request's blocks cover its
    // num_computed_tokens.
    std::optional<std::vector<int32_t>> allocate_slots(
        KVRequest& request, int32_t num_new_tokens, int32_t num_new_computed_tokens = 0,
        std::span<const int32_t> new_computed_block_ids = {});

    // Releases the request's blocks, last block first (freed blocks keep their hashes and are
    // evicted in LRU order). No-op for a request that holds no blocks.
    void free(const KVRequest& request);

    // The request's block table (physical block ids in token order); empty if it holds none.
    std::vector<int32_t> get_block_ids(const std::string& request_id) const;

    // Blocks needed to hold `num_tokens` tokens: ceil(num_tokens / block_size).
    int32_t num_blocks_for_tokens(int32_t num_tokens) const;
    // Free blocks that allocate_slots() with the same arguments would consume (new blocks plus
    // hit blocks that are currently free). It succeeds iff this is <= num_free_blocks().
    int32_t get_num_blocks_to_allocate(const KVRequest& request, int32_t num_new_tokens,
                                       int32_t num_new_computed_tokens = 0,
                                       std::span<const int32_t> new_computed_block_ids = {}) const;

    int32_t num_free_blocks() const { return block_pool_.get_num_free_blocks(); }
    // Fraction of usable blocks held by requests, in [0, 1].
    double usage() const { return block_pool_.get_usage(); }

    const PrefixCacheStats& prefix_cache_stats() const { return prefix_cache_stats_; }
    double prefix_cache_hit_rate() const { return prefix_cache_stats_.hit_rate(); }
    void reset_prefix_cache_stats() { prefix_cache_stats_ = {}; }
    // Forgets every cached prefix; only when no request holds blocks (returns false otherwise).
    bool reset_prefix_cache() { return block_pool_.reset_prefix_cache(); }

    // Read-only view of the pool, for tests and metrics.
    const BlockPool& block_pool() const { return block_pool_; }

  private:
    struct RequestState {
        std::vector<KVCacheBlock*> blocks;  // block table, token order
        int32_t num_cached_blocks = 0;      // blocks[0, num_cached_blocks) are in the prefix cache
    };

    // FOLIO_CHECKs allocate_slots()'s preconditions on the request and its hit blocks.
    void check_computed_blocks(const KVRequest& request, int32_t num_new_computed_tokens,
                               std::span<const int32_t> block_ids) const;

    int32_t block_size_;
    BlockPool block_pool_;
    std::unordered_map<std::string, RequestState> requests_;
    PrefixCacheStats prefix_cache_stats_;
};

}  // namespace folio
