#include "dr/failover/dns_update.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "storage/env.h"

namespace ark::dr {
namespace {

// RFC 8945 5.2.3 recommends 300 s; BIND uses the same.
constexpr uint16_t kTsigFudgeSeconds = 300;
constexpr uint32_t kMaxTtlSeconds = 86400;
constexpr uint32_t kMaxTimeoutMs = 600000;

// ---------------------------------------------------------------------------
// Owners for ldns objects (ldns allocates with malloc and frees with free).

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
struct MallocFree {
  void operator()(void* p) const { std::free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;
using WirePtr = std::unique_ptr<uint8_t, MallocFree>;

std::string RdfToString(const ldns_rdf* rdf) {
  std::unique_ptr<char, MallocFree> text(ldns_rdf2str(rdf));
  return text ? std::string(text.get()) : std::string("?");
}

// ---------------------------------------------------------------------------
// Names and values.

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Absolute(std::string_view name) {
  std::string out(name);
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

// Why `name` (trailing dot optional) is not a usable domain name, or "" if it
// is. Stricter than DNS itself (letters, digits, '-' and '_' only) so that a
// typo is caught here rather than by the server.
std::string DomainNameFlaw(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name == ".") return "";
  if (name.back() == '.') name.remove_suffix(1);
  if (name.size() > 253) return fmt::format("is {} characters long (at most 253)", name.size());
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty()) return "has an empty label (\"..\" or a leading dot)";
    if (label.size() > 63)
      return fmt::format("has a label of {} characters (at most 63)", label.size());
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return fmt::format("contains '{}' (allowed: letters, digits, '-', '_')", c);
      }
    }
    start = end + 1;
  }
  return "";
}

bool IsInsideZone(const std::string& absolute_name, const std::string& absolute_zone) {
  if (absolute_zone == ".") return true;
  const std::string name = Lower(absolute_name);
  const std::string zone = Lower(absolute_zone);
  if (name == zone) return true;
  return name.size() > zone.size() &&
         name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
         name[name.size() - zone.size() - 1] == '.';
}

