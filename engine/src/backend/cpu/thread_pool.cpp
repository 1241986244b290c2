#include "backend/cpu/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "common/check.h"

// Job protocol. m_pending is a state word for the current job:
//   bits 0..7   workers inside the job            bits 8..15  workers that finished it
//   bit  16     closed (no worker may enter)      bits 17..30 tag = generation & 0x3fff
// The caller publishes m_job and the state, then bumps m_generation (workers spin on it,
// then sleep in m_generation.wait). A worker enters by CAS (inside + 1) only while the state
// is open and tagged with the generation it saw, reads m_job after entering, and leaves with
// (finished + 1, inside - 1). The caller never returns while a worker is inside, so m_job
// stays valid for every worker that entered.
// run(): every worker must run the job once; the caller waits for finished == n - 1.
// parallel_for(): chunks are claimed dynamically; once all are claimed the caller closes the
// job and waits only for workers inside, so a descheduled worker never delays the caller.
namespace folio {
namespace {

constexpr int kInsideMask = 0xff;
constexpr int kFinishedOne = 1 << 8;
constexpr int kFinishedMask = 0xff << 8;
constexpr int kClosed = 1 << 16;
constexpr int kTagShift = 17;
constexpr uint64_t kTagMask = 0x3fff;

inline void cpu_relax() {
    _mm_pause();
}

inline int tag_of(uint64_t gen) {
    return static_cast<int>(gen & kTagMask) << kTagShift;
}

// Spins, yielding the core now and then (the machine may have fewer free cores than threads).
struct Backoff {
    int spins = 0;
    void pause() {
        if (++spins < 4096) {
            cpu_relax();
        } else {
            spins = 0;
            std::this_thread::yield();
        }
    }
};

// Handles the cases with nothing to split (no items, one thread, one chunk) on the caller;
// true when it did.
bool run_unsplit(int64_t n, int64_t grain, int num_threads,
                 const std::function<void(int64_t, int64_t, int)>& fn) {
    if (n <= 0) return true;
    if (num_threads > 1 && n > grain) return false;
    fn(0, n, 0);
    return true;
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
    if (num_threads <= 0) num_threads = static_cast<int>(std::thread::hardware_concurrency());
    if (num_threads <= 0) num_threads = 1;
    FOLIO_CHECK(num_threads <= kInsideMask);
    m_num_threads = num_threads;
    m_pending.store(tag_of(0) | kClosed, std::memory_order_relaxed);
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
        if (gen == seen) {
            auto spin_start = std::chrono::steady_clock::now();
            int spins = 0;
            while (gen == seen) {
                cpu_relax();
                if (++spins == 1024) {
                    spins = 0;
                    if (std::chrono::steady_clock::now() - spin_start >
                        std::chrono::milliseconds(2)) {
                        m_generation.wait(seen, std::memory_order_acquire);
                    } else {
                        std::this_thread::yield();  // let a descheduled peer finish its part
                    }
                }
                gen = m_generation.load(std::memory_order_acquire);
            }
        }
        if (m_stop.load(std::memory_order_acquire)) return;
        int s = m_pending.load(std::memory_order_acquire);
        bool entered = false;
        for (;;) {
            if ((s & ~(kClosed | kInsideMask | kFinishedMask)) != tag_of(gen)) break;  // stale
            if (s & kClosed) break;
            if (m_pending.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                                std::memory_order_acquire)) {
                entered = true;
                break;
            }
        }
        if (!entered) {
            // Closed, or superseded by a newer job: look again at the generation.
            if ((s & ~(kClosed | kInsideMask | kFinishedMask)) == tag_of(gen)) seen = gen;
            continue;
        }
        // While this worker is inside, the job cannot complete, so the generation is stable.
        seen = m_generation.load(std::memory_order_acquire);
        (*m_job)(index, m_num_threads);
        m_pending.fetch_add(kFinishedOne - 1, std::memory_order_acq_rel);
    }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
    if (m_num_threads == 1) {
        fn(0, 1);
        return;
    }
    const uint64_t gen = m_generation.load(std::memory_order_relaxed) + 1;
    m_job = &fn;
    m_pending.store(tag_of(gen), std::memory_order_release);
    m_generation.store(gen, std::memory_order_release);
    m_generation.notify_all();
    fn(0, m_num_threads);
    const int want = (m_num_threads - 1) * kFinishedOne;
    Backoff backoff;
    while ((m_pending.load(std::memory_order_acquire) & kFinishedMask) != want) backoff.pause();
    m_pending.fetch_or(kClosed, std::memory_order_acq_rel);
    m_job = nullptr;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t, int)>& fn) {
    grain = std::max<int64_t>(grain, 1);
    if (run_unsplit(n, grain, m_num_threads, fn)) return;
    alignas(64) std::atomic<int64_t> next{0};
    const std::function<void(int, int)> job = [&](int thread, int) {
        for (;;) {
            const int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
            if (begin >= n) break;
            fn(begin, std::min(n, begin + grain), thread);
        }
    };
    run_closing(job);
}

