// The DNS dynamic update client (dr/failover/dns_update.h): config and key
// file validation, transport failures against local sockets, answer checking
// against a fake server, and real updates against a BIND 9 `named` started
// per test in a temp dir (TSIG keys made by tsig-keygen, checked with dig).
#include "dr/failover/dns_update.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "support/test_util.h"

extern char** environ;

namespace ark::dr {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kNamed = "/usr/sbin/named";
constexpr const char* kTsigKeygen = "/usr/sbin/tsig-keygen";
constexpr const char* kDig = "/usr/bin/dig";

bool Executable(const char* path) { return ::access(path, X_OK) == 0; }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command; its stdout, and the exit status in *status.
std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  *status = ::pclose(pipe);
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// A port free on 127.0.0.1 for both TCP and UDP (named listens on both).
int FreePort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(tcp);
      continue;
    }
    int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(udp);
    ::close(tcp);
    if (udp_free) return ntohs(a.sin_port);
  }
  ADD_FAILURE() << "no free port found on 127.0.0.1";
  return 0;
}

// A TCP socket on 127.0.0.1:<ephemeral>, listening (the kernel completes
// handshakes into the backlog) but never accepting or answering.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

bool ReadExactly(int fd, uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

// Answers one TCP DNS request with whatever `respond` builds from it.
class FakeDnsServer {
 public:
  using Responder = std::function<std::vector<uint8_t>(const std::vector<uint8_t>&)>;
  explicit FakeDnsServer(Responder respond) : respond_(std::move(respond)) {
    thread_ = std::thread([this] { ServeOne(); });
  }
  ~FakeDnsServer() {
    ::shutdown(listener_.fd(), SHUT_RDWR);  // wakes accept() if nobody came
    thread_.join();
  }
  int port() const { return listener_.port(); }

 private:
  void ServeOne() {
    int conn = ::accept(listener_.fd(), nullptr, nullptr);
    if (conn < 0) return;
    uint8_t len[2];
    if (ReadExactly(conn, len, 2)) {
      std::vector<uint8_t> request((size_t{len[0]} << 8) | len[1]);
      if (ReadExactly(conn, request.data(), request.size())) {
        std::vector<uint8_t> reply = respond_(request);
        std::vector<uint8_t> framed = {static_cast<uint8_t>(reply.size() >> 8),
                                       static_cast<uint8_t>(reply.size() & 0xff)};
        framed.insert(framed.end(), reply.begin(), reply.end());
        (void)::send(conn, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    }
    uint8_t ignored;
    (void)::recv(conn, &ignored, 1, 0);  // until the client closes
    ::close(conn);
  }

  SilentListener listener_;
  Responder respond_;
  std::thread thread_;
};

// The request's header turned into an empty NOERROR response.
std::vector<uint8_t> BareReply(const std::vector<uint8_t>& request) {
  std::vector<uint8_t> reply(request.begin(), request.begin() + 12);
  reply[2] |= 0x80;                              // QR
  reply[3] = 0;                                  // RCODE NOERROR
  std::fill(reply.begin() + 4, reply.end(), 0);  // no records
  return reply;
}

// BareReply signed with key "ark-key" (hmac-sha256) and `secret` over the
// request's MAC, as a server would sign it.
std::vector<uint8_t> SignedReply(const std::vector<uint8_t>& request, const std::string& secret) {
  ldns_pkt* req = nullptr;
  ldns_pkt* rep = nullptr;
  std::vector<uint8_t> bare = BareReply(request);
  if (ldns_wire2pkt(&req, request.data(), request.size()) != LDNS_STATUS_OK ||
      ldns_pkt_tsig(req) == nullptr ||
      ldns_wire2pkt(&rep, bare.data(), bare.size()) != LDNS_STATUS_OK) {
    ADD_FAILURE() << "fake server: cannot parse the signed request";
    return bare;
  }
  ldns_status s = ldns_pkt_tsig_sign(rep, "ark-key.", secret.c_str(), 300, "hmac-sha256.",
                                     ldns_rr_rdf(ldns_pkt_tsig(req), 3));
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(s, LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt2wire(&wire, rep, &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  std::free(wire);
  ldns_pkt_free(req);
  ldns_pkt_free(rep);
  return out;
}

std::string RdfText(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string out = text ? text : "";
  std::free(text);
  return out;
}

constexpr const char* kSecretA = "zeJi9815du0VbAFWnixm9iuAj/BXTMT5R9wihvhrLL0=";
constexpr const char* kSecretB = "N5xvT3CnaH+24iIopgHqqO/zm2wN5xvT3CnaH+24iIo=";

std::string KeyText(const std::string& name, const std::string& algorithm,
                    const std::string& secret) {
  return fmt::format("key \"{}\" {{\n\talgorithm {};\n\tsecret \"{}\";\n}};\n", name, algorithm,
                     secret);
}

// ---------------------------------------------------------------------------
// Config and key file validation: no network.

class DnsUpdateConfigTest : public ::testing::Test {
 protected:
  DnsUpdateConfig Valid() {
    DnsUpdateConfig c;
    c.server = "127.0.0.1:5353";
    c.zone = "ark.test";
    c.name = "db.ark.test";
    c.tsig_key_file = dir_.Sub("key.conf");
    WriteFile(c.tsig_key_file, KeyText("ark-key", "hmac-sha256", kSecretA));
    return c;
  }
  // The config with one change must fail naming `field`.
  void ExpectBad(const std::function<void(DnsUpdateConfig&)>& change, const std::string& field,
                 const std::string& detail) {
    DnsUpdateConfig c = Valid();
    change(c);
    Status s = ValidateDnsUpdateConfig(c);
    EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument)) << s.ToString();
    EXPECT_NE(s.message().find(field), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(detail), std::string::npos) << s.ToString();
  }
  testing::TempDir dir_;
};

TEST_F(DnsUpdateConfigTest, ValidConfigPasses) {
  EXPECT_OK(ValidateDnsUpdateConfig(Valid()));
  DnsUpdateConfig c = Valid();
  c.zone = "Ark.Test.";
  c.name = "ark.test.";  // the apex is inside the zone
  c.type = "aaaa";
  c.tsig_key_file.clear();
  EXPECT_OK(ValidateDnsUpdateConfig(c));
}

TEST_F(DnsUpdateConfigTest, EachBadFieldIsNamed) {
  ExpectBad([](DnsUpdateConfig& c) { c.zone.clear(); }, "zone", "empty");
  ExpectBad([](DnsUpdateConfig& c) { c.zone = "ark..test"; }, "zone", "empty label");
  ExpectBad([](DnsUpdateConfig& c) { c.name = "db.other.test"; }, "name", "not inside zone");
  ExpectBad([](DnsUpdateConfig& c) { c.name = "dbark.test"; }, "name", "not inside zone");
  ExpectBad([](DnsUpdateConfig& c) { c.name = "db ark.test"; }, "name", "contains ' '");
  ExpectBad([](DnsUpdateConfig& c) { c.type = "MX"; }, "type", "\"MX\" is not supported");
  ExpectBad([](DnsUpdateConfig& c) { c.type = "CNAME", c.name = "ark.test"; }, "name", "zone apex");
  ExpectBad([](DnsUpdateConfig& c) { c.ttl = 86401; }, "ttl", "86401 is out of range");
  ExpectBad([](DnsUpdateConfig& c) { c.ttl = 0x80000000u; }, "ttl", "out of range");
  ExpectBad([](DnsUpdateConfig& c) { c.timeout_ms = 0; }, "timeout_ms", "0 is out of range");
  ExpectBad([](DnsUpdateConfig& c) { c.server.clear(); }, "server", "empty");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "127.0.0.1:99999"; }, "server",
            "bad port \"99999\"");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "127.0.0.1:"; }, "server", "empty port");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "127.0.0.256"; }, "server", "not a valid IPv4");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "[::1:53"; }, "server", "without ']'");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "[10.0.0.1]:53"; }, "server", "not an IPv6");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "fe80::1::2"; }, "server", "[address]:port");
  ExpectBad([](DnsUpdateConfig& c) { c.server = "ns_1!.example:53"; }, "server", "contains '!'");
  ExpectBad([this](DnsUpdateConfig& c) { c.tsig_key_file = dir_.Sub("missing.key"); },
            "tsig_key_file", "missing.key cannot be read");
}

