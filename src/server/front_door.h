// FrontDoor: the plaintext listener that REST (HTTP/1.1) and gRPC (HTTP/2)
// share, as Milvus serves both on 19530 — so a Milvus application's
// gRPC client and its HTTP client point at the same address unchanged.
//
// Each accepted connection is sniffed: a client that opens with the HTTP/2
// preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", RFC 9113 §3.4; no HTTP/1.1
// method starts with "PRI ") is handed, bytes unread, to the HTTP/2 handler
// (the gRPC server adopts the socket); anything else is served as HTTP/1.1
// by cpp-httplib's request processing, exactly as before.
//
// Why a subclass: cpp-httplib 0.11 has no public call to serve a socket it
// did not accept. It lets a subclass override the per-connection step
// (process_and_close_socket) and call the protected process_request with any
// httplib::Stream, so this class keeps httplib's accept loop, thread pool,
// routing and parsing, and reimplements only the keep-alive loop and the
// socket stream (same timeouts and limits as httplib's own; see front_door.cc).
//
// Plaintext only: behind TLS the protocol is inside the encrypted stream, so
// with TLS on the gRPC server listens on its own port (docs/grpc.md).
//
// Thread-safety: SetHttp2Handler before the server starts; connections are
// processed concurrently on httplib's worker pool.
#pragma once

#include <httplib.h>

#include <functional>

namespace ark::server {

class FrontDoor : public httplib::Server {
 public:
  // Takes ownership of an accepted socket whose first bytes are the HTTP/2
  // preface (still unread). Unset: such connections are closed.
  using Http2Handler = std::function<void(int fd)>;
  void SetHttp2Handler(Http2Handler handler) { http2_ = std::move(handler); }

  // What a connection's first bytes say it speaks (exposed for tests).
  enum class Protocol { kHttp1, kHttp2, kClosed };
  // Waits up to `timeout_ms` for 4 bytes (peeked, not consumed).
  static Protocol Sniff(int fd, int timeout_ms);

 private:
  bool process_and_close_socket(socket_t sock) override;
  // httplib's keep-alive loop over one connection.
  bool ServeHttp1(socket_t sock);

  Http2Handler http2_;
};

}  // namespace ark::server
