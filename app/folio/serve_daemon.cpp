#include "serve_daemon.h"

#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include <cstdint>

namespace folio::cli {
namespace {

sigset_t waited_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);  // internal: wakes the thread to stop
    return set;
}

}  // namespace

void notify_systemd(const std::string& state) {
    sd_notify(0, state.c_str());
}

std::chrono::microseconds watchdog_interval() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
    return std::chrono::microseconds(static_cast<int64_t>(usec));
}

SignalWaiter::SignalWaiter() {
    const sigset_t set = waited_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

SignalWaiter::~SignalWaiter() {
    if (!thread_.joinable()) return;
    quit_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
}

void SignalWaiter::start(std::function<void(int)> on_signal) {
    thread_ = std::thread([this, on_signal = std::move(on_signal)] {
        const sigset_t set = waited_signals();
        while (true) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) continue;
            if (quit_) return;
            if (sig == SIGTERM || sig == SIGINT) on_signal(sig);
        }
    });
}

Watchdog::Watchdog(std::chrono::microseconds interval, std::function<bool()> healthy)
    : interval_(interval), healthy_(std::move(healthy)) {
    thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void Watchdog::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
        lock.unlock();
        if (healthy_()) notify_systemd("WATCHDOG=1");
        lock.lock();
        cv_.wait_for(lock, interval_ / 2, [this] { return stop_; });
    }
}

}  // namespace folio::cli
