#include "backend/cpu/cpu_matmul.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/check.h"
#include "kernels/cpu/kernels.h"
#include "tensor/quants.h"

namespace folio {
namespace {

kern::Isa to_kern(CpuIsa isa) {
    switch (isa) {
        case CpuIsa::kAuto:
            return kern::best_isa();
        case CpuIsa::kGeneric:
            return kern::Isa::kGeneric;
        case CpuIsa::kAvx2:
            return kern::Isa::kAvx2;
        case CpuIsa::kAvx512:
            return kern::Isa::kAvx512;
        case CpuIsa::kAvx512Vnni:
            return kern::Isa::kAvx512Vnni;
        case CpuIsa::kAvxVnni:
            return kern::Isa::kAvxVnni;
    }
    return kern::Isa::kGeneric;
}

CpuIsa from_kern(kern::Isa isa) {
    switch (isa) {
        case kern::Isa::kGeneric:
            return CpuIsa::kGeneric;
        case kern::Isa::kAvx2:
            return CpuIsa::kAvx2;
        case kern::Isa::kAvx512:
            return CpuIsa::kAvx512;
        case kern::Isa::kAvx512Vnni:
            return CpuIsa::kAvx512Vnni;
        case kern::Isa::kAvxVnni:
            return CpuIsa::kAvxVnni;
    }
    return CpuIsa::kGeneric;
}

// Token count from which converted-panel GEMM beats per-row dot products.
constexpr int64_t kConvMinTokens = 2;

size_t round_up(size_t v, size_t a) {
    return (v + a - 1) / a * a;
}

// A growable 64-byte aligned buffer, one per thread, reused across calls.
struct Scratch {
    void* ptr = nullptr;
    size_t cap = 0;
    ~Scratch() { std::free(ptr); }
    void* get(size_t bytes) {
        if (bytes > cap) {
            std::free(ptr);
            cap = round_up(std::max(bytes, cap * 3 / 2), 4096);
            ptr = std::aligned_alloc(64, cap);
            FOLIO_CHECK(ptr != nullptr);
        }
        return ptr;
    }
};

Scratch& act_scratch() {
    thread_local Scratch s;
    return s;
}

float* tail_scratch(size_t floats) {
    thread_local Scratch s;
    return static_cast<float*>(s.get(floats * sizeof(float)));
}

// Runs fn(begin, end) over [0, n) in chunks on the pool, or inline when pool is null.
template <typename Fn>
void split(ThreadPool* pool, int64_t n, int64_t grain, const Fn& fn) {
    if (pool == nullptr || pool->num_threads() == 1 || n <= grain) {
        fn(int64_t{0}, n);
        return;
    }
    pool->parallel_for(n, grain, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

int num_threads(ThreadPool* pool) {
    return pool ? pool->num_threads() : 1;
}

// Activations tb tokens x act_bytes fit in about half of a 512 KiB L2; tb is a multiple of 24
// so that the micro-kernels' token tiles (3, 4, 6 or 8) divide it.
int64_t token_block(size_t act_row_bytes, int64_t n_tok) {
    int64_t tb = static_cast<int64_t>((256 * 1024) / std::max<size_t>(act_row_bytes, 1));
    tb = std::max<int64_t>(24, tb / 24 * 24);
    return std::min(tb, n_tok);
}

void matmul_repacked(const CpuWeight& w, const kern::RepackKernel& rk, const float* x, int64_t ldx,
                     int64_t n_tok, float* y, int64_t ldy, ThreadPool* pool) {
    const int64_t cols = w.cols(), rows = w.rows();
    const size_t abytes = rk.act_bytes(cols);
    auto* act = static_cast<uint8_t*>(act_scratch().get(abytes * n_tok));
    split(n_tok >= 8 ? pool : nullptr, n_tok, 4, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) rk.quantize_act(x + t * ldx, act + t * abytes, cols);
    });

    const int R = rk.panel_rows;
    const int64_t num_panels = (rows + R - 1) / R;
    const size_t pbytes = rk.panel_bytes(cols);
    const uint8_t* wdata = w.data();
    const int64_t tb = token_block(abytes, n_tok);

    const int64_t full_panels = rows / R;
    // Rows of the last, partial panel go through a small buffer.
    auto run_panels = [&](int64_t pb, int64_t pe, int64_t t0, int64_t nt) {
        const int64_t pf = std::min(pe, full_panels);
        if (pf > pb) {
            rk.gemm(wdata + pb * pbytes, static_cast<int>(pf - pb), cols, act + t0 * abytes, abytes,
                    nt, y + t0 * ldy + pb * R, ldy);
        }
        if (pe > full_panels) {
            const int64_t r0 = full_panels * R;
            float* tmp = tail_scratch(static_cast<size_t>(nt) * R);
            rk.gemm(wdata + full_panels * pbytes, 1, cols, act + t0 * abytes, abytes, nt, tmp, R);
            for (int64_t t = 0; t < nt; ++t) {
                std::memcpy(y + (t0 + t) * ldy + r0, tmp + t * R, (rows - r0) * sizeof(float));
            }
        }
    };

    // Decode (one token) streams the weight from memory: each thread walks its own contiguous
    // share in ~64 KiB chunks (one sequential stream for the hardware prefetchers; chunks of a
    // dynamic queue restart it ~10% of the bandwidth away) and steals from the other shares'
    // ends when done early.
    if (n_tok == 1 && pool != nullptr) {
        const int64_t chunk = std::max<int64_t>(2, static_cast<int64_t>(65536 / pbytes) / 2 * 2);
        pool->parallel_for_shares(num_panels, chunk,
                                  [&](int64_t pb, int64_t pe, int) { run_panels(pb, pe, 0, 1); });
        return;
    }
    // Work units: groups of panels; each walks all token blocks so its panels stay in L1/L2
    // while a token block's activations stay in L2.
    const int nth = num_threads(pool);
    const int64_t grain =
        std::max<int64_t>(2, std::min<int64_t>(8, num_panels / (nth * 4) / 2 * 2));
    split(pool, num_panels, grain, [&](int64_t pb, int64_t pe) {
        for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
            run_panels(pb, pe, t0, std::min(tb, n_tok - t0));
        }
    });
}

// Quantized weights in GGUF layout, several tokens: convert 16 rows at a time into int8 panels
// (thread-local, cache resident) and run the register-blocked GEMM over all tokens.
void matmul_conv(const CpuWeight& w, const kern::ConvGemmKernel& ck, const float* x, int64_t ldx,
                 int64_t n_tok, float* y, int64_t ldy, ThreadPool* pool) {
    const int64_t cols = w.cols(), rows = w.rows();
    const size_t abytes = ck.act_bytes(cols);
    auto* act = static_cast<uint8_t*>(act_scratch().get(abytes * n_tok));
    split(n_tok >= 8 ? pool : nullptr, n_tok, 4, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) ck.quantize_act(x + t * ldx, act + t * abytes, cols);
    });
    const int R = ck.panel_rows;
    constexpr int kPanels = 2;  // panels converted per unit
    const size_t pbytes = ck.panel_bytes(cols);
    const size_t wstride = dtype_row_size(w.type(), cols);
    const uint8_t* wdata = w.data();
    const int64_t num_units = (rows + R * kPanels - 1) / (R * kPanels);
    const int64_t tb = token_block(abytes, n_tok);
    split(pool, num_units, 1, [&](int64_t ub, int64_t ue) {
        thread_local Scratch panel_scratch;
        auto* panels = static_cast<uint8_t*>(panel_scratch.get(pbytes * kPanels));
        for (int64_t u = ub; u < ue; ++u) {
            const int64_t r0 = u * R * kPanels;
            const int64_t nr = std::min<int64_t>(R * kPanels, rows - r0);
            const int np = static_cast<int>((nr + R - 1) / R);
            for (int p = 0; p < np; ++p) {
                const int rows_p = static_cast<int>(std::min<int64_t>(R, nr - p * R));
                ck.convert(wdata + (r0 + p * R) * wstride, wstride, rows_p, cols,
                           panels + p * pbytes);
            }
            for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
                const int64_t nt = std::min(tb, n_tok - t0);
                if (nr == R * np) {
                    ck.gemm(panels, np, cols, act + t0 * abytes, abytes, nt, y + t0 * ldy + r0,
                            ldy);
                } else {
                    float* tmp = tail_scratch(static_cast<size_t>(nt) * R * np);
                    ck.gemm(panels, np, cols, act + t0 * abytes, abytes, nt, tmp, R * np);
                    for (int64_t t = 0; t < nt; ++t) {
                        std::memcpy(y + (t0 + t) * ldy + r0, tmp + t * R * np, nr * sizeof(float));
                    }
                }
            }
        }
    });
}

