#pragma once
// The daemon plumbing of `folio serve`: systemd notifications, the watchdog, and signals.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace folio::cli {

// sd_notify(): sends "READY=1", "STATUS=...", "STOPPING=1", ... to $NOTIFY_SOCKET (no-op without).
void notify_systemd(const std::string& state);
// The watchdog interval systemd asks for ($WATCHDOG_USEC for this process); zero: none.
std::chrono::microseconds watchdog_interval();

// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread, so that every thread started
// afterwards inherits the mask: construct it first, before any other thread exists. Then start()
// runs a thread that sigwait()s and calls `on_signal` there (never in a signal handler) for each
// SIGTERM or SIGINT; SIGHUP is ignored. Also ignores SIGPIPE.
class SignalWaiter {
  public:
    SignalWaiter();
    ~SignalWaiter();  // stops the thread
    SignalWaiter(const SignalWaiter&) = delete;
    SignalWaiter& operator=(const SignalWaiter&) = delete;

    void start(std::function<void(int signal)> on_signal);

  private:
    std::thread thread_;
    std::atomic<bool> quit_{false};
};

// Sends WATCHDOG=1 every `interval` / 2 from its own thread while `healthy()` returns true.
// `healthy` runs on that thread.
class Watchdog {
  public:
    Watchdog(std::chrono::microseconds interval, std::function<bool()> healthy);
    ~Watchdog();  // stops the thread
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

  private:
    void run();

    std::chrono::microseconds interval_;
    std::function<bool()> healthy_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace folio::cli
