// Helpers shared by the WAL tests.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "storage/env.h"
#include "support/test_util.h"
#include "wal/wal.h"
#include "wal/wal_reader.h"

namespace ark::wal_testing {

// Deterministic body for a given lsn (so replay can check content).
inline std::string BodyFor(uint64_t lsn, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((lsn * 131 + i * 7 + 1) & 0xff);
  return s;
}

inline std::string ReadAll(const std::string& path) {
  std::string s;
  Status st = Env::Default()->ReadFileToString(path, &s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

inline void WriteAll(const std::string& path, const std::string& data) {
  auto f = Env::Default()->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(data).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

// Offsets of every record in a segment file (read with a reader).
inline std::vector<uint64_t> RecordOffsets(const std::string& segment) {
  std::vector<uint64_t> out;
  auto r = WalSegmentReader::Open(Env::Default(), segment, true);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  WalRecord rec;
  while (true) {
    auto got = (*r)->Next(&rec);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !*got) break;
    out.push_back((*r)->record_offset());
  }
  return out;
}

// Appends `n` records (lsn-derived bodies of `size` bytes), each made durable
// on its own when `one_by_one`, else with one WaitDurable at the end.
inline Status AppendRecords(Wal* wal, int n, size_t size, bool one_by_one) {
  Position last;
  for (int i = 0; i < n; ++i) {
    uint64_t lsn = wal->LastPosition().lsn + 1;
    ARK_ASSIGN_OR_RETURN(last, wal->Append(WalOp::kInsert, 1, BodyFor(lsn, size)));
    if (one_by_one) ARK_RETURN_IF_ERROR(wal->WaitDurable(last));
  }
  return wal->WaitDurable(last);
}

inline std::vector<WalRecord> ReplayAll(const Wal& wal, Position after = {}) {
  std::vector<WalRecord> out;
  Status s = wal.Replay(after, [&](const WalRecord& r) {
    out.push_back(r);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

}  // namespace ark::wal_testing