bool IsIpv4(const std::string& s) {
  in_addr a{};
  return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& s) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool IsBase64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t padding = 0;
  while (padding < 2 && s[s.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i < s.size() - padding; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// BIND key files. ldns has no parser for them (it only takes a key name, an
// algorithm and a base64 secret as strings), and pulling in BIND's own
// config parser (libisccfg) for a three-line file is not worth the
// dependency, so we read the tiny grammar ourselves:
//
//   key <name> { algorithm <alg>; secret "<base64>"; };
//
// with #, // and /* */ comments, as BIND writes and reads it.

struct KeyToken {
  enum class Kind { kWord, kString, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  int line = 1;
};

class KeyFileLexer {
 public:
  KeyFileLexer(std::string_view text, std::string_view origin) : text_(text), origin_(origin) {}

  Result<KeyToken> Next() {
    ARK_RETURN_IF_ERROR(SkipSpaceAndComments());
    KeyToken token;
    token.line = line_;
    if (pos_ >= text_.size()) return token;
    const char c = text_[pos_];
    if (c == '{' || c == '}' || c == ';') {
      token.kind = KeyToken::Kind::kPunct;
      token.text = std::string(1, c);
      ++pos_;
    } else if (c == '"') {
      const size_t close = text_.find('"', pos_ + 1);
      if (close == std::string_view::npos) return Error(token.line, "unterminated quoted string");
      token.kind = KeyToken::Kind::kString;
      token.text = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      if (token.text.find('\n') != std::string::npos)
        return Error(token.line, "quoted string spans lines");
      pos_ = close + 1;
    } else {
      const size_t start = pos_;
      while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
             std::string_view("{};\"#").find(text_[pos_]) == std::string_view::npos) {
        ++pos_;
      }
      token.kind = KeyToken::Kind::kWord;
      token.text = std::string(text_.substr(start, pos_ - start));
    }
    return token;
  }

  Status Error(int line, std::string_view what) const {
    return Status::InvalidArgument(
        fmt::format("tsig key file {} line {}: {}", origin_, line, what));
  }

 private:
  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '#' || text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.substr(pos_, 2) == "/*") {
        const size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return Error(line_, "unterminated /* comment");
        line_ +=
            static_cast<int>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                        text_.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return Status::OK();
  }

  std::string_view text_;
  std::string_view origin_;
  size_t pos_ = 0;
  int line_ = 1;
};

std::string Describe(const KeyToken& t) {
  switch (t.kind) {
    case KeyToken::Kind::kEnd:
      return "end of file";
    case KeyToken::Kind::kString:
      return fmt::format("\"{}\"", t.text);
    default:
      return fmt::format("'{}'", t.text);
  }
}

Status ExpectPunct(KeyFileLexer& lex, char punct, std::string_view after) {
  ARK_ASSIGN_OR_RETURN(KeyToken t, lex.Next());
  if (t.kind != KeyToken::Kind::kPunct || t.text[0] != punct) {
    return lex.Error(t.line,
                     fmt::format("expected '{}' after {}, found {}", punct, after, Describe(t)));
  }
  return Status::OK();
}

Status CheckAlgorithm(const KeyFileLexer& lex, const KeyToken& value, TsigKey* key) {
  const std::string alg = Lower(value.text);
  if (alg != "hmac-sha256" && alg != "hmac-sha512" && alg != "hmac-sha1") {
    return lex.Error(value.line,
                     fmt::format("algorithm {} is not supported (supported: hmac-sha256, "
                                 "hmac-sha512, hmac-sha1)",
                                 value.text));
  }
  key->algorithm = alg;
  return Status::OK();
}

// One "algorithm X;" or "secret "X";" inside a key statement.
Status ParseKeyClause(KeyFileLexer& lex, const KeyToken& clause, TsigKey* key) {
  if (clause.kind != KeyToken::Kind::kWord ||
      (clause.text != "algorithm" && clause.text != "secret")) {
    return lex.Error(clause.line,
                     fmt::format("expected 'algorithm' or 'secret' in key \"{}\", found {}",
                                 key->name, Describe(clause)));
  }
  ARK_ASSIGN_OR_RETURN(KeyToken value, lex.Next());
  const bool is_secret = clause.text == "secret";
  if ((is_secret ? !key->secret.empty() : !key->algorithm.empty())) {
    return lex.Error(clause.line,
                     fmt::format("{} given twice in key \"{}\"", clause.text, key->name));
  }
  if (value.kind != KeyToken::Kind::kWord && value.kind != KeyToken::Kind::kString) {
    return lex.Error(value.line, fmt::format("expected a value after {}, found {}", clause.text,
                                             Describe(value)));
  }
  if (is_secret) {
    if (!IsBase64(value.text)) {
      return lex.Error(value.line,
                       fmt::format("secret of key \"{}\" is not valid base64", key->name));
    }
    key->secret = value.text;
  } else {
    ARK_RETURN_IF_ERROR(CheckAlgorithm(lex, value, key));
  }
  return ExpectPunct(lex, ';', clause.text);
}

// After the 'key' keyword: <name> { clauses } ;
Result<TsigKey> ParseKeyStatement(KeyFileLexer& lex, int key_line) {
  TsigKey key;
  ARK_ASSIGN_OR_RETURN(KeyToken name, lex.Next());
  if (name.kind != KeyToken::Kind::kWord && name.kind != KeyToken::Kind::kString) {
    return lex.Error(name.line,
                     fmt::format("expected a key name after 'key', found {}", Describe(name)));
  }
  if (std::string flaw = DomainNameFlaw(name.text); !flaw.empty()) {
    return lex.Error(name.line, fmt::format("key name \"{}\" {}", name.text, flaw));
  }
  key.name = name.text;
  if (key.name.size() > 1 && key.name.back() == '.') key.name.pop_back();
  ARK_RETURN_IF_ERROR(ExpectPunct(lex, '{', "the key name"));
  for (;;) {
    ARK_ASSIGN_OR_RETURN(KeyToken t, lex.Next());
    if (t.kind == KeyToken::Kind::kPunct && t.text == "}") break;
    if (t.kind == KeyToken::Kind::kEnd) {
      return lex.Error(t.line, fmt::format("key \"{}\" is not closed with '}}'", key.name));
    }
    ARK_RETURN_IF_ERROR(ParseKeyClause(lex, t, &key));
  }
  ARK_RETURN_IF_ERROR(ExpectPunct(lex, ';', "'}'"));
  if (key.algorithm.empty())
    return lex.Error(key_line, fmt::format("key \"{}\" has no algorithm", key.name));
  if (key.secret.empty())
    return lex.Error(key_line, fmt::format("key \"{}\" has no secret", key.name));
  return key;
}

// ---------------------------------------------------------------------------
// The validated form of a DnsUpdateConfig.

struct RecordType {
  ldns_rr_type type;
  const char* name;
};

struct Target {
  std::string server_text;  // as configured, for messages
  DnsServerAddress server;
  std::string zone;  // absolute
  std::string name;  // absolute
  RecordType type{LDNS_RR_TYPE_A, "A"};
  uint32_t ttl = 0;
  uint32_t timeout_ms = 0;
  std::optional<TsigKey> key;

  // "DNS UPDATE db.ark.test./A at 127.0.0.1:53"
  std::string Describe(std::string_view operation) const {
    return fmt::format("DNS {} {}/{} at {}", operation, name, type.name, server_text);
  }
};

Status ConfigError(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(fmt::format("dns update config: {} {}", field, what));
}

Result<RecordType> ParseRecordType(const std::string& type) {
  const std::string upper = [&] {
    std::string u = type;
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }();
  if (upper == "A") return RecordType{LDNS_RR_TYPE_A, "A"};
  if (upper == "AAAA") return RecordType{LDNS_RR_TYPE_AAAA, "AAAA"};
  if (upper == "CNAME") return RecordType{LDNS_RR_TYPE_CNAME, "CNAME"};
  return ConfigError("type", fmt::format("\"{}\" is not supported (use A, AAAA or CNAME)", type));
}

Status CheckZoneAndName(const DnsUpdateConfig& c, Target* t) {
  if (c.zone.empty()) return ConfigError("zone", "is empty");
  if (std::string flaw = DomainNameFlaw(c.zone); !flaw.empty()) {
    return ConfigError("zone", fmt::format("\"{}\" {}", c.zone, flaw));
  }
  if (std::string flaw = DomainNameFlaw(c.name); !flaw.empty()) {
    return ConfigError("name", fmt::format("\"{}\" {}", c.name, flaw));
  }
  t->zone = Absolute(c.zone);
  t->name = Absolute(c.name);
  if (!IsInsideZone(t->name, t->zone)) {
    return ConfigError("name", fmt::format("\"{}\" is not inside zone \"{}\"", c.name, c.zone));
  }
  if (t->type.type == LDNS_RR_TYPE_CNAME && Lower(t->name) == Lower(t->zone)) {
    return ConfigError("name",
                       fmt::format("\"{}\" is the zone apex, which cannot hold a CNAME", c.name));
  }
  return Status::OK();
}

Result<Target> Prepare(const DnsUpdateConfig& c) {
  Target t;
  t.server_text = c.server;
  ARK_ASSIGN_OR_RETURN(t.server, ParseDnsServerAddress(c.server));
  ARK_ASSIGN_OR_RETURN(t.type, ParseRecordType(c.type));
  ARK_RETURN_IF_ERROR(CheckZoneAndName(c, &t));
  if (c.ttl > kMaxTtlSeconds) {
    return ConfigError("ttl",
                       fmt::format("{} is out of range 0..{} seconds", c.ttl, kMaxTtlSeconds));
  }
  t.ttl = c.ttl;
  if (c.timeout_ms == 0 || c.timeout_ms > kMaxTimeoutMs) {
    return ConfigError("timeout_ms",
                       fmt::format("{} is out of range 1..{}", c.timeout_ms, kMaxTimeoutMs));
  }
  t.timeout_ms = c.timeout_ms;
  if (!c.tsig_key_file.empty()) {
    auto key = ReadTsigKeyFile(c.tsig_key_file);
    if (!key.ok()) return key.status().WithContext("dns update config: tsig_key_file");
    t.key = std::move(key).value();
  }
  return t;
}

// ---------------------------------------------------------------------------
// TCP transport (RFC 1035 4.2.2: each message prefixed by its 2-byte length).

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket& operator=(Socket&&) = delete;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<int64_t>(0, left));
}

