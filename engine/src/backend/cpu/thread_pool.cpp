#include "backend/cpu/thread_pool.h"

#include <chrono>
#include <immintrin.h>

#include "common/check.h"

namespace folio {
namespace {

inline void cpu_relax() { _mm_pause(); }

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
    if (num_threads <= 0) num_threads = static_cast<int>(std::thread::hardware_concurrency());
    if (num_threads <= 0) num_threads = 1;
    m_num_threads = num_threads;
    for (int i = 1; i < m_num_threads; ++i) m_workers.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    m_stop.store(true, std::memory_order_release);
    m_generation.fetch_add(1, std::memory_order_acq_rel);
    m_generation.notify_all();
    for (auto& t : m_workers) t.join();
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        // Spin for a while (cheap wake-up between back-to-back jobs), then block.
        uint64_t gen = m_generation.load(std::memory_order_acquire);
        auto spin_start = std::chrono::steady_clock::now();
        int spins = 0;
        while (gen == seen) {
            cpu_relax();
            if (++spins == 1024) {
                spins = 0;
                if (std::chrono::steady_clock::now() - spin_start > std::chrono::milliseconds(2)) {
                    m_generation.wait(seen, std::memory_order_acquire);
                }
            }
            gen = m_generation.load(std::memory_order_acquire);
        }
        seen = gen;
        if (m_stop.load(std::memory_order_acquire)) return;
        (*m_job)(index, m_num_threads);
        m_pending.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
    if (m_num_threads == 1) {
        fn(0, 1);
        return;
    }
    FOLIO_CHECK(m_pending.load(std::memory_order_acquire) == 0);
    m_job = &fn;
    m_pending.store(m_num_threads - 1, std::memory_order_release);
    m_generation.fetch_add(1, std::memory_order_acq_rel);
    m_generation.notify_all();
    fn(0, m_num_threads);
    while (m_pending.load(std::memory_order_acquire) != 0) cpu_relax();
    m_job = nullptr;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t, int)>& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (m_num_threads == 1 || n <= grain) {
        fn(0, n, 0);
        return;
    }
    std::atomic<int64_t> next{0};
    run([&](int thread, int) {
        for (;;) {
            int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
            if (begin >= n) break;
            fn(begin, std::min(n, begin + grain), thread);
        }
    });
}

}  // namespace folio
