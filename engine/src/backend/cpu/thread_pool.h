#pragma once
// A fork-join pool for the CPU backend's hot loops. The calling thread takes part as thread 0.
// Workers spin briefly between jobs (decode issues hundreds of short jobs per token) and then
// sleep. Not reentrant: run() is called from one thread at a time (the engine thread).
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace folio {

class ThreadPool {
  public:
    // num_threads includes the caller; 0 means the number of online cores.
    explicit ThreadPool(int num_threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int num_threads() const { return m_num_threads; }

    // Calls fn(thread_index, num_threads) once on every thread and returns when all are done.
    void run(const std::function<void(int, int)>& fn);

    // Splits [0, n) into chunks handed out dynamically; fn(begin, end, thread_index).
    // grain: minimum chunk size.
    void parallel_for(int64_t n, int64_t grain,
                      const std::function<void(int64_t, int64_t, int)>& fn);

    // Like parallel_for, but each thread owns one contiguous share of [0, n) and walks it front
    // to back in chunks of `grain`; a thread done with its share takes chunks from the back of
    // the others'. Every thread reads one long sequential run (what the hardware prefetchers
    // want in memory-bound decode) and a late or descheduled thread still loses its work to
    // the others at chunk granularity.
    void parallel_for_shares(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t, int)>& fn);

  private:
    void worker_loop(int index);
    // Publishes `job` to the workers, runs it as thread 0, then closes it and waits only for
    // workers inside (the job must leave no work undone once the caller's call returns).
    void run_closing(const std::function<void(int, int)>& job);

    int m_num_threads;
    std::vector<std::thread> m_workers;
    const std::function<void(int, int)>* m_job = nullptr;
    alignas(64) std::atomic<uint64_t> m_generation{0};
    alignas(64) std::atomic<int> m_pending{0};
    alignas(64) std::atomic<bool> m_stop{false};
};

}  // namespace folio