// Waits until `fd` is ready for `events`; TimedOut at the deadline.
Status WaitReady(int fd, short events, Clock::time_point deadline, const std::string& what,
                 uint32_t timeout_ms, std::string_view stage) {
  for (;;) {
    const int left = RemainingMs(deadline);
    if (left == 0) {
      return Status::TimedOut(fmt::format("{}: {} within timeout_ms {}", what, stage, timeout_ms));
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, left);
    if (n > 0) return Status::OK();
    if (n < 0 && errno != EINTR) {
      return Status::IOError(fmt::format("{}: poll: {}", what, std::strerror(errno)));
    }
  }
}

std::string AddressText(const addrinfo* ai) {
  char host[NI_MAXHOST] = "?";
  char port[NI_MAXSERV] = "?";
  ::getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, port, sizeof port,
                NI_NUMERICHOST | NI_NUMERICSERV);
  return ai->ai_family == AF_INET6 ? fmt::format("[{}]:{}", host, port)
                                   : fmt::format("{}:{}", host, port);
}

// Connects to one address: the socket, TimedOut at the deadline, or
// Unavailable naming the address and the errno.
Result<Socket> ConnectOne(const addrinfo* ai, Clock::time_point deadline, const Target& t,
                          const std::string& what) {
  Socket s(::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd() < 0)
    return Status::Unavailable(fmt::format("{}: socket: {}", what, std::strerror(errno)));
  if (::connect(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      return Status::Unavailable(
          fmt::format("{}: connect to {}: {}", what, AddressText(ai), std::strerror(errno)));
    }
    ARK_RETURN_IF_ERROR(WaitReady(s.fd(), POLLOUT, deadline, what, t.timeout_ms,
                                  fmt::format("could not connect to {}", AddressText(ai))));
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      return Status::Unavailable(
          fmt::format("{}: connect to {}: {}", what, AddressText(ai), std::strerror(err)));
    }
  }
  return s;
}