namespace {

// One thread's share [front, back) packed in one word, so the owner (taking from the front)
// and thieves (taking from the back) agree by compare-and-swap.
struct alignas(64) Share {
    std::atomic<uint64_t> range{0};
    static uint64_t pack(int64_t front, int64_t back) {
        return (static_cast<uint64_t>(front) << 32) | static_cast<uint64_t>(back);
    }
    // Takes up to `grain` items from the front (owner) or the back (thief); false when empty.
    bool take(int64_t grain, bool from_front, int64_t& begin, int64_t& end) {
        uint64_t v = range.load(std::memory_order_relaxed);
        for (;;) {
            const auto front = static_cast<int64_t>(v >> 32);
            const auto back = static_cast<int64_t>(v & 0xffffffffu);
            if (front >= back) return false;
            if (from_front) {
                begin = front;
                end = std::min(back, front + grain);
            } else {
                begin = std::max(front, back - grain);
                end = back;
            }
            const uint64_t next = from_front ? pack(end, back) : pack(front, begin);
            if (range.compare_exchange_weak(v, next, std::memory_order_relaxed)) return true;
        }
    }
};

}  // namespace

void ThreadPool::parallel_for_shares(int64_t n, int64_t grain,
                                     const std::function<void(int64_t, int64_t, int)>& fn) {
    grain = std::max<int64_t>(grain, 1);
    if (run_unsplit(n, grain, m_num_threads, fn)) return;
    FOLIO_CHECK(n < (int64_t{1} << 31));
    const int nth = m_num_threads;
    std::vector<Share> shares(static_cast<size_t>(nth));
    for (int t = 0; t < nth; ++t) {
        shares[static_cast<size_t>(t)].range.store(Share::pack(n * t / nth, n * (t + 1) / nth),
                                                   std::memory_order_relaxed);
    }
    const std::function<void(int, int)> job = [&](int thread, int) {
        int64_t b = 0, e = 0;
        while (shares[static_cast<size_t>(thread)].take(grain, true, b, e)) fn(b, e, thread);
        for (int k = 1; k < nth; ++k) {
            Share& other = shares[static_cast<size_t>((thread + k) % nth)];
            while (other.take(grain, false, b, e)) fn(b, e, thread);
        }
    };
    run_closing(job);
}

void ThreadPool::run_closing(const std::function<void(int, int)>& job) {
    const uint64_t gen = m_generation.load(std::memory_order_relaxed) + 1;
    m_job = &job;
    m_pending.store(tag_of(gen), std::memory_order_release);
    m_generation.store(gen, std::memory_order_release);
    m_generation.notify_all();
    job(0, m_num_threads);
    // Every chunk is claimed: close the job and wait only for workers still inside it.
    m_pending.fetch_or(kClosed, std::memory_order_acq_rel);
    Backoff backoff;
    while ((m_pending.load(std::memory_order_acquire) & kInsideMask) != 0) backoff.pause();
    m_job = nullptr;
}

}  // namespace folio
