// DNS dynamic update (RFC 2136), TSIG-signed (RFC 8945): failover's traffic
// switch. After a promotion, `ark monitor` points a name such as
// "db.ark.test" at the new primary by asking the zone's authoritative server
// to replace that name's RRset.
//
// What UpdateDnsRecord promises:
//   * It sends ONE UPDATE message for `zone` whose update section deletes the
//     whole RRset of name/type and adds exactly one record (name, ttl, IN,
//     type, value). The server applies an UPDATE atomically, so afterwards the
//     RRset is exactly {value}: there is no moment with zero or two records,
//     and repeating the call is harmless (idempotent).
//   * With a key configured, the message is TSIG-signed and the answer must
//     carry a TSIG that verifies with the same key against our request MAC and
//     is within the answer's fudge of our wall clock; an unsigned or badly
//     signed NOERROR answer is an error (it could be forged), so OK means the
//     server really applied the update.
//   * Transport is TCP (length-prefixed, RFC 1035 4.2.2): no truncation or
//     retransmission logic. One deadline of timeout_ms covers connecting,
//     sending and the answer. Hostname resolution (when `server` is not an IP
//     literal) uses the system resolver and is NOT bounded by timeout_ms: use
//     an IP literal for the server so the switch does not depend on DNS.
//
// Status codes (callers branch on these, never on message text):
//   InvalidArgument     bad config or bad value (names the field); FORMERR
//   Unavailable         cannot resolve/connect (refused, unreachable), the
//                       connection dropped, or SERVFAIL: retry later
//   TimedOut            no complete answer within timeout_ms
//   PermissionDenied    REFUSED or NOTAUTH, or a TSIG error from the server
//                       (BADSIG wrong secret/algorithm, BADKEY unknown key
//                       name, BADTIME clock skew): fix the key or allow-update
//   FailedPrecondition  NOTZONE, YXDOMAIN, YXRRSET, NXRRSET, NXDOMAIN: the
//                       server does not hold this zone as we described it
//   NotSupported        NOTIMP: the server does not do dynamic update
//   Corruption          the answer is malformed, has the wrong ID, or (with a
//                       key) is unsigned or fails TSIG verification
// Every message names the server and the record ("db.ark.test./A").
//
// Thread-safety: the functions are stateless; call them from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ark::dr {

struct DnsUpdateConfig {
  // "host:port" of the zone's authoritative (primary) server; the port
  // defaults to 53. host is an IPv4 literal, a hostname, or an IPv6 literal
  // written "[2001:db8::1]:53" (a bare "2001:db8::1" means port 53).
  std::string server;
  std::string zone;  // e.g. "ark.test" (trailing dot optional)
  // Fully qualified record name inside zone, e.g. "db.ark.test" (trailing dot
  // optional; names are always taken as absolute).
  std::string name;
  std::string type = "A";  // A, AAAA or CNAME (case-insensitive)
  // Seconds, 0..86400: a failover name should be short-lived, since clients
  // keep the old address for up to ttl after a switch.
  uint32_t ttl = 30;
  // A BIND key file as written by `tsig-keygen -a hmac-sha256 NAME`
  // (key "NAME" { algorithm hmac-sha256; secret "base64"; };), holding exactly
  // one key. Empty: updates are sent unsigned (the server must allow that).
  std::string tsig_key_file;
  uint32_t timeout_ms = 3000;  // 1..600000
};

// A TSIG shared secret as read from a BIND key file.
struct TsigKey {
  std::string name;       // the key's name, e.g. "ark-key" (no trailing dot)
  std::string algorithm;  // "hmac-sha256", "hmac-sha512" or "hmac-sha1"
  std::string secret;     // base64, as in the file (validated)
};

// Parses the text of a BIND key file (see DnsUpdateConfig::tsig_key_file).
// `origin` names the text in messages (normally the path); errors are
// InvalidArgument and give the line and what was wrong.
Result<TsigKey> ParseTsigKey(std::string_view text, std::string_view origin);
// Reads `path` (through Env::Default()) and parses it. An unreadable file is
// InvalidArgument naming the path and the reason.
Result<TsigKey> ReadTsigKeyFile(const std::string& path);

struct DnsServerAddress {
  std::string host;  // without brackets
  uint16_t port = 53;
};
// Parses DnsUpdateConfig::server (see there); InvalidArgument names the flaw.
Result<DnsServerAddress> ParseDnsServerAddress(std::string_view server);

// Checks every field, reads and parses the key file, without any network I/O.
// InvalidArgument naming the field: empty zone, name not inside zone, bad
// type, ttl out of range, timeout out of range, unreadable or malformed key
// file (line and reason), bad server.
Status ValidateDnsUpdateConfig(const DnsUpdateConfig& config);

// Replaces the RRset name/type with exactly one record holding `value` (an
// IPv4 address for A, IPv6 for AAAA, a domain name for CNAME), as described
// at the top of this file. Validates the config and the value first.
Status UpdateDnsRecord(const DnsUpdateConfig& config, const std::string& value);

// Asks the server for name/type (no recursion; TSIG-signed and verified when a
// key is configured, like an update) and returns the records' data in
// presentation format: "10.0.0.7", "2001:db8::7", "primary.ark.test." (names
// always end in a dot). An absent name or type (NXDOMAIN, or NOERROR with no
// such records) is an empty vector. Other answers map to codes as above.
Result<std::vector<std::string>> QueryDnsRecord(const DnsUpdateConfig& config);

}  // namespace ark::dr