TEST_F(DnsUpdateConfigTest, MalformedKeyFileNamesFileAndLine) {
  const std::string path = dir_.Sub("bad.key");
  WriteFile(path, "key \"ark-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"not base64!\";\n};\n");
  DnsUpdateConfig c = Valid();
  c.tsig_key_file = path;
  Status s = ValidateDnsUpdateConfig(c);
  EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument)) << s.ToString();
  EXPECT_NE(s.message().find("tsig_key_file"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(path + " line 3: secret of key \"ark-key\" is not valid base64"),
            std::string::npos)
      << s.ToString();
}

TEST_F(DnsUpdateConfigTest, ServerAddressForms) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (const Case& c :
       {Case{"10.0.0.1", "10.0.0.1", 53}, Case{"10.0.0.1:5353", "10.0.0.1", 5353},
        Case{"ns1.ark.test:54", "ns1.ark.test", 54}, Case{"[::1]:5300", "::1", 5300},
        Case{"[2001:db8::1]", "2001:db8::1", 53}, Case{"2001:db8::1", "2001:db8::1", 53}}) {
    auto parsed = ParseDnsServerAddress(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->host, c.host) << c.text;
    EXPECT_EQ(parsed->port, c.port) << c.text;
  }
}

TEST(TsigKeyFileTest, ParsesEachSupportedAlgorithmWithComments) {
  for (const char* algorithm : {"hmac-sha256", "hmac-sha512", "hmac-sha1", "HMAC-SHA256"}) {
    std::string text = "# made by tsig-keygen\n/* a\n block */ // and more\n" +
                       KeyText("ark-key", algorithm, kSecretA);
    ASSERT_OK_AND_ASSIGN(TsigKey key, ParseTsigKey(text, "test.key"));
    EXPECT_EQ(key.name, "ark-key");
    EXPECT_EQ(key.algorithm, std::string(algorithm) == "HMAC-SHA256" ? "hmac-sha256" : algorithm);
    EXPECT_EQ(key.secret, kSecretA);
  }
  // One line, unquoted name, trailing dot.
  ASSERT_OK_AND_ASSIGN(TsigKey key,
                       ParseTsigKey("key ark-key. { secret \"" + std::string(kSecretB) +
                                        "\"; algorithm hmac-sha1; };",
                                    "inline"));
  EXPECT_EQ(key.name, "ark-key");
  EXPECT_EQ(key.algorithm, "hmac-sha1");
}

