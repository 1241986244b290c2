#pragma once
// The log of `folio serve`: one line per event on stderr, no colors. Under systemd (stderr is the
// journal stream named by $JOURNAL_STREAM) each line starts with an sd-daemon priority prefix such
// as "<6>" and carries no timestamp (journald adds one); elsewhere it starts with a local
// timestamp and the level. Thread-safe: each line is written with one write().
#include <mutex>
#include <string_view>

namespace folio::cli {

enum class LogLevel { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

class ServeLog {
  public:
    ServeLog();

    void log(LogLevel level, std::string_view message);
    void error(std::string_view m) { log(LogLevel::Error, m); }
    void warning(std::string_view m) { log(LogLevel::Warning, m); }
    void info(std::string_view m) { log(LogLevel::Info, m); }

    bool to_journal() const { return journal_; }

  private:
    bool journal_ = false;
    std::mutex mutex_;
};

// True when stderr is the journal stream systemd announced in $JOURNAL_STREAM ("dev:inode").
bool stderr_is_journal();

}  // namespace folio::cli