// Tries each address of the server in turn until one accepts.
Result<Socket> Connect(const Target& t, Clock::time_point deadline, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(t.server.port);
  if (int rc = ::getaddrinfo(t.server.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable(
        fmt::format("{}: cannot resolve {}: {}", what, t.server.host, ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  Status last = Status::Unavailable(fmt::format("{}: {} has no address", what, t.server.host));
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    auto s = ConnectOne(ai, deadline, t, what);
    if (s.ok()) return s;
    last = s.status();
    if (last.Is(StatusCode::kTimedOut)) break;
  }
  return last;
}

Status SendAll(int fd, const std::vector<uint8_t>& data, Clock::time_point deadline,
               const Target& t, const std::string& what) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ARK_RETURN_IF_ERROR(
          WaitReady(fd, POLLOUT, deadline, what, t.timeout_ms, "could not send the request"));
    } else if (n < 0 && errno != EINTR) {
      return Status::Unavailable(fmt::format("{}: send: {}", what, std::strerror(errno)));
    }
  }
  return Status::OK();
}

Status ReceiveExactly(int fd, uint8_t* out, size_t size, Clock::time_point deadline,
                      const Target& t, const std::string& what) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, out + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n == 0) {
      return Status::Unavailable(
          fmt::format("{}: the server closed the connection before answering", what));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ARK_RETURN_IF_ERROR(WaitReady(fd, POLLIN, deadline, what, t.timeout_ms, "no answer"));
    } else if (errno != EINTR) {
      return Status::Unavailable(fmt::format("{}: recv: {}", what, std::strerror(errno)));
    }
  }
  return Status::OK();
}

Result<std::vector<uint8_t>> ExchangeTcp(const Target& t, const uint8_t* request, size_t size,
                                         const std::string& what) {
  // DNS over TCP frames a message with a 16-bit length (RFC 1035 4.2.2).
  if (size > 65535) return Status::InvalidArgument(fmt::format("{}: a {}-byte message is too large", what, size));
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(t.timeout_ms);
  ARK_ASSIGN_OR_RETURN(Socket s, Connect(t, deadline, what));
  std::vector<uint8_t> framed(2 + size);
  framed[0] = static_cast<uint8_t>(size >> 8);
  framed[1] = static_cast<uint8_t>(size & 0xff);
  std::copy(request, request + size, framed.begin() + 2);
  ARK_RETURN_IF_ERROR(SendAll(s.fd(), framed, deadline, t, what));
  uint8_t length[2];
  ARK_RETURN_IF_ERROR(ReceiveExactly(s.fd(), length, 2, deadline, t, what));
  const size_t answer_size = (size_t{length[0]} << 8) | length[1];
  if (answer_size < LDNS_HEADER_SIZE) {
    return Status::Corruption(
        fmt::format("{}: answer of {} bytes is shorter than a DNS header", what, answer_size));
  }
  std::vector<uint8_t> answer(answer_size);
  ARK_RETURN_IF_ERROR(ReceiveExactly(s.fd(), answer.data(), answer.size(), deadline, t, what));
  return answer;
}

// ---------------------------------------------------------------------------
// Answers.