TEST(TsigKeyFileTest, MalformedFilesAreNamedByLineAndReason) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::string a(kSecretA);
  const std::vector<Case> cases = {
      {"", "f.key: no 'key' statement"},
      {"options { };", "f.key line 1: expected a 'key' statement, found 'options'"},
      {KeyText("k", "hmac-md5", a), "f.key line 2: algorithm hmac-md5 is not supported"},
      {KeyText("k", "hmac-sha384", a), "supported: hmac-sha256, hmac-sha512, hmac-sha1"},
      {"key \"k\" {\n algorithm hmac-sha256;\n};\n", "f.key line 1: key \"k\" has no secret"},
      {"key \"k\" {\n secret \"" + a + "\";\n};\n", "f.key line 1: key \"k\" has no algorithm"},
      {"key \"k\" {\n algorithm hmac-sha256\n secret \"" + a + "\";\n};\n",
       "f.key line 3: expected ';' after algorithm, found 'secret'"},
      {"key \"k\" {\n algorithm hmac-sha256;\n secret \"abc\";\n};\n",
       "f.key line 3: secret of key \"k\" is not"},
      {"key \"k\" {\n algorithm hmac-sha256;\n secret \"" + a + "\";\n",
       "line 4: key \"k\" is not closed"},
      {"key \"k\" {\n algorithm hmac-sha256;\n secret \"" + a,
       "line 3: unterminated quoted string"},
      {"key \"k\" { algorithm hmac-sha256; algorithm hmac-sha1; secret \"" + a + "\"; };",
       "line 1: algorithm given twice"},
      {"key \"k\" { owner x; };",
       "line 1: expected 'algorithm' or 'secret' in key \"k\", found 'owner'"},
      {"key \"a..b\" { };", "line 1: key name \"a..b\" has an empty label"},
      {"/* never closed\nkey", "line 1: unterminated /* comment"},
      {KeyText("one", "hmac-sha256", a) + KeyText("two", "hmac-sha256", a),
       "holds 2 keys (\"one\", \"two\", ...); it must hold exactly one"},
  };
  for (const Case& c : cases) {
    auto key = ParseTsigKey(c.text, "f.key");
    ASSERT_FALSE(key.ok()) << c.text;
    EXPECT_TRUE(key.status().Is(StatusCode::kInvalidArgument)) << key.status().ToString();
    EXPECT_NE(key.status().message().find(c.expected), std::string::npos)
        << "got: " << key.status().ToString() << "\nwanted: " << c.expected;
  }
}

// ---------------------------------------------------------------------------
// Values and transport, against local sockets (no named).