void matmul_rows(const CpuWeight& w, const kern::KernelTable& kt, const float* x, int64_t ldx,
                 int64_t n_tok, float* y, int64_t ldy, ThreadPool* pool) {
    const int64_t cols = w.cols(), rows = w.rows();
    const DType at = vec_dot_type(w.type());
    const uint8_t* act;
    size_t abytes;
    if (at == DType::F32) {
        act = reinterpret_cast<const uint8_t*>(x);
        abytes = ldx * sizeof(float);
    } else {
        abytes = round_up(dtype_row_size(at, cols), 64);
        auto* buf = static_cast<uint8_t*>(act_scratch().get(abytes * n_tok));
        const kern::FromFloatFn q = kt.from_float[kern::type_index(at)];
        split(n_tok >= 8 ? pool : nullptr, n_tok, 4, [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; ++t) q(x + t * ldx, buf + t * abytes, cols);
        });
        act = buf;
    }
    const size_t wstride = dtype_row_size(w.type(), cols);
    const uint8_t* wdata = w.data();
    const kern::VecDotFn dot = kt.vec_dot[kern::type_index(w.type())];
    const kern::VecDotTileFn tile = kt.vec_dot_tile[kern::type_index(w.type())];
    const int64_t tb = token_block(abytes, n_tok);
    const int nth = num_threads(pool);
    const int64_t grain = n_tok == 1
                              ? std::max<int64_t>(8, rows / (nth * 16))
                              : std::max<int64_t>(4, std::min<int64_t>(16, rows / (nth * 4)));
    split(pool, rows, grain, [&](int64_t rb, int64_t re) {
        for (int64_t t0 = 0; t0 < n_tok; t0 += tb) {
            const int64_t nt = std::min(tb, n_tok - t0);
            if (tile) {
                for (int64_t r = rb; r < re; r += 4) {
                    const int nr = static_cast<int>(std::min<int64_t>(4, re - r));
                    tile(cols, wdata + r * wstride, wstride, nr, act + t0 * abytes, abytes,
                         static_cast<int>(nt), y + t0 * ldy + r, ldy);
                }
            } else {
                for (int64_t t = t0; t < t0 + nt; ++t) {
                    for (int64_t r = rb; r < re; ++r) {
                        y[t * ldy + r] = dot(cols, wdata + r * wstride, act + t * abytes);
                    }
                }
            }
        }
    });
}

