#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {

void register_avx2(KernelTable& t) {
    register_avx2_q8_0(t);
    register_avx2_ops(t);
    register_avx2_attention(t);
    register_avx2_legacy(t);
    register_avx2_float(t);
    register_avx2_kquants(t);
    register_avx2_conv(t);
    register_avx2_conv_float(t);
}

}  // namespace folio::kern