DnsUpdateConfig LocalConfig(int port) {
  DnsUpdateConfig c;
  c.server = fmt::format("127.0.0.1:{}", port);
  c.zone = "ark.test";
  c.name = "db.ark.test";
  c.timeout_ms = 300;
  return c;
}

TEST(DnsUpdateValueTest, ValueMustMatchTheType) {
  SilentListener never_reached;  // value errors come before any I/O
  struct Case {
    const char* type;
    const char* value;
    const char* expected;
  };
  for (const Case& c :
       {Case{"A", "db.ark.test", "is not an IPv4 address"}, Case{"A", "::1", "not an IPv4"},
        Case{"A", "10.0.0.256", "not an IPv4"}, Case{"A", "", "not an IPv4"},
        Case{"AAAA", "10.0.0.1", "is not an IPv6 address"}, Case{"AAAA", "fe80::1::2", "IPv6"},
        Case{"CNAME", "bad..name", "empty label"}, Case{"CNAME", "a b", "contains ' '"},
        Case{"CNAME", "DB.ark.test.", "CNAME loop"}}) {
    DnsUpdateConfig config = LocalConfig(never_reached.port());
    config.type = c.type;
    Status s = UpdateDnsRecord(config, c.value);
    EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument))
        << c.type << " " << c.value << ": " << s.ToString();
    EXPECT_NE(s.message().find(fmt::format("value \"{}\"", c.value)), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.ToString();
  }
}

TEST(DnsTransportTest, SilentServerTimesOutNamingTheServer) {
  SilentListener silent;
  DnsUpdateConfig config = LocalConfig(silent.port());
  const auto start = Clock::now();
  Status s = UpdateDnsRecord(config, "10.0.0.9");
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(s.Is(StatusCode::kTimedOut)) << s.ToString();
  EXPECT_TRUE(s.IsRetryable());
  EXPECT_NE(s.message().find(config.server), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("no answer within timeout_ms 300"), std::string::npos) << s.ToString();
  EXPECT_GE(elapsed, milliseconds(290));
  EXPECT_LT(elapsed, milliseconds(1500));

  auto query = QueryDnsRecord(config);
  EXPECT_TRUE(query.status().Is(StatusCode::kTimedOut)) << query.status().ToString();
}

TEST(DnsTransportTest, ClosedPortFailsFastNamingTheServer) {
  int port;
  {
    SilentListener closed_soon;  // reserve a port, then close it
    port = closed_soon.port();
  }
  DnsUpdateConfig config = LocalConfig(port);
  config.timeout_ms = 5000;
  const auto start = Clock::now();
  Status s = UpdateDnsRecord(config, "10.0.0.9");
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_TRUE(s.Is(StatusCode::kUnavailable)) << s.ToString();
  EXPECT_NE(s.message().find(config.server), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("Connection refused"), std::string::npos) << s.ToString();
}

class FakeAnswerTest : public ::testing::Test {
 protected:
  // Sends a signed update to a fake server answering with `respond`.
  Status UpdateAgainst(FakeDnsServer::Responder respond) {
    FakeDnsServer server(std::move(respond));
    DnsUpdateConfig config = LocalConfig(server.port());
    config.timeout_ms = 3000;
    config.tsig_key_file = dir_.Sub("key.conf");
    WriteFile(config.tsig_key_file, KeyText("ark-key", "hmac-sha256", kSecretA));
    return UpdateDnsRecord(config, "10.0.0.9");
  }
  testing::TempDir dir_;
};

TEST_F(FakeAnswerTest, AnswerSignedWithTheRightKeyIsAccepted) {
  EXPECT_OK(UpdateAgainst([](const std::vector<uint8_t>& r) { return SignedReply(r, kSecretA); }));
}

