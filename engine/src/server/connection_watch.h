#pragma once
// Tells whether the client of an in-flight HTTP request has gone away, so that its engine request
// can be aborted (and its KV blocks freed) before any output is written.
//
// cpp-httplib 0.11 does not hand its socket to handlers. find() locates it by matching the
// request's local port and peer address:port against the process's sockets (getsockname /
// getpeername over /proc/self/fd); the socket stays open until the handler (or, when streaming,
// the content provider) returns, so the fd cannot be reused while a watch is in use.
#include <string>

namespace httplib {
struct Request;
}

namespace folio::server {

class ConnectionWatch {
  public:
    ConnectionWatch() = default;  // watches nothing: never closed
    static ConnectionWatch find(const httplib::Request& req);

    bool valid() const { return m_fd >= 0; }
    // True once the peer closed or reset the connection (EOF / hang-up / error on the socket).
    // Never blocks. Pipelined bytes the client already sent do not count as closed.
    bool closed() const;

  private:
    int m_fd = -1;
};

// Shuts down (both directions) every accepted connection of the server listening on
// `local_port`, so cpp-httplib's workers waiting on an idle keep-alive connection (0.11 waits
// out keep_alive_timeout and does not notice the server stopping) return at once. Connections
// this process made to that port as a client are left alone. Call after the server stopped
// accepting and running requests were given their grace period.
void shutdown_server_connections(int local_port);

}  // namespace folio::server
