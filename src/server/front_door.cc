#include "server/front_door.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace ark::server {
namespace {

constexpr char kPrefacePrefix[] = "PRI ";
constexpr size_t kSniffBytes = 4;

// Waits until `fd` is readable (or writable); false on timeout or error.
bool WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

void PeerName(int fd, bool local, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int rc = local ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                 : ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return;
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

int TimeoutMs(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

// httplib's SocketStream, over a socket this class serves: reads through a
// 4 KiB buffer (httplib's request-line reader asks for one byte at a time),
// each read and write bounded by the server's timeouts.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override { return WaitFor(fd_, POLLIN, read_timeout_ms_); }
  bool is_writable() const override { return WaitFor(fd_, POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (off_ < len_) {
      size_t n = std::min(size, len_ - off_);
      std::memcpy(ptr, buf_.data() + off_, n);
      off_ += n;
      return static_cast<ssize_t>(n);
    }
    if (!is_readable()) return -1;
    off_ = len_ = 0;
    if (size < buf_.size()) {
      ssize_t n = Recv(buf_.data(), buf_.size());
      if (n <= 0) return n;
      len_ = static_cast<size_t>(n);
      size_t take = std::min(size, len_);
      std::memcpy(ptr, buf_.data(), take);
      off_ = take;
      return static_cast<ssize_t>(take);
    }
    return Recv(ptr, size);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    while (true) {
      ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { PeerName(fd_, false, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { PeerName(fd_, true, ip, port); }
  socket_t socket() const override { return fd_; }
  // Bytes read from the socket that no request has taken yet (a pipelined
  // next request).
  bool buffered() const { return off_ < len_; }

 private:
  ssize_t Recv(char* ptr, size_t size) {
    while (true) {
      ssize_t n = ::recv(fd_, ptr, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  int fd_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::array<char, 4096> buf_{};
  size_t off_ = 0;
  size_t len_ = 0;
};

}  // namespace

FrontDoor::Protocol FrontDoor::Sniff(int fd, int timeout_ms) {
  // MSG_PEEK | MSG_WAITALL waits for all four bytes (or EOF, or the receive
  // timeout) without consuming them; the timeout bounds a silent client.
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char head[kSniffBytes];
  ssize_t n;
  do {
    n = ::recv(fd, head, sizeof(head), MSG_PEEK | MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return Protocol::kClosed;
  if (static_cast<size_t>(n) == kSniffBytes && std::memcmp(head, kPrefacePrefix, kSniffBytes) == 0) {
    return Protocol::kHttp2;
  }
  // Fewer than four bytes that are not a prefix of the preface, or four
  // that are not it: HTTP/1.1 (whose parser answers anything malformed).
  if (static_cast<size_t>(n) < kSniffBytes &&
      std::memcmp(head, kPrefacePrefix, static_cast<size_t>(n)) == 0) {
    return Protocol::kClosed;  // a preface prefix, then silence or EOF
  }
  return Protocol::kHttp1;
}

bool FrontDoor::process_and_close_socket(socket_t sock) {
  Protocol protocol = Sniff(sock, TimeoutMs(read_timeout_sec_, read_timeout_usec_));
  if (protocol == Protocol::kHttp2 && http2_) {
    // The HTTP/2 server polls its sockets: non-blocking, no socket timeouts.
    timeval zero{0, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
    ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &zero, sizeof(zero));
    int flags = ::fcntl(sock, F_GETFL, 0);
    ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    http2_(sock);
    return true;
  }
  bool ok = protocol == Protocol::kHttp1 && ServeHttp1(sock);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

bool FrontDoor::ServeHttp1(socket_t sock) {
  // httplib's process_server_socket_core: up to keep_alive_max_count_
  // requests, each awaited for keep_alive_timeout_sec_, stopping once the
  // server stops (svr_sock_ is then invalid). The idle wait is sliced so
  // that a stop does not wait out a keep-alive timeout.
  const int read_ms = TimeoutMs(read_timeout_sec_, read_timeout_usec_);
  const int write_ms = TimeoutMs(write_timeout_sec_, write_timeout_usec_);
  bool ret = false;
  size_t count = keep_alive_max_count_;
  SocketStream stream(sock, read_ms, write_ms);
  while (svr_sock_ != INVALID_SOCKET && count > 0) {
    auto idle_until = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    bool readable = stream.buffered();
    while (!readable && svr_sock_ != INVALID_SOCKET) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(idle_until -
                                                                        std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{sock, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50)));
      if (n > 0) {
        readable = true;
        break;
      }
      if (n < 0 && errno != EINTR) break;
    }
    if (!readable) break;
    bool connection_closed = false;
    ret = process_request(stream, /*close_connection=*/count == 1, connection_closed, nullptr);
    if (!ret || connection_closed) break;
    --count;
  }
  return ret;
}

}  // namespace ark::server
