// AVX2 dot products of the legacy 32-element block types with Q8_0 / Q8_1 activations.
#include <immintrin.h>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/x86/avx2/avx2_util.h"
#include "kernels/cpu/x86/x86_register.h"

namespace folio::kern {
namespace {
using namespace avx2;

inline __m256i load_q8(const int8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// 16 bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in 16..31.
inline __m256i unpack_nibbles(const uint8_t* p) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set.
inline __m256i bits_to_bytes(const uint8_t* p) {
    const __m256i v = _mm256_set1_epi32(load_i32(p));
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                            0x0202020202020202, 0x0303030303030303);
    const __m256i bytes = _mm256_shuffle_epi8(v, shuf);
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
    return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

// Sum of unsigned a (0..127) times signed b as 8 int32 lanes.
inline __m256i dot_u8_i8(__m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

template <typename Block, typename Fn>
float dot_loop(int64_t n, const Block* x, const block_q8_0* y, Fn&& block_ints) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        const __m256i s0 = block_ints(x[i], y[i].qs);
        const __m256i s1 = block_ints(x[i + 1], y[i + 1].qs);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)),
                               acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1),
                               _mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), acc1);
    }
    for (; i < nb; ++i) {
        const __m256i s0 = block_ints(x[i], y[i].qs);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)),
                               acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

float vec_dot_q4_0(int64_t n, const void* w, const void* a) {
    return dot_loop(n, static_cast<const block_q4_0*>(w), static_cast<const block_q8_0*>(a),
                    [](const block_q4_0& b, const int8_t* y) {
                        const __m256i q =
                            _mm256_sub_epi8(unpack_nibbles(b.qs), _mm256_set1_epi8(8));
                        return dot_i8(q, load_q8(y));
                    });
}

float vec_dot_q5_0(int64_t n, const void* w, const void* a) {
    return dot_loop(n, static_cast<const block_q5_0*>(w), static_cast<const block_q8_0*>(a),
                    [](const block_q5_0& b, const int8_t* y) {
                        // (nibble | hbit << 4) - 16 == nibble - (hbit ? 0 : 16)
                        const __m256i hb =
                            _mm256_andnot_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(16));
                        const __m256i q = _mm256_sub_epi8(unpack_nibbles(b.qs), hb);
                        return dot_i8(q, load_q8(y));
                    });
}

float vec_dot_iq4_nl(int64_t n, const void* w, const void* a) {
    const __m256i table = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kvalues_iq4nl)));
    return dot_loop(n, static_cast<const block_iq4_nl*>(w), static_cast<const block_q8_0*>(a),
                    [&](const block_iq4_nl& b, const int8_t* y) {
                        const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles(b.qs));
                        return dot_i8(q, load_q8(y));
                    });
}

// Types with a min: sum = d*dy*sum(q*y) + m*s (s = dy*sum(y) from Q8_1).
template <typename Block, typename Fn>
float dot_loop_min(int64_t n, const Block* x, const block_q8_1* y, Fn&& block_ints) {
    __m256 acc = _mm256_setzero_ps();
    float summ = 0;
    const int64_t nb = n / 32;
    for (int64_t i = 0; i < nb; ++i) {
        const __m256i s = block_ints(x[i], y[i].qs);
        acc =
            _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
        summ += h2f(x[i].m) * h2f(y[i].s);
    }
    return hsum(acc) + summ;
}

float vec_dot_q4_1(int64_t n, const void* w, const void* a) {
    return dot_loop_min(n, static_cast<const block_q4_1*>(w), static_cast<const block_q8_1*>(a),
                        [](const block_q4_1& b, const int8_t* y) {
                            return dot_u8_i8(unpack_nibbles(b.qs), load_q8(y));
                        });
}

float vec_dot_q5_1(int64_t n, const void* w, const void* a) {
    return dot_loop_min(n, static_cast<const block_q5_1*>(w), static_cast<const block_q8_1*>(a),
                        [](const block_q5_1& b, const int8_t* y) {
                            const __m256i hb =
                                _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(16));
                            return dot_u8_i8(_mm256_or_si256(unpack_nibbles(b.qs), hb), load_q8(y));
                        });
}

}  // namespace

void register_avx2_legacy(KernelTable& t) {
    t.vec_dot[type_index(DType::Q4_0)] = vec_dot_q4_0;
    t.vec_dot[type_index(DType::Q4_1)] = vec_dot_q4_1;
    t.vec_dot[type_index(DType::Q5_0)] = vec_dot_q5_0;
    t.vec_dot[type_index(DType::Q5_1)] = vec_dot_q5_1;
    t.vec_dot[type_index(DType::IQ4_NL)] = vec_dot_iq4_nl;
}

}  // namespace folio::kern