void matmul_impl(const CpuWeight& w, const float* x, int64_t ldx, int64_t n_tok, float* y,
                 int64_t ldy, ThreadPool* pool) {
    FOLIO_CHECK(ldx >= w.cols() && ldy >= w.rows());
    if (n_tok <= 0 || w.rows() == 0) return;
    const kern::KernelTable& kt = kern::kernel_table(to_kern(w.isa()));
    const kern::ConvGemmKernel* ck = kt.conv[kern::type_index(w.type())];
    if (w.repacked()) {
        const kern::RepackKernel* rk = kt.repack[kern::type_index(w.type())];
        matmul_repacked(w, *rk, x, ldx, n_tok, y, ldy, pool);
    } else if (ck != nullptr && n_tok >= kConvMinTokens) {
        matmul_conv(w, *ck, x, ldx, n_tok, y, ldy, pool);
    } else {
        matmul_rows(w, kt, x, ldx, n_tok, y, ldy, pool);
    }
}

}  // namespace

bool cpu_isa_supported(CpuIsa isa) {
    return isa == CpuIsa::kAuto || kern::isa_supported(to_kern(isa));
}

CpuIsa cpu_isa_best() {
    return from_kern(kern::best_isa());
}

const char* cpu_isa_name(CpuIsa isa) {
    return kern::isa_name(to_kern(isa));
}

