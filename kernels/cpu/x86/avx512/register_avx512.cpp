#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {

// AVX-512 without VNNI (Skylake-SP class): the AVX2 kernels are used; nothing pays enough yet.
void register_avx512(KernelTable& t) {}

void register_avx512_vnni(KernelTable& t) {
    register_avx512_vnni_q8_0(t);
    register_avx512_vnni_conv(t);
}

}  // namespace folio::kern