// Pins what goes on the wire: one UPDATE for the zone whose update section
// deletes the RRset, then adds the one record, signed with the key.
TEST_F(FakeAnswerTest, RequestIsOneUpdateDeletingTheRRsetThenAddingTheRecord) {
  std::vector<uint8_t> seen;
  ASSERT_OK(UpdateAgainst([&seen](const std::vector<uint8_t>& r) {
    seen = r;
    return SignedReply(r, kSecretA);
  }));
  ldns_pkt* parsed = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&parsed, seen.data(), seen.size()), LDNS_STATUS_OK);
  std::unique_ptr<ldns_pkt, void (*)(ldns_pkt*)> request(parsed, ldns_pkt_free);
  EXPECT_EQ(ldns_pkt_get_opcode(parsed), LDNS_PACKET_UPDATE);
  EXPECT_FALSE(ldns_pkt_rd(parsed));
  ASSERT_EQ(ldns_update_zocount(parsed), 1);
  const ldns_rr* zone = ldns_rr_list_rr(ldns_pkt_question(parsed), 0);
  EXPECT_EQ(RdfText(ldns_rr_owner(zone)), "ark.test.");
  EXPECT_EQ(ldns_rr_get_type(zone), LDNS_RR_TYPE_SOA);
  EXPECT_EQ(ldns_update_prcount(parsed), 0);
  ASSERT_EQ(ldns_update_upcount(parsed), 2);
  const ldns_rr* del = ldns_rr_list_rr(ldns_pkt_authority(parsed), 0);
  EXPECT_EQ(RdfText(ldns_rr_owner(del)), "db.ark.test.");
  EXPECT_EQ(ldns_rr_get_type(del), LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_rr_get_class(del), LDNS_RR_CLASS_ANY);
  EXPECT_EQ(ldns_rr_ttl(del), 0u);
  EXPECT_EQ(ldns_rr_rd_count(del), 0u);
  const ldns_rr* add = ldns_rr_list_rr(ldns_pkt_authority(parsed), 1);
  EXPECT_EQ(RdfText(ldns_rr_owner(add)), "db.ark.test.");
  EXPECT_EQ(ldns_rr_get_type(add), LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_rr_get_class(add), LDNS_RR_CLASS_IN);
  EXPECT_EQ(ldns_rr_ttl(add), 30u);
  ASSERT_EQ(ldns_rr_rd_count(add), 1u);
  EXPECT_EQ(RdfText(ldns_rr_rdf(add, 0)), "10.0.0.9");
  ASSERT_NE(ldns_pkt_tsig(parsed), nullptr);
  EXPECT_EQ(RdfText(ldns_rr_owner(ldns_pkt_tsig(parsed))), "ark-key.");
  EXPECT_EQ(RdfText(ldns_rr_rdf(ldns_pkt_tsig(parsed), 0)), "hmac-sha256.");
}

TEST_F(FakeAnswerTest, UnsignedAnswerIsRejected) {
  Status s = UpdateAgainst(BareReply);
  EXPECT_TRUE(s.Is(StatusCode::kCorruption)) << s.ToString();
  EXPECT_NE(s.message().find("not TSIG-signed"), std::string::npos) << s.ToString();
}

TEST_F(FakeAnswerTest, AnswerSignedWithAnotherSecretIsRejected) {
  Status s = UpdateAgainst([](const std::vector<uint8_t>& r) { return SignedReply(r, kSecretB); });
  EXPECT_TRUE(s.Is(StatusCode::kCorruption)) << s.ToString();
  EXPECT_NE(s.message().find("signature does not verify with key \"ark-key\""), std::string::npos)
      << s.ToString();
}

TEST_F(FakeAnswerTest, UnsignedErrorAnswerNamesTheRcode) {
  Status s = UpdateAgainst([](const std::vector<uint8_t>& r) {
    std::vector<uint8_t> reply = BareReply(r);
    reply[3] = LDNS_RCODE_SERVFAIL;
    return reply;
  });
  EXPECT_TRUE(s.Is(StatusCode::kUnavailable)) << s.ToString();
  EXPECT_NE(s.message().find("SERVFAIL"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("the answer is not TSIG-signed"), std::string::npos) << s.ToString();
}

TEST_F(FakeAnswerTest, TsigErrorBadTimeIsNamed) {
  Status s = UpdateAgainst([](const std::vector<uint8_t>& r) {
    std::vector<uint8_t> reply = SignedReply(r, kSecretA);
    reply[3] = LDNS_RCODE_NOTAUTH;
    // The TSIG RR ends: ... original ID (2), error (2), other length (2) = 0.
    reply[reply.size() - 4] = 0;
    reply[reply.size() - 3] = 18;  // BADTIME
    return reply;
  });
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied)) << s.ToString();
  EXPECT_NE(s.message().find("NOTAUTH with TSIG error BADTIME"), std::string::npos) << s.ToString();
}

TEST_F(FakeAnswerTest, AnswerWithAnotherIdIsRejected) {
  Status s = UpdateAgainst([](const std::vector<uint8_t>& r) {
    std::vector<uint8_t> reply = SignedReply(r, kSecretA);
    reply[1] ^= 0x01;
    return reply;
  });
  EXPECT_TRUE(s.Is(StatusCode::kCorruption)) << s.ToString();
  EXPECT_NE(s.message().find("does not match the request"), std::string::npos) << s.ToString();
}

