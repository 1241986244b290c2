#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {

void register_avx512(KernelTable& t) {}

void register_avx512_vnni(KernelTable& t) {}

}  // namespace folio::kern
