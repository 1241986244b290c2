#pragma once
// KVCacheBlock and FreeKVCacheBlockQueue (vLLM v1 names and semantics).
//
// A KVCacheBlock is the bookkeeping of one physical KV block (block_size token slots in every
// layer's K and V cache); the memory itself belongs to the backend and is addressed by block_id.
// Blocks are owned by BlockPool, which keeps them in one vector for its lifetime, so pointers to
// blocks stay valid as long as the pool. Engine thread only; nothing here is thread-safe.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kv/block_hash.h"

namespace folio {

struct KVCacheBlock {
    int32_t block_id = 0;
    // Number of requests holding this block. 0 means free: the block sits in the free queue
    // (it may still carry a block_hash and be reused by a prefix-cache hit until evicted).
    int32_t ref_cnt = 0;
    // Set when the block is full and registered in the pool's prefix cache; reset on eviction.
    std::optional<BlockHash> block_hash;
    // Links of the free queue, nullptr while the block is not in it. Only FreeKVCacheBlockQueue
    // touches these.
    KVCacheBlock* prev_free_block = nullptr;
    KVCacheBlock* next_free_block = nullptr;
    // The null block (block 0): a placeholder that is never allocated, freed or cached.
    bool is_null = false;

    bool in_free_queue() const { return prev_free_block != nullptr; }
};

// Free blocks in eviction order: the head is evicted (reused) first. An intrusive doubly-linked
// list through the blocks' prev/next links with sentinel head and tail nodes, so that every
// operation except popleft_n/append_n/get_all_free_blocks is O(1) with no allocation.
// Does not own the blocks. Not copyable or movable (the sentinels are linked into the list).
class FreeKVCacheBlockQueue {
  public:
    // Links `blocks` in the given order; all of them must be outside any queue.
    explicit FreeKVCacheBlockQueue(std::span<KVCacheBlock> blocks);
    FreeKVCacheBlockQueue(const FreeKVCacheBlockQueue&) = delete;
    FreeKVCacheBlockQueue& operator=(const FreeKVCacheBlockQueue&) = delete;

    int32_t num_free_blocks() const { return num_free_blocks_; }

    // Removes and returns the head. Precondition: the queue is not empty.
    KVCacheBlock* popleft();
    // Removes the first `n` blocks and appends them to `out` in queue order.
    // Precondition: 0 <= n <= num_free_blocks().
    void popleft_n(int32_t n, std::vector<KVCacheBlock*>& out);
    // Removes `block` from wherever it is in the queue. Precondition: block->in_free_queue().
    void remove(KVCacheBlock* block);
    // Appends at the tail (evicted last). Precondition: !block->in_free_queue().
    void append(KVCacheBlock* block);
    // Appends `blocks` at the tail in the given order.
    void append_n(std::span<KVCacheBlock* const> blocks);

    // The queue from head to tail (tests, debugging). O(n).
    std::vector<KVCacheBlock*> get_all_free_blocks() const;

  private:
    KVCacheBlock head_;  // sentinel: head_.next_free_block is the first free block
    KVCacheBlock tail_;  // sentinel: tail_.prev_free_block is the last free block
    int32_t num_free_blocks_ = 0;
};

}  // namespace folio
