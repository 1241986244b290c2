#pragma once
// KVRequest: the part of a request that the KV cache manager reads (vLLM v1's Request fields used
// by KVCacheManager). The scheduler's request embeds one and keeps it up to date; the manager
// keys its per-request state by request_id. Engine thread only.
#include <cstdint>
#include <string>
#include <vector>

#include "kv/block_hash.h"

namespace folio {

struct KVRequest {
    // Unique among live requests.
    std::string request_id;
    // Prompt followed by the output tokens so far. Only ever appended to.
    std::vector<int32_t> token_ids;
    // Tokens whose KV is in the cache (computed by a finished step). Owned by the scheduler: it
    // adds the scheduled tokens after each step and resets it to 0 on preemption. The manager only
    // reads it.
    int32_t num_computed_tokens = 0;
    // Mixed into every block hash (LoRA adapter id, cache salt ...): requests with different keys
    // never share blocks. Must not change once block_hashes is non-empty.
    std::vector<uint64_t> extra_keys;
    // Chained hash of each full block of token_ids, in order (block_hash.h). Maintained by
    // update_block_hashes(); KVCacheManager calls it, so the scheduler need not. Kept across
    // preemption, so a resumed request does not rehash.
    std::vector<BlockHash> block_hashes;

    int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }

    // Appends the hashes of the blocks that became full since the last call: afterwards
    // block_hashes.size() == num_tokens() / block_size. Idempotent; O(new full blocks).
    // Precondition: the same block_size on every call.
    void update_block_hashes(int32_t block_size);
};

}  // namespace folio
