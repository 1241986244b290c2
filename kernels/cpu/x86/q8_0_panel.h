#pragma once
// Interleaved Q8_0 weight panels shared by the x86 GEMM kernels (AVX2, AVX-VNNI, AVX-512 VNNI).
//
// A panel holds kRows weight rows, nb = cols/32 blocks:
//   scales: nb x kRows fp16 (block b, row r at [b*kRows + r]), padded to 64 bytes
//   quants: nb x (32*kRows) bytes; block b holds 32/kGroup chunks j of kRows*kGroup bytes,
//           row after row (row r, values kGroup*j .. kGroup*j + kGroup-1 of the block at
//           [b*32*kRows + j*kRows*kGroup + r*kGroup]).
// kGroup is how many consecutive values of one row the micro-kernel's multiply consumes: 2 for
// vpmaddwd on widened int16, 4 for vpdpbusd. kUnsigned stores the quants offset to unsigned
// (q + 128, the vpdpbusd kernels' unsigned operand); the scales are unchanged.
//
// Internal linkage on purpose: each ISA's translation unit gets its own copy compiled with its
// own instruction set, so the linker can never hand an AVX-512 copy to an AVX2 caller.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"

namespace folio::kern {
namespace {

inline size_t align64(size_t v) {
    return (v + 63) & ~size_t{63};
}

template <int kRows, int kGroup, bool kUnsigned = false>
struct Q8Panel {
    static_assert(QK8_0 % kGroup == 0);
    static constexpr int kBlockBytes = QK8_0 * kRows;  // quants of one block, all rows

    // Offset of the quants after the padded scales.
    static size_t quants_offset(int64_t nb) { return align64(nb * kRows * 2); }

    static size_t panel_bytes(int64_t cols) {
        const int64_t nb = cols / QK8_0;
        return quants_offset(nb) + nb * kBlockBytes;
    }

    // Packs `nrows` (<= kRows) Q8_0 rows `src_stride` bytes apart; missing rows stay zero.
    static void pack(const void* src, size_t src_stride, int nrows, int64_t cols, void* panel) {
        const int64_t nb = cols / QK8_0;
        auto* scales = static_cast<uint16_t*>(panel);
        auto* quants = static_cast<int8_t*>(panel) + quants_offset(nb);
        std::memset(panel, 0, panel_bytes(cols));
        for (int r = 0; r < nrows; ++r) {
            const auto* row = reinterpret_cast<const block_q8_0*>(static_cast<const uint8_t*>(src) +
                                                                  r * src_stride);
            for (int64_t b = 0; b < nb; ++b) {
                scales[b * kRows + r] = row[b].d;
                for (int j = 0; j < QK8_0 / kGroup; ++j) {
                    int8_t* dst = quants + b * kBlockBytes + j * kRows * kGroup + r * kGroup;
                    for (int i = 0; i < kGroup; ++i) {
                        const int8_t q = row[b].qs[kGroup * j + i];
                        dst[i] = kUnsigned ? static_cast<int8_t>(q ^ 0x80) : q;
                    }
                }
            }
        }
    }

    // Row r of the panel back to floats.
    static void unpack_row(const void* panel, int r, int64_t cols, float* dst) {
        const int64_t nb = cols / QK8_0;
        const auto* scales = static_cast<const uint16_t*>(panel);
        const auto* quants = static_cast<const int8_t*>(panel) + quants_offset(nb);
        for (int64_t b = 0; b < nb; ++b) {
            const float d = avx2::h2f(scales[b * kRows + r]);
            for (int j = 0; j < QK8_0 / kGroup; ++j) {
                for (int i = 0; i < kGroup; ++i) {
                    const int8_t q = quants[b * kBlockBytes + j * kRows * kGroup + r * kGroup + i];
                    dst[b * QK8_0 + kGroup * j + i] =
                        d * static_cast<float>(kUnsigned ? static_cast<uint8_t>(q) - 128 : q);
                }
            }
        }
    }
};

// Activation rows for the vpdpbusd kernels, whose panels hold unsigned weights (w + 128):
// cols int8 (the Q8_0 quants), nb floats (fp16-rounded scales), then nb int32 corrections
// -128 * (sum of the block's quants). sum((w + 128) * a) - 128 * sum(a) = sum(w * a), so a
// kernel starts each block's accumulator at the correction: nothing per weight chunk.
inline size_t vnni_act_bytes(int64_t cols) {
    return align64(cols + (cols / QK8_0) * 8);
}

inline void quantize_vnni_act(const float* x, void* act, int64_t cols) {
    const int64_t nb = cols / QK8_0;
    auto* q = static_cast<int8_t*>(act);
    auto* d = reinterpret_cast<float*>(q + cols);
    auto* corr = reinterpret_cast<int32_t*>(d + nb);
    for (int64_t b = 0; b < nb; ++b) {
        int sum = 0;
        d[b] = avx2::h2f(avx2::f2h(avx2::quantize_block_q8(x + b * QK8_0, q + b * QK8_0, &sum)));
        corr[b] = -128 * sum;
    }
}

}  // namespace
}  // namespace folio::kern
