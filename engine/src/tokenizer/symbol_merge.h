#pragma once
// The greedy pair-merge loop shared by the SPM and BPE tokenizers: the word's symbols form a
// doubly linked list, candidate pairs wait in a priority queue (best first, by score for SPM,
// by merge rank for BPE), the best pair merges into its left symbol, pairs made stale by an
// earlier merge are skipped, and the merged symbol's new neighbour pairs are offered.
#include <cstddef>
#include <queue>
#include <vector>

namespace folio::detail {

struct MergeSymbol {
    const char* text;
    size_t n;  // bytes; 0 once merged into the symbol on its left
    int prev;  // -1: none
    int next;  // -1: none
};

// Bigram: a struct with int left, right and size_t size (bytes of the pair when queued).
// offer(left, right) queues the pair of those symbols when it is a known merge (left or right
// may be -1).
template <class Bigram, class Compare, class Offer>
void merge_symbols(std::vector<MergeSymbol>& symbols,
                   std::priority_queue<Bigram, std::vector<Bigram>, Compare>& queue,
                   Offer&& offer) {
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) offer(i - 1, i);
    while (!queue.empty()) {
        const Bigram bigram = queue.top();
        queue.pop();
        MergeSymbol& left = symbols[bigram.left];
        MergeSymbol& right = symbols[bigram.right];
        // stale: a side has been merged into something else since the pair was queued
        if (left.n == 0 || right.n == 0 || left.n + right.n != bigram.size) continue;
        left.n += right.n;
        right.n = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = bigram.left;
        offer(left.prev, bigram.left);
        offer(bigram.left, left.next);
    }
}

}  // namespace folio::detail
