#pragma once
// MacPeakProbe body for the VNNI levels: `dp(acc)` (one vpdpbusd into acc) on 12 independent
// accumulators a round, enough to cover the instruction's latency at full throughput.
#include <cstdint>
#include <cstring>

namespace folio::kern {

template <typename V, typename Dp>
inline int64_t dot_peak(int64_t rounds, V zero, int macs_per_op, Dp dp) {
    constexpr int kAcc = 12;
    V acc[kAcc];
    for (V& a : acc) a = zero;
    for (int64_t i = 0; i < rounds; ++i) {
        for (V& a : acc) a = dp(a);
    }
    // The sums feed an empty asm statement, so the loop cannot be dropped.
    int32_t sink = 0;
    for (const V& a : acc) {
        int32_t lane;
        std::memcpy(&lane, &a, sizeof lane);
        sink ^= lane;
    }
    asm volatile("" : : "r"(sink));
    return rounds * kAcc * macs_per_op;
}

}  // namespace folio::kern
