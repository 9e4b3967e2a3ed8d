// The REST port's front door: HTTP/1.1 is served by httplib's request
// processing through Ark's keep-alive loop, and connections that open with
// the HTTP/2 preface are handed over unread (src/server/front_door.h).
#include "server/front_door.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "server/http_server.h"
#include "support/test_util.h"

namespace ark::server {
namespace {

using nlohmann::json;

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class Served {
 public:
  explicit Served(ServerConfig config = {}, std::function<void(int)> http2 = nullptr) {
    config.port = 0;
    config.access_log = false;
    server_ = std::make_unique<HttpServer>(config, &metrics_);
    server_->RegisterMilvus("echo/body", [](RequestContext& ctx) -> Result<json> { return ctx.body; });
    if (http2) {
      EXPECT_TRUE(server_->SetHttp2Handler(std::move(http2)));
    }
    EXPECT_OK(server_->Bind());
    thread_ = std::thread([this] { EXPECT_OK(server_->Serve()); });
  }
  ~Served() {
    server_->Stop();
    thread_.join();
  }
  int Connect() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

void SendAll(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// Everything the peer sends until it closes (or 10 s pass).
std::string ReadToEnd(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

std::string Post(const std::string& body, bool close) {
  return "POST /v2/vectordb/echo/body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") +
         "\r\n" + body;
}

TEST(FrontDoor, PipelinedRequestsInOneSegmentAreAllAnswered) {
  Served s;
  int fd = s.Connect();
  // Three requests in one write: the bytes of the second and third arrive in
  // the stream's buffer while the first is read, and must not be lost.
  SendAll(fd, Post(R"({"n":1})", false) + Post(R"({"n":2})", false) + Post(R"({"n":3})", true));
  std::string replies = ReadToEnd(fd);
  ::close(fd);
  EXPECT_EQ(Count(replies, "HTTP/1.1 200"), 3u) << replies;
  EXPECT_NE(replies.find(R"("n":1)"), std::string::npos);
  EXPECT_NE(replies.find(R"("n":2)"), std::string::npos);
  EXPECT_NE(replies.find(R"("n":3)"), std::string::npos);
}

TEST(FrontDoor, KeepAliveStopsAfterTheConfiguredRequestCount) {
  ServerConfig config;
  config.limits.keep_alive_max_requests = 2;
  Served s(config);
  int fd = s.Connect();
  SendAll(fd, Post("{}", false) + Post("{}", false) + Post("{}", false));
  std::string replies = ReadToEnd(fd);  // the server closes after the second
  ::close(fd);
  EXPECT_EQ(Count(replies, "HTTP/1.1 200"), 2u) << replies;
  EXPECT_NE(replies.find("Connection: close"), std::string::npos) << replies;
}

TEST(FrontDoor, Http2PrefaceIsHandedOverUnread) {
  std::promise<int> handed;
  Served s({}, [&handed](int fd) { handed.set_value(fd); });
  int fd = s.Connect();
  SendAll(fd, std::string(kPreface) + "rest-of-stream");
  auto f = handed.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  int server_side = f.get();
  // The new owner reads the preface itself; the socket is non-blocking.
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < sizeof(kPreface) - 1 + 14 && std::chrono::steady_clock::now() < deadline) {
    char buf[64];
    ssize_t n = ::recv(server_side, buf, sizeof(buf), 0);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
    if (n < 0) std::this_thread::yield();
  }
  EXPECT_EQ(got, std::string(kPreface) + "rest-of-stream");
  ::close(server_side);
  ::close(fd);
  // HTTP/1.1 on the same port still works.
  int fd2 = s.Connect();
  SendAll(fd2, Post(R"({"after":true})", true));
  std::string reply = ReadToEnd(fd2);
  ::close(fd2);
  EXPECT_NE(reply.find(R"("after":true)"), std::string::npos) << reply;
}

TEST(FrontDoor, Http2WithoutAHandlerIsClosed) {
  Served s;
  int fd = s.Connect();
  SendAll(fd, kPreface);
  EXPECT_EQ(ReadToEnd(fd), "");
  ::close(fd);
}

TEST(FrontDoor, SniffReadsNothingAndNamesTheProtocol) {
  auto sniff = [](const std::string& bytes, bool close_after) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (!bytes.empty()) {
      EXPECT_EQ(::send(sv[1], bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    }
    if (close_after) ::shutdown(sv[1], SHUT_WR);
    FrontDoor::Protocol p = FrontDoor::Sniff(sv[0], 200);
    char buf[8];
    // Peeked, not consumed: the first byte is still there.
    if (!bytes.empty()) {
      EXPECT_EQ(::recv(sv[0], buf, 1, MSG_DONTWAIT), 1);
      EXPECT_EQ(buf[0], bytes[0]);
    }
    ::close(sv[0]);
    ::close(sv[1]);
    return p;
  };
  EXPECT_EQ(sniff("GET / HTTP/1.1\r\n", false), FrontDoor::Protocol::kHttp1);
  EXPECT_EQ(sniff("POST", false), FrontDoor::Protocol::kHttp1);
  EXPECT_EQ(sniff(kPreface, false), FrontDoor::Protocol::kHttp2);
  // Short garbage that cannot be the preface: HTTP/1.1's parser answers it.
  EXPECT_EQ(sniff("X", true), FrontDoor::Protocol::kHttp1);
  // A preface prefix, then EOF or silence: nothing to serve.
  EXPECT_EQ(sniff("PR", true), FrontDoor::Protocol::kClosed);
  EXPECT_EQ(sniff("PR", false), FrontDoor::Protocol::kClosed);
  EXPECT_EQ(sniff("", true), FrontDoor::Protocol::kClosed);
}

TEST(FrontDoor, TlsHasNoFrontDoor) {
  ServerConfig config;
  config.tls.cert_file = "/nonexistent/cert.pem";
  config.tls.key_file = "/nonexistent/key.pem";
  MetricsRegistry metrics;
  HttpServer server(config, &metrics);
  EXPECT_FALSE(server.SetHttp2Handler([](int) {}));
}

}  // namespace
}  // namespace ark::server
