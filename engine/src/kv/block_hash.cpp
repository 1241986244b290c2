#include "kv/block_hash.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "common/check.h"

namespace folio {

namespace {

// Seed of every block hash: a fixed value (not 0) so that hashes are stable across runs.
constexpr XXH64_hash_t kBlockHashSeed = 0x666f6c696f6b7631ULL;  // "foliokv1"

// Marks whether a parent hash is present, so that "no parent" differs from any parent value.
constexpr uint8_t kNoParent = 0;
constexpr uint8_t kHasParent = 1;

}  // namespace

BlockHash hash_block_tokens(std::optional<BlockHash> parent_hash,
                            std::span<const int32_t> token_ids,
                            std::span<const uint64_t> extra_keys) {
    XXH3_state_t state;
    FOLIO_CHECK(XXH3_128bits_reset_withSeed(&state, kBlockHashSeed) == XXH_OK);
    const uint8_t parent_tag = parent_hash ? kHasParent : kNoParent;
    XXH3_128bits_update(&state, &parent_tag, sizeof(parent_tag));
    if (parent_hash) {
        const uint64_t parent[2] = {parent_hash->low64, parent_hash->high64};
        XXH3_128bits_update(&state, parent, sizeof(parent));
    }
    const uint64_t num_tokens = token_ids.size();
    XXH3_128bits_update(&state, &num_tokens, sizeof(num_tokens));
    XXH3_128bits_update(&state, token_ids.data(), token_ids.size_bytes());
    const uint64_t num_extra_keys = extra_keys.size();
    XXH3_128bits_update(&state, &num_extra_keys, sizeof(num_extra_keys));
    XXH3_128bits_update(&state, extra_keys.data(), extra_keys.size_bytes());
    const XXH128_hash_t digest = XXH3_128bits_digest(&state);
    return BlockHash{digest.low64, digest.high64};
}

}  // namespace folio
