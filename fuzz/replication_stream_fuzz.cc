// Fuzz target: what a standby reads from the replication stream
// (docs/formats/replication-stream.md) — the incremental message parser and
// every payload decoder the standby runs (dr/replication/stream_format.h).
// The bytes come from the network: any damage must be Corruption, never a
// crash, an exception or a record handed over out of order.
//
// Input: byte 0 = piece size (1 + byte % 64) the stream is fed in; the rest
// is the stream.
// Invariants:
//   - fed in pieces or all at once, the parser returns the same messages and
//     fails (or not) the same way;
//   - the messages it returns re-encode to exactly the bytes it consumed;
//   - a RECORDS payload hands over consecutive lsns from the one expected,
//     and the expected lsn moves by exactly the records handed over.
#include <cstdint>
#include <string>
#include <vector>

#include "dr/replication/stream_format.h"
#include "engine/dr_seam.h"
#include "fuzz/fuzz_util.h"

using namespace ark;
using namespace ark::dr;

namespace {

struct Parsed {
  std::vector<StreamMessage> messages;
  bool failed = false;
};

Parsed ParseAll(std::string_view stream, size_t piece) {
  Parsed out;
  StreamParser parser;
  for (size_t at = 0; at <= stream.size() && !out.failed; at += piece) {
    parser.Feed(stream.substr(at, piece));
    StreamMessage m;
    while (true) {
      auto got = parser.Next(&m);
      if (!got.ok()) {
        ARK_FUZZ_CHECK(got.status().code() == StatusCode::kCorruption, got.status().ToString());
        // The parser stays failed.
        ARK_FUZZ_CHECK(!parser.Next(&m).ok(), "a failed parser returned a message");
        out.failed = true;
        break;
      }
      if (!*got) break;
      out.messages.push_back(m);
    }
  }
  return out;
}

void DecodePayload(const StreamMessage& m) {
  switch (m.type) {
    case StreamMessageType::kHello:
    case StreamMessageType::kStatus: {
      auto p = DecodeStreamPositions(m.type, m.payload);
      if (!p.ok()) ARK_FUZZ_CHECK(p.status().code() == StatusCode::kCorruption, p.status().ToString());
      break;
    }
    case StreamMessageType::kRecords: {
      // Expect whatever the first frame claims (when it decodes), so the
      // order check passes often enough for the later frames to be reached.
      uint64_t first = 1;
      if (m.payload.size() >= 4) {
        uint32_t len = 0;
        for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<unsigned char>(m.payload[i])) << (8 * i);
        if (m.payload.size() >= 32 + static_cast<size_t>(len)) {
          auto r = DecodeFramedRecord(std::string_view(m.payload).substr(0, 32 + len), "fuzz");
          if (r.ok()) first = r->position.lsn;
        }
      }
      uint64_t next = first;
      uint64_t handed = 0;
      Status s = DecodeRecordsPayload(m.payload, &next, [&](const WalRecord& record) -> Result<bool> {
        ARK_FUZZ_CHECK(record.position.lsn == first + handed, "a record out of order was handed over");
        ++handed;
        return true;
      });
      if (!s.ok()) ARK_FUZZ_CHECK(s.code() == StatusCode::kCorruption, s.ToString());
      ARK_FUZZ_CHECK(next == first + handed, "the expected lsn moved by other than the records handed over");
      break;
    }
    case StreamMessageType::kEnd:
      (void)DecodeStreamEnd(m.payload);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  const size_t piece = 1 + in.Byte() % 64;
  std::string_view stream = in.Rest();
  Parsed pieces = ParseAll(stream, piece);
  Parsed whole = ParseAll(stream, stream.size() + 1);
  ARK_FUZZ_CHECK(pieces.failed == whole.failed, "piecewise and whole parsing disagree on failure");
  ARK_FUZZ_CHECK(pieces.messages.size() == whole.messages.size(), "piecewise and whole parsing disagree");
  std::string reencoded;
  for (size_t i = 0; i < whole.messages.size(); ++i) {
    ARK_FUZZ_CHECK(pieces.messages[i].type == whole.messages[i].type &&
                       pieces.messages[i].payload == whole.messages[i].payload,
                   "piecewise and whole parsing returned different messages");
    AppendStreamMessage(whole.messages[i].type, whole.messages[i].payload, &reencoded);
    DecodePayload(whole.messages[i]);
  }
  ARK_FUZZ_CHECK(stream.substr(0, reencoded.size()) == reencoded, "messages do not re-encode to the bytes consumed");
  return 0;
}
