#pragma once
// Owning POSIX file descriptor: closed on destruction unless released.
#include <unistd.h>

#include <utility>

namespace folio::gguf {

class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset();
            m_fd = std::exchange(o.m_fd, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    // Closes now and reports close()'s result (0 or -1 with errno), for writers that must know.
    int close() { return ::close(std::exchange(m_fd, -1)); }
    void reset() {
        if (m_fd >= 0) ::close(std::exchange(m_fd, -1));
    }

  private:
    int m_fd = -1;
};

}  // namespace folio::gguf