struct RcodeInfo {
  StatusCode code;
  const char* name;
  const char* meaning;
};

// Indexed by RCODE (RFC 1035, RFC 2136). REFUSED, NOTAUTH and NOTZONE get a
// meaning naming the zone and key in RcodeStatus.
constexpr RcodeInfo kRcodes[] = {
    {StatusCode::kOk, "NOERROR", ""},
    {StatusCode::kInvalidArgument, "FORMERR", "the server could not parse the message"},
    {StatusCode::kUnavailable, "SERVFAIL", "the server failed internally; see its log"},
    {StatusCode::kFailedPrecondition, "NXDOMAIN", "the name does not exist"},
    {StatusCode::kNotSupported, "NOTIMP", "the server does not implement this operation"},
    {StatusCode::kPermissionDenied, "REFUSED", ""},
    {StatusCode::kFailedPrecondition, "YXDOMAIN", "an update prerequisite failed"},
    {StatusCode::kFailedPrecondition, "YXRRSET", "an update prerequisite failed"},
    {StatusCode::kFailedPrecondition, "NXRRSET", "an update prerequisite failed"},
    {StatusCode::kFailedPrecondition, "NOTAUTH", ""},
    {StatusCode::kFailedPrecondition, "NOTZONE", ""},
};

std::string RcodeName(uint8_t rcode) {
  return rcode < std::size(kRcodes) ? kRcodes[rcode].name : fmt::format("RCODE {}", rcode);
}

std::string RcodeMeaning(uint8_t rcode, const Target& t, bool update) {
  switch (rcode) {
    case LDNS_RCODE_REFUSED:
      if (!update) {
        return fmt::format(
            "the server does not serve zone {} to this client (not authoritative, "
            "or allow-query excludes it)",
            t.zone);
      }
      if (!t.key) {
        return fmt::format(
            "the server's policy for zone {} refuses this unsigned update; servers "
            "usually require a TSIG key: set tsig_key_file",
            t.zone);
      }
      return fmt::format(
          "the server's allow-update/update-policy for zone {} does not grant key "
          "\"{}\" this change",
          t.zone, t.key->name);
    case LDNS_RCODE_NOTAUTH:
      return fmt::format("the server is not authoritative for zone {}", t.zone);
    case LDNS_RCODE_NOTZONE:
      return fmt::format("{} is not within zone {} as the server sees it", t.name, t.zone);
    default:
      return rcode < std::size(kRcodes) ? kRcodes[rcode].meaning : "unknown to this client";
  }
}

// OK for NOERROR, else the RCODE's status code with its name and meaning.
Status RcodeStatus(uint8_t rcode, bool update, const Target& t, const std::string& what,
                   std::string_view note) {
  if (rcode == LDNS_RCODE_NOERROR) return Status::OK();
  const StatusCode code = rcode < std::size(kRcodes) ? kRcodes[rcode].code : StatusCode::kInternal;
  return Status(code, fmt::format("{}: {} ({}){}", what, RcodeName(rcode),
                                  RcodeMeaning(rcode, t, update), note));
}

std::string TsigErrorName(uint16_t error) {
  // RFC 8945 5.3.2 and the IANA registry, from 16.
  static constexpr const char* kNames[] = {
      "BADSIG (the server could not verify our signature: wrong secret or algorithm)",
      "BADKEY (the server does not know this key name or algorithm)",
      "BADTIME (our clock and the server's differ by more than the fudge; check NTP)",
      "BADMODE",
      "BADNAME",
      "BADALG (the server does not support this algorithm)",
      "BADTRUNC",
      "BADCOOKIE",
  };
  if (error >= 16 && error - 16u < std::size(kNames)) return kNames[error - 16];
  return fmt::format("TSIG error {}", error);
}

uint64_t Uint48(const ldns_rdf* rdf) {
  if (rdf == nullptr || ldns_rdf_size(rdf) != 6) return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < 6; ++i) v = (v << 8) | ldns_rdf_data(rdf)[i];
  return v;
}

