// LazySegment: a sealed segment file opened without decoding its columns.
//
// Open() maps the file without populating it (Env::MapFileLazily), verifies
// the header, the column directory and the footer (their checksums) and that
// the columns match the schema, then decodes only the columns the engine
// needs to open a collection: the primary key, "$partition" (if any) and
// "$lsn" (the key map, the delete marks and partition scoping). Every other
// column — the vectors, the scalars, "$meta": the bulk of the file — is
// checksummed and decoded on its first use (EnsureColumn), once:
//
//   - concurrent first uses wait for one decode; none decodes twice;
//   - a column whose block fails its checksum (or does not hold the rows)
//     fails that use with Corruption naming the file, the offset and the
//     column, and every later use the same way (the bytes are immutable);
//     other columns go on being served;
//   - once every column is decoded the mapping is dropped: the segment then
//     holds exactly the memory an eagerly decoded one does.
//
// So no row value is ever returned from a block whose checksum was not
// verified (docs/formats/segment.md, "Reading and verification").
//
// rows() is the decoded batch: a column that is not yet decoded is empty
// (type and dim set, no values). Callers EnsureColumn()/EnsureAll() before
// reading a column that may be lazy.
//
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/row_batch.h"
#include "engine/schema.h"
#include "engine/segment_file.h"
#include "storage/env.h"

namespace ark {

class LazySegment {
 public:
  // Corruption naming `path` for a bad header, directory, footer, schema
  // mismatch or a damaged key/partition/lsn column; the Env's error if the
  // file cannot be mapped.
  static Result<std::shared_ptr<LazySegment>> Open(Env* env, const std::string& path,
                                                   const CollectionSchema& schema);

  size_t num_rows() const { return num_rows_; }
  const std::string& path() const { return path_; }
  // The decoded columns (schema order, "$meta", "$partition"); lazy ones
  // are empty until EnsureColumn.
  std::shared_ptr<const RowBatch> rows() const { return rows_; }
  std::vector<uint64_t> TakeLsns() { return std::move(lsns_); }

  Status EnsureColumn(size_t column) const;
  Status EnsureAll() const;
  bool decoded(size_t column) const { return state_[column].load(std::memory_order_acquire) == 1; }
  // True while the file is still mapped (some column not yet decoded).
  bool mapped() const;

  // Column blocks decoded by every LazySegment of this process so far
  // (tests check that opening a database decodes only the key columns).
  static uint64_t ColumnDecodes();

 private:
  LazySegment() = default;
  Status DecodeLocked(size_t column) const;

  std::string path_;
  size_t num_rows_ = 0;
  std::vector<SegmentColumnInfo> infos_;  // per column of rows_ (no "$lsn")
  std::shared_ptr<RowBatch> rows_;
  std::vector<uint64_t> lsns_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;  // per column: 0 = lazy, 1 = decoded
  mutable std::mutex mu_;
  mutable std::unique_ptr<MappedFile> file_;  // GUARDED_BY(mu_); dropped once all decoded
  mutable std::vector<Status> errors_;        // GUARDED_BY(mu_): failed decodes
  mutable size_t pending_ = 0;                // GUARDED_BY(mu_): columns not yet decoded
};

}  // namespace ark
