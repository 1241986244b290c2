#include "kv/kv_request.h"

#include <optional>
#include <span>

#include "common/check.h"

namespace folio {

void KVRequest::update_block_hashes(int32_t block_size) {
    FOLIO_CHECK(block_size > 0);
    const size_t num_full_blocks = token_ids.size() / static_cast<size_t>(block_size);
    FOLIO_CHECK(block_hashes.size() <= num_full_blocks);
    const std::span<const int32_t> tokens(token_ids);
    for (size_t i = block_hashes.size(); i < num_full_blocks; ++i) {
        const std::optional<BlockHash> parent =
            i == 0 ? std::nullopt : std::optional<BlockHash>(block_hashes[i - 1]);
        block_hashes.push_back(hash_block_tokens(
            parent,
            tokens.subspan(i * static_cast<size_t>(block_size), static_cast<size_t>(block_size)),
            extra_keys));
    }
}

}  // namespace folio
