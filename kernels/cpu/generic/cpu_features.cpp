#include "kernels/cpu/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace folio {
namespace {

uint64_t read_xcr0() {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
    CpuFeatures f;
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    const bool osxsave = ecx & (1u << 27);
    const bool fma = ecx & (1u << 12);
    const bool f16c = ecx & (1u << 29);
    if (!osxsave) return f;
    const uint64_t xcr0 = read_xcr0();
    const bool ymm_os = (xcr0 & 0x6) == 0x6;
    const bool zmm_os = (xcr0 & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
    const bool avx2 = ebx & (1u << 5);
    const bool avx512f = ebx & (1u << 16), avx512dq = ebx & (1u << 17);
    const bool avx512bw = ebx & (1u << 30), avx512vl = ebx & (1u << 31);
    const bool vnni512 = ecx & (1u << 11);
    unsigned eax1 = 0, ebx1, ecx1, edx1;
    __get_cpuid_count(7, 1, &eax1, &ebx1, &ecx1, &edx1);
    f.avx2 = ymm_os && avx2 && fma && f16c;
    f.avx512 = f.avx2 && zmm_os && avx512f && avx512dq && avx512bw && avx512vl;
    f.avx512_vnni = f.avx512 && vnni512;
    f.avx_vnni = f.avx2 && (eax1 & (1u << 4));

#ifdef FOLIO_SIMDE_EMULATE
    // Test builds that compile the AVX-512 kernels against SIMDe's emulation (never the product).
    f.avx512 = f.avx512_vnni = f.avx_vnni = f.avx2;
#endif
    if (const char* cap = std::getenv("FOLIO_CPU")) {
        std::string_view c(cap);
        if (c == "generic") f = CpuFeatures{};
        if (c == "avx2" || c == "avx-vnni") f.avx512 = f.avx512_vnni = false;
        if (c == "avx2") f.avx_vnni = false;
        if (c == "avx512") f.avx512_vnni = false;
    }
    return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
    static const CpuFeatures f = detect();
    return f;
}

}  // namespace folio