// With a key configured: the answer must be signed by the same key over our
// request MAC (RFC 8945 5.3), close to our clock. A TSIG error the server
// reports (its answer is then unsigned) is named as a permission problem.
Status CheckAnswerTsig(ldns_pkt* answer, const std::vector<uint8_t>& wire, const TsigKey& key,
                       const ldns_rdf* request_mac, const Target& t, const std::string& what) {
  const ldns_rr* tsig = ldns_pkt_tsig(answer);
  const uint8_t rcode = ldns_pkt_get_rcode(answer);
  if (tsig == nullptr || ldns_rr_rd_count(tsig) < 7) {
    if (rcode != LDNS_RCODE_NOERROR) {
      const bool update = ldns_pkt_get_opcode(answer) == LDNS_PACKET_UPDATE;
      return RcodeStatus(rcode, update, t, what, "; the answer is not TSIG-signed");
    }
    return Status::Corruption(fmt::format(
        "{}: the answer is not TSIG-signed, so it cannot be trusted (key \"{}\")", what, key.name));
  }
  if (const uint16_t error = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5)); error != 0) {
    return Status::PermissionDenied(fmt::format("{}: {} with TSIG error {} (key \"{}\", {})", what,
                                                RcodeName(rcode), TsigErrorName(error), key.name,
                                                key.algorithm));
  }
  RdfPtr key_name(ldns_dname_new_frm_str(Absolute(key.name).c_str()));
  RdfPtr algorithm(ldns_dname_new_frm_str(Absolute(key.algorithm).c_str()));
  if (!key_name || !algorithm || ldns_dname_compare(ldns_rr_owner(tsig), key_name.get()) != 0 ||
      ldns_dname_compare(ldns_rr_rdf(tsig, 0), algorithm.get()) != 0) {
    return Status::Corruption(
        fmt::format("{}: the answer is signed with key {} ({}), not ours (\"{}\", {})", what,
                    RdfToString(ldns_rr_owner(tsig)), RdfToString(ldns_rr_rdf(tsig, 0)), key.name,
                    key.algorithm));
  }
  // Algorithm and secret were checked above and when the key was read, so a
  // false here is a MAC mismatch (ldns's error path, which would leave the
  // packet without its TSIG, is not reachable).
  if (!ldns_pkt_tsig_verify(answer, wire.data(), wire.size(), Absolute(key.name).c_str(),
                            key.secret.c_str(), request_mac)) {
    return Status::Corruption(fmt::format(
        "{}: the answer's TSIG signature does not verify with key \"{}\"", what, key.name));
  }
  const int64_t signed_at = static_cast<int64_t>(Uint48(ldns_rr_rdf(tsig, 1)));
  const int64_t fudge = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 2));
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (std::abs(now - signed_at) > fudge) {
    return Status::Corruption(
        fmt::format("{}: the answer was signed {} s away from our clock (fudge {} s): a "
                    "replayed answer or clock skew",
                    what, now - signed_at, fudge));
  }
  return Status::OK();
}

// Signs (with a key), sends, and checks that the answer belongs to the
// request: same ID, a response, same opcode, and a valid TSIG with a key.
// The RCODE is left to the caller.
Result<PktPtr> Exchange(const Target& t, ldns_pkt* request, const std::string& what) {
  RdfPtr request_mac;
  if (t.key) {
    const std::string key_name = Absolute(t.key->name);
    const std::string algorithm = Absolute(t.key->algorithm);
    ldns_status s = ldns_pkt_tsig_sign(request, key_name.c_str(), t.key->secret.c_str(),
                                       kTsigFudgeSeconds, algorithm.c_str(), nullptr);
    if (s != LDNS_STATUS_OK || ldns_pkt_tsig(request) == nullptr) {
      return Status::Internal(fmt::format("{}: TSIG signing with key \"{}\": {}", what, t.key->name,
                                          ldns_get_errorstr_by_id(s)));
    }
    request_mac.reset(ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(request), 3)));
  }
  uint8_t* raw = nullptr;
  size_t raw_size = 0;
  if (ldns_status s = ldns_pkt2wire(&raw, request, &raw_size); s != LDNS_STATUS_OK) {
    return Status::Internal(
        fmt::format("{}: encoding the request: {}", what, ldns_get_errorstr_by_id(s)));
  }
  WirePtr request_wire(raw);
  ARK_ASSIGN_OR_RETURN(std::vector<uint8_t> wire,
                       ExchangeTcp(t, request_wire.get(), raw_size, what));
  ldns_pkt* parsed = nullptr;
  if (ldns_status s = ldns_wire2pkt(&parsed, wire.data(), wire.size()); s != LDNS_STATUS_OK) {
    return Status::Corruption(fmt::format("{}: malformed answer ({} bytes): {}", what, wire.size(),
                                          ldns_get_errorstr_by_id(s)));
  }
  PktPtr answer(parsed);
  if (ldns_pkt_id(answer.get()) != ldns_pkt_id(request) || !ldns_pkt_qr(answer.get()) ||
      ldns_pkt_get_opcode(answer.get()) != ldns_pkt_get_opcode(request)) {
    return Status::Corruption(fmt::format(
        "{}: the answer (ID {}, QR {}) does not match the request (ID {})", what,
        ldns_pkt_id(answer.get()), ldns_pkt_qr(answer.get()) ? 1 : 0, ldns_pkt_id(request)));
  }
  if (t.key)
    ARK_RETURN_IF_ERROR(CheckAnswerTsig(answer.get(), wire, *t.key, request_mac.get(), t, what));
  return answer;
}