// ---------------------------------------------------------------------------
// Against a real BIND 9 named.

class BindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {kNamed, kTsigKeygen, kDig}) {
      if (Executable(tool)) continue;
      const char* skip = std::getenv("ARK_SKIP_DNS");
      if (skip != nullptr && std::string(skip) == "1")
        GTEST_SKIP() << tool << " missing and ARK_SKIP_DNS=1";
      FAIL() << tool
             << " is missing: run scripts/install-deps.sh (it installs bind9 and bind9-dnsutils), "
             << "or set ARK_SKIP_DNS=1 to skip the DNS tests";
    }
    ASSERT_NO_FATAL_FAILURE(MakeKey("ark-key", "hmac-sha256", "ark-key.conf"));
    ASSERT_NO_FATAL_FAILURE(MakeKey("ark-key512", "hmac-sha512", "ark-key512.conf"));
    ASSERT_NO_FATAL_FAILURE(MakeKey("ark-key1", "hmac-sha1", "ark-key1.conf"));
    ASSERT_NO_FATAL_FAILURE(MakeKey("reader-key", "hmac-sha256", "reader-key.conf"));
    // Not known to named: same name as ark-key with another secret, and an
    // unknown name.
    ASSERT_NO_FATAL_FAILURE(MakeKey("ark-key", "hmac-sha256", "wrong-secret.conf"));
    ASSERT_NO_FATAL_FAILURE(MakeKey("stranger", "hmac-sha256", "stranger.conf"));
    port_ = FreePort();
    ASSERT_NE(port_, 0);
    ASSERT_NO_FATAL_FAILURE(WriteNamedConfig());
    ASSERT_NO_FATAL_FAILURE(StartNamed());
  }

  void TearDown() override {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    pid_ = -1;
  }

  void MakeKey(const std::string& name, const std::string& algorithm, const std::string& file) {
    int status = 0;
    std::string text =
        RunCommand(fmt::format("{} -a {} {}", kTsigKeygen, algorithm, name), &status);
    ASSERT_EQ(status, 0) << "tsig-keygen failed: " << text;
    WriteFile(dir_.Sub(file), text);
  }

  void WriteNamedConfig() {
    const std::string& d = dir_.path();
    WriteFile(dir_.Sub("ark.test.zone"),
              "$TTL 300\n"
              "@     IN SOA ns.ark.test. admin.ark.test. 1 3600 600 86400 60\n"
              "@     IN NS  ns.ark.test.\n"
              "ns    IN A   127.0.0.1\n"
              "db    IN A   10.0.0.1\n"
              "multi IN A   10.0.0.1\n"
              "multi IN A   10.0.0.2\n");
    std::string conf;
    for (const char* key : {"ark-key", "ark-key512", "ark-key1", "reader-key"}) {
      conf += fmt::format("include \"{}/{}.conf\";\n", d, key);
    }
    // controls {}: no rndc channel on the shared port 953.
    conf += fmt::format(
        "controls {{ }};\n"
        "options {{\n"
        "  directory \"{0}\";\n  pid-file \"{0}/named.pid\";\n  session-keyfile "
        "\"{0}/session.key\";\n"
        "  listen-on port {1} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n"
        "  recursion no;\n  dnssec-validation no;\n"
        "}};\n"
        "zone \"ark.test\" {{\n  type primary;\n  file \"{0}/ark.test.zone\";\n"
        "  allow-update {{ key \"ark-key\"; key \"ark-key512\"; key \"ark-key1\"; }};\n"
        "}};\n",
        d, port_);
    WriteFile(dir_.Sub("named.conf"), conf);
  }

  void StartNamed() {
    const std::string conf = dir_.Sub("named.conf");
    const std::string log = dir_.Sub("named.log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<std::string> args = {kNamed, "-g", "-c", conf};
    std::vector<char*> argv = {args[0].data(), args[1].data(), args[2].data(), args[3].data(),
                               nullptr};
    const int rc = ::posix_spawn(&pid_, kNamed, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(rc, 0) << "posix_spawn " << kNamed << ": " << std::strerror(rc);
    ASSERT_NO_FATAL_FAILURE(WaitUntilAnswering(log));
  }

  // Polls with an unsigned query until named serves the zone.
  void WaitUntilAnswering(const std::string& log) {
    DnsUpdateConfig probe = Config("db.ark.test", "A", "");
    probe.timeout_ms = 500;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    Status last;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "named exited (status " << status << ") before answering; its log:\n"
               << ReadFile(log);
      }
      auto answer = QueryDnsRecord(probe);
      if (answer.ok() && !answer->empty()) return;
      last = answer.status();
      std::this_thread::sleep_for(milliseconds(20));
    }
    FAIL() << "named did not answer within 30 s (last: " << last.ToString() << "); its log:\n"
           << ReadFile(log);
  }

  DnsUpdateConfig Config(const std::string& name, const std::string& type = "A",
                         const std::string& key_file = "ark-key.conf") {
    DnsUpdateConfig c;
    c.server = fmt::format("127.0.0.1:{}", port_);
    c.zone = "ark.test";
    c.name = name;
    c.type = type;
    c.tsig_key_file = key_file.empty() ? "" : dir_.Sub(key_file);
    return c;
  }

  std::vector<std::string> Query(const DnsUpdateConfig& c) {
    auto records = QueryDnsRecord(c);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? *records : std::vector<std::string>{"<error>"};
  }

  // dig's view (a separate client, over UDP): "+short" lines, or with
  // `answer_section` the full answer lines (name, ttl, class, type, data).
  std::vector<std::string> Dig(const std::string& name, const std::string& type,
                               bool answer_section = false) {
    int status = 0;
    std::string out =
        RunCommand(fmt::format("{} @127.0.0.1 -p {} +time=3 +tries=1 {} {} {}", kDig, port_,
                               answer_section ? "+noall +answer" : "+short", name, type),
                   &status);
    EXPECT_EQ(status, 0) << "dig failed: " << out;
    return Lines(out);
  }

  testing::TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(BindTest, UpdateChangesARecordSeenByQueryAndDig) {
  DnsUpdateConfig c = Config("db.ark.test");
  EXPECT_EQ(Query(c), std::vector<std::string>{"10.0.0.1"});
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.7"));
  EXPECT_EQ(Query(c), std::vector<std::string>{"10.0.0.7"});
  EXPECT_EQ(Dig("db.ark.test", "A"), std::vector<std::string>{"10.0.0.7"});
  // The record carries the configured TTL.
  std::vector<std::string> answer = Dig("db.ark.test", "A", /*answer_section=*/true);
  ASSERT_EQ(answer.size(), 1u);
  std::istringstream fields(answer[0]);
  std::string owner, ttl;
  fields >> owner >> ttl;
  EXPECT_EQ(owner, "db.ark.test.");
  EXPECT_EQ(ttl, std::to_string(c.ttl));
}

