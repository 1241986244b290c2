#pragma once
// Block hashes for automatic prefix caching (vLLM v1's hash_block_tokens).
//
// A full block of a request is identified by a chained hash: the hash of its parent block (the
// previous full block of the same request, none for the first block), the block's token ids and
// optional extra keys (a LoRA adapter id, a cache salt, a multimodal input id ...). Two requests
// whose first k full blocks have equal hashes have equal token prefixes (up to a 128-bit collision)
// and can share those k physical KV blocks. XXH3-128 with a fixed seed: stable across runs.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

namespace folio {

// A 128-bit block hash: a plain value type, usable as an unordered_map key (std::hash below).
struct BlockHash {
    uint64_t low64 = 0;
    uint64_t high64 = 0;

    bool operator==(const BlockHash&) const = default;
};

// Hash of one full block. `parent_hash` is the previous block's hash (std::nullopt for the first
// block of a sequence). `token_ids` are the block's tokens (block_size of them for a full block).
// `extra_keys` distinguish blocks whose tokens are equal but whose KV differs (adapter, salt).
// The token and key counts are part of the hash, so no two different inputs share a byte stream.
BlockHash hash_block_tokens(std::optional<BlockHash> parent_hash,
                            std::span<const int32_t> token_ids,
                            std::span<const uint64_t> extra_keys = {});

}  // namespace folio

template <>
struct std::hash<folio::BlockHash> {
    // The value is already uniformly distributed: fold the two halves.
    size_t operator()(const folio::BlockHash& h) const noexcept {
        return static_cast<size_t>(h.low64 ^ (h.high64 * 0x9E3779B97F4A7C15ULL));
    }
};