// The rdata for `value` checked against the record type.
Result<RdfPtr> ValueRdata(const Target& t, const std::string& value) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("{}: value \"{}\" {}", t.Describe("UPDATE"), value, why));
  };
  ldns_rdf* rdf = nullptr;
  if (t.type.type == LDNS_RR_TYPE_A) {
    if (!IsIpv4(value)) return bad("is not an IPv4 address (type A)");
    rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, value.c_str());
  } else if (t.type.type == LDNS_RR_TYPE_AAAA) {
    if (!IsIpv6(value)) return bad("is not an IPv6 address (type AAAA)");
    rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, value.c_str());
  } else {
    if (std::string flaw = DomainNameFlaw(value); !flaw.empty())
      return bad(fmt::format("(CNAME target) {}", flaw));
    if (Lower(Absolute(value)) == Lower(t.name))
      return bad("is the record's own name (a CNAME loop)");
    rdf = ldns_dname_new_frm_str(Absolute(value).c_str());
  }
  if (rdf == nullptr) return bad("could not be encoded");
  return RdfPtr(rdf);
}

ldns_rr* NewRr(const Target& t, ldns_rr_class rr_class, uint32_t ttl) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_str(t.name.c_str()));
  ldns_rr_set_type(rr, t.type.type);
  ldns_rr_set_class(rr, rr_class);
  ldns_rr_set_ttl(rr, ttl);
  return rr;
}

// One UPDATE for t.zone: delete the RRset name/type (class ANY, TTL 0, no
// rdata: RFC 2136 2.5.2), then add the one record.
Result<PktPtr> BuildUpdate(const Target& t, RdfPtr rdata) {
  RrListPtr updates(ldns_rr_list_new());
  ldns_rr_list_push_rr(updates.get(), NewRr(t, LDNS_RR_CLASS_ANY, 0));
  ldns_rr* add = NewRr(t, LDNS_RR_CLASS_IN, t.ttl);
  ldns_rr_list_push_rr(updates.get(), add);
  ldns_rr_push_rdf(add, rdata.release());
  // ldns_update_pkt_new takes the zone rdf and copies the update list.
  PktPtr update(ldns_update_pkt_new(ldns_dname_new_frm_str(t.zone.c_str()), LDNS_RR_CLASS_IN,
                                    nullptr, updates.get(), nullptr));
  if (!update)
    return Status::Internal(fmt::format("{}: building the UPDATE message", t.Describe("UPDATE")));
  ldns_pkt_set_rd(update.get(), false);  // ldns sets RD; RFC 2136 has it zero
  ldns_pkt_set_random_id(update.get());
  return update;
}

}  // namespace

Result<TsigKey> ParseTsigKey(std::string_view text, std::string_view origin) {
  KeyFileLexer lex(text, origin);
  std::vector<TsigKey> keys;
  for (;;) {
    ARK_ASSIGN_OR_RETURN(KeyToken t, lex.Next());
    if (t.kind == KeyToken::Kind::kEnd) break;
    if (t.kind != KeyToken::Kind::kWord || t.text != "key") {
      return lex.Error(t.line, fmt::format("expected a 'key' statement, found {}", Describe(t)));
    }
    ARK_ASSIGN_OR_RETURN(TsigKey key, ParseKeyStatement(lex, t.line));
    keys.push_back(std::move(key));
  }
  if (keys.empty()) {
    return Status::InvalidArgument(
        fmt::format("tsig key file {}: no 'key' statement (expected the output of "
                    "tsig-keygen)",
                    origin));
  }
  if (keys.size() > 1) {
    return Status::InvalidArgument(
        fmt::format("tsig key file {}: holds {} keys (\"{}\", \"{}\", ...); it must "
                    "hold exactly one",
                    origin, keys.size(), keys[0].name, keys[1].name));
  }
  return std::move(keys[0]);
}