TEST_F(BindTest, SecondUpdateReplacesTheRecord) {
  DnsUpdateConfig c = Config("db.ark.test.");
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.7"));
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.8"));
  EXPECT_EQ(Query(c), std::vector<std::string>{"10.0.0.8"});
  EXPECT_EQ(Dig("db.ark.test", "A"), std::vector<std::string>{"10.0.0.8"});
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.8"));  // idempotent
  EXPECT_EQ(Query(c), std::vector<std::string>{"10.0.0.8"});
}

TEST_F(BindTest, UpdateReplacesAnRRsetOfSeveralRecords) {
  DnsUpdateConfig c = Config("multi.ark.test");
  EXPECT_EQ(Query(c).size(), 2u);
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.9"));
  EXPECT_EQ(Query(c), std::vector<std::string>{"10.0.0.9"});
  EXPECT_EQ(Dig("multi.ark.test", "A"), std::vector<std::string>{"10.0.0.9"});
}

TEST_F(BindTest, UpdateCreatesAMissingName) {
  DnsUpdateConfig c = Config("new.ark.test");
  EXPECT_TRUE(Query(c).empty());  // NXDOMAIN is no records, not an error
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.10"));
  EXPECT_EQ(Query(c), std::vector<std::string>{"10.0.0.10"});
  EXPECT_TRUE(Query(Config("new.ark.test", "AAAA")).empty());  // NOERROR, no such type
}

TEST_F(BindTest, AaaaUpdateWorks) {
  DnsUpdateConfig c = Config("db.ark.test", "AAAA");
  ASSERT_OK(UpdateDnsRecord(c, "2001:db8::7"));
  ASSERT_OK(UpdateDnsRecord(c, "2001:db8::8"));
  EXPECT_EQ(Query(c), std::vector<std::string>{"2001:db8::8"});
  EXPECT_EQ(Dig("db.ark.test", "AAAA"), std::vector<std::string>{"2001:db8::8"});
  EXPECT_EQ(Query(Config("db.ark.test")), std::vector<std::string>{"10.0.0.1"});  // A untouched
}

