#pragma once
// Per-file registration hooks of the x86 kernels (called by register_avx2 / register_avx512*).
#include "kernels/cpu/kernels.h"

namespace folio::kern {

void register_avx2_q8_0(KernelTable& t);
void register_avx2_legacy(KernelTable& t);
void register_avx2_kquants(KernelTable& t);
void register_avx2_float(KernelTable& t);
void register_avx2_ops(KernelTable& t);
void register_avx2_attention(KernelTable& t);
void register_avx2_conv(KernelTable& t);
void register_avx2_conv_float(KernelTable& t);

void register_avx512_vnni_q8_0(KernelTable& t);
void register_avx512_vnni_conv(KernelTable& t);

}  // namespace folio::kern
