// Generic (baseline x86-64) kernels: the scalar reference code of tensor/quants.h behind the
// dispatch table, and the table builder itself.
#include <array>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernels.h"
#include "tensor/quants.h"

namespace folio::kern {
namespace {

template <DType T>
float vec_dot_generic(int64_t n, const void* w, const void* a) {
    return vec_dot_ref(T, n, w, a);
}

template <DType T>
void from_float_generic(const float* src, void* dst, int64_t n) {
    quantize_row_ref(T, src, dst, n);
}

template <DType T>
void to_float_generic(const void* src, float* dst, int64_t n) {
    dequantize_row(T, src, dst, n);
}

template <DType T>
void set_weight(KernelTable& t) {
    t.vec_dot[type_index(T)] = vec_dot_generic<T>;
    t.to_float[type_index(T)] = to_float_generic<T>;
}

template <DType T>
void set_act(KernelTable& t) {
    t.from_float[type_index(T)] = from_float_generic<T>;
    t.to_float[type_index(T)] = to_float_generic<T>;
}

std::array<KernelTable, kNumIsa> build_tables() {
    std::array<KernelTable, kNumIsa> tables;
    const CpuFeatures& f = cpu_features();
    KernelTable t;
    register_generic(t);
    tables[0] = t;
    if (f.avx2) {
        register_avx2(t);
        t.isa = Isa::kAvx2;
        tables[1] = t;
    }
    if (f.avx_vnni) {
        register_avx_vnni(t);
        t.isa = Isa::kAvxVnni;
        tables[4] = t;
    }
    if (f.avx512) {
        register_avx512(t);
        t.isa = Isa::kAvx512;
        tables[2] = t;
    }
    if (f.avx512_vnni) {
        register_avx512_vnni(t);
        t.isa = Isa::kAvx512Vnni;
        tables[3] = t;
    }
    return tables;
}

const std::array<KernelTable, kNumIsa>& tables() {
    static const std::array<KernelTable, kNumIsa> t = build_tables();
    return t;
}

}  // namespace

void register_generic(KernelTable& t) {
    t.isa = Isa::kGeneric;
    set_weight<DType::F32>(t);
    set_weight<DType::F16>(t);
    set_weight<DType::BF16>(t);
    set_weight<DType::Q4_0>(t);
    set_weight<DType::Q4_1>(t);
    set_weight<DType::Q5_0>(t);
    set_weight<DType::Q5_1>(t);
    set_weight<DType::Q8_0>(t);
    set_weight<DType::IQ4_NL>(t);
    set_weight<DType::Q2_K>(t);
    set_weight<DType::Q3_K>(t);
    set_weight<DType::Q4_K>(t);
    set_weight<DType::Q5_K>(t);
    set_weight<DType::Q6_K>(t);
    set_act<DType::F32>(t);
    set_act<DType::F16>(t);
    set_act<DType::BF16>(t);
    set_act<DType::Q8_0>(t);
    set_act<DType::Q8_1>(t);
    set_act<DType::Q8_K>(t);
    register_generic_ops(t);
}

bool isa_supported(Isa isa) {
    const CpuFeatures& f = cpu_features();
    switch (isa) {
        case Isa::kGeneric:
            return true;
        case Isa::kAvx2:
            return f.avx2;
        case Isa::kAvx512:
            return f.avx512;
        case Isa::kAvx512Vnni:
            return f.avx512_vnni;
        case Isa::kAvxVnni:
            return f.avx_vnni;
    }
    return false;
}

Isa best_isa() {
    for (Isa isa : {Isa::kAvx512Vnni, Isa::kAvx512, Isa::kAvxVnni, Isa::kAvx2}) {
        if (isa_supported(isa)) return isa;
    }
    return Isa::kGeneric;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kGeneric:
            return "generic";
        case Isa::kAvx2:
            return "avx2";
        case Isa::kAvx512:
            return "avx512";
        case Isa::kAvx512Vnni:
            return "avx512-vnni";
        case Isa::kAvxVnni:
            return "avx-vnni";
    }
    return "?";
}

const KernelTable& kernel_table(Isa isa) {
    const int i = static_cast<int>(isa);
    return tables()[isa_supported(isa) ? i : 0];
}

const KernelTable& kernel_table() {
    static const KernelTable& best = kernel_table(best_isa());  // cpu_features() never changes
    return best;
}

}  // namespace folio::kern
