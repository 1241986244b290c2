#pragma once
// x86 instruction-set features of the running CPU, read once from CPUID/XGETBV.
// Fast paths are chosen from these at run time, so one binary runs on any x86-64.
namespace folio {

struct CpuFeatures {
    bool avx2 = false;    // with FMA and F16C
    bool avx512 = false;  // F, BW, VL, DQ, and the OS saves ZMM state
    bool avx512_vnni = false;
    bool avx_vnni = false;  // VEX-encoded VNNI (Alder Lake, Zen 5)
};

// Features of this CPU. FOLIO_CPU=generic|avx2|avx-vnni|avx512 in the environment caps them
// (for tests and benchmarks of the slower paths): avx2 means plain AVX2 (no VNNI of any kind),
// avx-vnni AVX2 plus VEX VNNI, avx512 AVX-512 without VNNI.
const CpuFeatures& cpu_features();

}  // namespace folio