TEST_F(BindTest, CnameUpdateWorks) {
  DnsUpdateConfig c = Config("primary.ark.test", "CNAME");
  ASSERT_OK(UpdateDnsRecord(c, "db.ark.test"));
  ASSERT_OK(UpdateDnsRecord(c, "ns.ark.test."));
  EXPECT_EQ(Query(c), std::vector<std::string>{"ns.ark.test."});
  EXPECT_EQ(Dig("primary.ark.test", "CNAME"), std::vector<std::string>{"ns.ark.test."});
  // Resolvers follow it to the target's address.
  EXPECT_EQ(Dig("primary.ark.test", "A"), (std::vector<std::string>{"ns.ark.test.", "127.0.0.1"}));
}

TEST_F(BindTest, Sha512AndSha1KeysWork) {
  ASSERT_OK(UpdateDnsRecord(Config("db.ark.test", "A", "ark-key512.conf"), "10.0.5.12"));
  EXPECT_EQ(Query(Config("db.ark.test", "A", "ark-key512.conf")),
            std::vector<std::string>{"10.0.5.12"});
  ASSERT_OK(UpdateDnsRecord(Config("db.ark.test", "A", "ark-key1.conf"), "10.0.0.1"));
  EXPECT_EQ(Dig("db.ark.test", "A"), std::vector<std::string>{"10.0.0.1"});
}

TEST_F(BindTest, HostnameServerWorks) {
  DnsUpdateConfig c = Config("db.ark.test");
  c.server =
      fmt::format("localhost:{}", port_);  // may resolve to ::1 first: falls through to 127.0.0.1
  ASSERT_OK(UpdateDnsRecord(c, "10.0.0.77"));
  EXPECT_EQ(Dig("db.ark.test", "A"), std::vector<std::string>{"10.0.0.77"});
}

TEST_F(BindTest, WrongSecretIsRejectedNamingBadSig) {
  Status s = UpdateDnsRecord(Config("db.ark.test", "A", "wrong-secret.conf"), "10.6.6.6");
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied)) << s.ToString();
  EXPECT_NE(s.message().find("NOTAUTH with TSIG error BADSIG"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("127.0.0.1:{}", port_)), std::string::npos)
      << s.ToString();
  EXPECT_EQ(Query(Config("db.ark.test")), std::vector<std::string>{"10.0.0.1"});
}

TEST_F(BindTest, UnknownKeyIsRejectedNamingBadKey) {
  Status s = UpdateDnsRecord(Config("db.ark.test", "A", "stranger.conf"), "10.6.6.6");
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied)) << s.ToString();
  EXPECT_NE(s.message().find("NOTAUTH with TSIG error BADKEY"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("key \"stranger\""), std::string::npos) << s.ToString();
  EXPECT_EQ(Query(Config("db.ark.test")), std::vector<std::string>{"10.0.0.1"});
}

TEST_F(BindTest, UnsignedUpdateIsRefused) {
  Status s = UpdateDnsRecord(Config("db.ark.test", "A", ""), "10.6.6.6");
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied)) << s.ToString();
  EXPECT_NE(s.message().find("REFUSED"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("set tsig_key_file"), std::string::npos) << s.ToString();
  EXPECT_EQ(Query(Config("db.ark.test")), std::vector<std::string>{"10.0.0.1"});
}

TEST_F(BindTest, KeyWithoutUpdateRightIsRefused) {
  // reader-key is known to named (its answer is signed and verified) but not
  // in allow-update.
  Status s = UpdateDnsRecord(Config("db.ark.test", "A", "reader-key.conf"), "10.6.6.6");
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied)) << s.ToString();
  EXPECT_NE(s.message().find("REFUSED"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("key \"reader-key\""), std::string::npos) << s.ToString();
}

TEST_F(BindTest, ZoneTheServerDoesNotHoldIsNotAuth) {
  DnsUpdateConfig c = Config("db.other.test");
  c.zone = "other.test";
  Status s = UpdateDnsRecord(c, "10.0.0.7");
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition)) << s.ToString();
  EXPECT_NE(s.message().find("NOTAUTH"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("not authoritative for zone other.test."), std::string::npos)
      << s.ToString();
  auto query = QueryDnsRecord(c);
  EXPECT_TRUE(query.status().Is(StatusCode::kPermissionDenied)) << query.status().ToString();
  EXPECT_NE(query.status().message().find("REFUSED (the server does not serve zone other.test."),
            std::string::npos)
      << query.status().ToString();
}

}  // namespace
}  // namespace ark::dr
