#include "kv/kv_block.h"

#include "common/check.h"

namespace folio {

FreeKVCacheBlockQueue::FreeKVCacheBlockQueue(std::span<KVCacheBlock> blocks) {
    head_.next_free_block = &tail_;
    tail_.prev_free_block = &head_;
    for (KVCacheBlock& block : blocks) append(&block);
}

KVCacheBlock* FreeKVCacheBlockQueue::popleft() {
    FOLIO_CHECK(num_free_blocks_ > 0);
    KVCacheBlock* block = head_.next_free_block;
    remove(block);
    return block;
}

void FreeKVCacheBlockQueue::popleft_n(int32_t n, std::vector<KVCacheBlock*>& out) {
    FOLIO_CHECK(n >= 0 && n <= num_free_blocks_);
    out.reserve(out.size() + static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) out.push_back(popleft());
}

void FreeKVCacheBlockQueue::remove(KVCacheBlock* block) {
    FOLIO_CHECK(block->in_free_queue() && block != &head_ && block != &tail_);
    block->prev_free_block->next_free_block = block->next_free_block;
    block->next_free_block->prev_free_block = block->prev_free_block;
    block->prev_free_block = nullptr;
    block->next_free_block = nullptr;
    --num_free_blocks_;
}

void FreeKVCacheBlockQueue::append(KVCacheBlock* block) {
    FOLIO_CHECK(!block->in_free_queue() && block->next_free_block == nullptr);
    KVCacheBlock* last = tail_.prev_free_block;
    last->next_free_block = block;
    block->prev_free_block = last;
    block->next_free_block = &tail_;
    tail_.prev_free_block = block;
    ++num_free_blocks_;
}

void FreeKVCacheBlockQueue::append_n(std::span<KVCacheBlock* const> blocks) {
    for (KVCacheBlock* block : blocks) append(block);
}

std::vector<KVCacheBlock*> FreeKVCacheBlockQueue::get_all_free_blocks() const {
    std::vector<KVCacheBlock*> out;
    out.reserve(static_cast<size_t>(num_free_blocks_));
    for (KVCacheBlock* b = head_.next_free_block; b != &tail_; b = b->next_free_block) {
        out.push_back(b);
    }
    return out;
}

}  // namespace folio