Result<TsigKey> ReadTsigKeyFile(const std::string& path) {
  std::string text;
  Status s = Env::Default()->ReadFileToString(path, &text);
  if (!s.ok()) {
    return Status::InvalidArgument(
        fmt::format("tsig key file {} cannot be read: {}", path, s.ToString()));
  }
  return ParseTsigKey(text, path);
}

Result<DnsServerAddress> ParseDnsServerAddress(std::string_view server) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("dns update config: server \"{}\" {}", server, why));
  };
  if (server.empty()) return bad("is empty (expected host:port)");
  DnsServerAddress out;
  std::string_view port;
  if (server.front() == '[') {
    const size_t close = server.find(']');
    if (close == std::string_view::npos) return bad("has '[' without ']'");
    out.host = std::string(server.substr(1, close - 1));
    if (!IsIpv6(out.host)) return bad("has a bracketed host that is not an IPv6 address");
    std::string_view rest = server.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("has text after ']' that is not :port");
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return bad("has an empty port");
  } else if (std::count(server.begin(), server.end(), ':') > 1) {
    out.host = std::string(server);  // a bare IPv6 literal: port 53
    if (!IsIpv6(out.host)) return bad("is not host:port (write an IPv6 address as [address]:port)");
  } else {
    const size_t colon = server.find(':');
    out.host = std::string(server.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = server.substr(colon + 1);
      if (port.empty()) return bad("has an empty port");
    }
    if (out.host.empty()) return bad("has an empty host");
    const bool numeric = out.host.find_first_not_of("0123456789.") == std::string::npos;
    if (numeric && !IsIpv4(out.host)) return bad("has a host that is not a valid IPv4 address");
    if (std::string flaw = DomainNameFlaw(out.host); !numeric && !flaw.empty()) {
      return bad(fmt::format("has a host name that {}", flaw));
    }
  }
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535)
        return bad(fmt::format("has a bad port \"{}\" (1..65535)", port));
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535)
      return bad(fmt::format("has a bad port \"{}\" (1..65535)", port));
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

Status ValidateDnsUpdateConfig(const DnsUpdateConfig& config) { return Prepare(config).status(); }

Status UpdateDnsRecord(const DnsUpdateConfig& config, const std::string& value) {
  ARK_ASSIGN_OR_RETURN(Target t, Prepare(config));
  ARK_ASSIGN_OR_RETURN(RdfPtr rdata, ValueRdata(t, value));
  ARK_ASSIGN_OR_RETURN(PktPtr update, BuildUpdate(t, std::move(rdata)));
  const std::string what =
      fmt::format("{} (zone {}, value {})", t.Describe("UPDATE"), t.zone, value);
  ARK_ASSIGN_OR_RETURN(PktPtr answer, Exchange(t, update.get(), what));
  return RcodeStatus(ldns_pkt_get_rcode(answer.get()), /*update=*/true, t, what, "");
}

Result<std::vector<std::string>> QueryDnsRecord(const DnsUpdateConfig& config) {
  ARK_ASSIGN_OR_RETURN(Target t, Prepare(config));
  const std::string what = t.Describe("query");
  PktPtr query(
      ldns_pkt_query_new(ldns_dname_new_frm_str(t.name.c_str()), t.type.type, LDNS_RR_CLASS_IN, 0));
  if (!query) return Status::Internal(fmt::format("{}: building the query", what));
  ldns_pkt_set_random_id(query.get());
  ARK_ASSIGN_OR_RETURN(PktPtr answer, Exchange(t, query.get(), what));
  const uint8_t rcode = ldns_pkt_get_rcode(answer.get());
  std::vector<std::string> records;
  if (rcode == LDNS_RCODE_NXDOMAIN) return records;
  ARK_RETURN_IF_ERROR(RcodeStatus(rcode, /*update=*/false, t, what, ""));
  RdfPtr owner(ldns_dname_new_frm_str(t.name.c_str()));
  const ldns_rr_list* answers = ldns_pkt_answer(answer.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    if (ldns_rr_get_type(rr) != t.type.type ||
        ldns_dname_compare(ldns_rr_owner(rr), owner.get()) != 0)
      continue;
    std::string data;
    for (size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
      if (j > 0) data += ' ';
      data += RdfToString(ldns_rr_rdf(rr, j));
    }
    records.push_back(std::move(data));
  }
  return records;
}

}  // namespace ark::dr
