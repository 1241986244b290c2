#include "serve_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace folio::cli {

bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env || !*env) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

ServeLog::ServeLog() : journal_(stderr_is_journal()) {}

void ServeLog::log(LogLevel level, std::string_view message) {
    std::string line;
    if (journal_) {
        char prefix[8];
        std::snprintf(prefix, sizeof(prefix), "<%d>", static_cast<int>(level));
        line = prefix;
    } else {
        const auto now = std::chrono::system_clock::now();
        const std::time_t t = std::chrono::system_clock::to_time_t(now);
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
        std::tm tm{};
        localtime_r(&t, &tm);
        char stamp[40];
        std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
        char buf[64];
        static const char* names[] = {"", "", "", "error", "warning", "notice", "info", "debug"};
        std::snprintf(buf, sizeof(buf), "%s.%03d %s: ", stamp, static_cast<int>(ms.count()),
                      names[static_cast<int>(level)]);
        line = buf;
    }
    // One event, one line: fold any line break the message carries.
    for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
}

}  // namespace folio::cli