std::unique_ptr<CpuWeight> CpuWeight::create(DType type, int64_t rows, int64_t cols,
                                             const void* data, const CpuWeightOptions& opts) {
    if (!cpu_isa_supported(opts.isa)) {
        throw std::invalid_argument(std::string("CpuWeight: instruction set not available: ") +
                                    cpu_isa_name(opts.isa));
    }
    const kern::Isa isa = to_kern(opts.isa);
    const kern::KernelTable& kt = kern::kernel_table(isa);
    const int ti = kern::type_index(type);
    if (ti >= kern::kNumTypes || kt.vec_dot[ti] == nullptr) {
        throw std::invalid_argument(std::string("CpuWeight: unsupported weight type ") +
                                    std::string(dtype_name(type)));
    }
    const int64_t bs = dtype_traits(type).block_size;
    if (rows < 0 || cols <= 0 || cols % bs != 0) {
        throw std::invalid_argument("CpuWeight: bad shape " + std::to_string(rows) + "x" +
                                    std::to_string(cols) + " for " + std::string(dtype_name(type)));
    }
    std::unique_ptr<CpuWeight> w(new CpuWeight());
    w->m_type = type;
    w->m_rows = rows;
    w->m_cols = cols;
    w->m_isa = from_kern(isa);
    const size_t row_bytes = dtype_row_size(type, cols);
    const kern::RepackKernel* rk = kt.repack[ti];
    if (opts.allow_repack && rk != nullptr && rows > 0) {
        const int R = rk->panel_rows;
        const int64_t num_panels = (rows + R - 1) / R;
        const size_t pbytes = rk->panel_bytes(cols);
        const size_t total = pbytes * num_panels;
        void* buf;
        if (opts.arena != nullptr) {
            buf = opts.arena->allocate(total);
        } else {
            buf = std::aligned_alloc(64, round_up(total, 64));
            FOLIO_CHECK(buf != nullptr);
            w->m_owned = buf;
        }
        const auto* src = static_cast<const uint8_t*>(data);
        // Chunks of ~2 MiB: one huge page of the destination each.
        const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>((2u << 20) / pbytes));
        split(opts.pool, num_panels, grain, [&](int64_t pb, int64_t pe) {
            for (int64_t p = pb; p < pe; ++p) {
                const int nr = static_cast<int>(std::min<int64_t>(R, rows - p * R));
                rk->pack(src + p * R * row_bytes, row_bytes, nr, cols,
                         static_cast<uint8_t*>(buf) + p * pbytes);
            }
        });
        w->m_data = static_cast<const uint8_t*>(buf);
        w->m_bytes = total;
        w->m_layout = 1;
    } else {
        w->m_data = static_cast<const uint8_t*>(data);
        w->m_bytes = row_bytes * rows;
        w->m_layout = 0;
    }
    return w;
}

CpuWeight::~CpuWeight() {
    std::free(m_owned);
}

void CpuWeight::get_row(int64_t r, float* dst) const {
    FOLIO_CHECK(r >= 0 && r < m_rows);
    const kern::KernelTable& kt = kern::kernel_table(to_kern(m_isa));
    const int ti = kern::type_index(m_type);
    if (repacked()) {
        const kern::RepackKernel* rk = kt.repack[ti];
        const int R = rk->panel_rows;
        rk->unpack_row(m_data + (r / R) * rk->panel_bytes(m_cols), static_cast<int>(r % R), m_cols,
                       dst);
    } else {
        kt.to_float[ti](m_data + r * dtype_row_size(m_type, m_cols), dst, m_cols);
    }
}

void matmul(const CpuWeight& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy,
            ThreadPool& pool) {
    matmul_impl(w, x, ldx, n_tok, y, ldy, &pool);
}

void matmul_st(const CpuWeight& w, const float* x, int64_t ldx, int64_t n_tok, float* y,
               int64_t ldy) {
    matmul_impl(w, x, ldx, n_tok, y, ldy, nullptr);
}

}  // namespace folio
