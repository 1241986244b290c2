#include "server/connection_watch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

#include <httplib.h>

namespace folio::server {

namespace {

// Numeric host and port of a socket address, as cpp-httplib formats remote_addr.
bool address_of(const sockaddr_storage& addr, socklen_t len, std::string& host, int& port) {
    char buf[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, buf, sizeof(buf), nullptr, 0,
                    NI_NUMERICHOST) != 0)
        return false;
    host = buf;
    if (addr.ss_family == AF_INET)
        port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
        port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
    else
        return false;
    return true;
}

// Calls fn(fd) for every open descriptor of this process.
template <typename Fn>
void for_each_fd(Fn fn) {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return;
    const int dir_fd = dirfd(dir);
    while (dirent* e = readdir(dir)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        const int fd = std::atoi(e->d_name);
        if (fd != dir_fd && !fn(fd)) break;
    }
    closedir(dir);
}

bool matches(int fd, const httplib::Request& req) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    std::string host;
    int port = -1;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
    if (!address_of(addr, len, host, port) || port != req.local_port) return false;
    len = sizeof(addr);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
    if (!address_of(addr, len, host, port)) return false;
    return port == req.remote_port && host == req.remote_addr;
}

}  // namespace

ConnectionWatch ConnectionWatch::find(const httplib::Request& req) {
    ConnectionWatch w;
    if (req.remote_port <= 0 || req.local_port <= 0) return w;
    for_each_fd([&](int fd) {
        if (!matches(fd, req)) return true;
        w.m_fd = fd;
        return false;
    });
    return w;
}

void shutdown_server_connections(int local_port) {
    if (local_port <= 0) return;
    for_each_fd([&](int fd) {
        sockaddr_storage addr{};
        socklen_t len = sizeof(addr);
        std::string host;
        int port = -1;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return true;
        if (!address_of(addr, len, host, port) || port != local_port) return true;
        len = sizeof(addr);
        // Connected (the listener has no peer): one of the server's accepted connections.
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            shutdown(fd, SHUT_RDWR);
        }
        return true;
    });
}

bool ConnectionWatch::closed() const {
    if (m_fd < 0) return false;
    pollfd p{m_fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return true;
    if (p.revents & POLLIN) {
        char c;
        ssize_t r = recv(m_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r == 0) return true;
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
}

}  // namespace folio::server
