// Segment files: the sealed, immutable, columnar form of a collection's rows.
//
// Layout (docs/formats/segment.md): a 64-byte header (magic, version,
// collection id, row count, lsn range, header checksum), one data block per
// column starting on a 64-byte boundary (so a FloatVector column can be
// mmapped and used in place), a column directory (name, type, dim, offset,
// length, XXH3 checksum of the block) and a 32-byte footer locating the
// directory. Besides the schema's columns (and "$meta") every segment carries
// the system column "$lsn": the lsn of the WAL record that inserted each row.
//
// Encode/Decode are pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/row_batch.h"
#include "engine/schema.h"

namespace ark {

struct SegmentColumnInfo {
  std::string name;
  DataType type = DataType::kInt64;
  uint32_t dim = 0;
  uint64_t offset = 0;  // from the start of the file; a multiple of 64
  uint64_t length = 0;
  uint64_t checksum = 0;  // XXH3-64 of the block
};

struct SegmentContents {
  uint32_t version = 0;
  uint64_t collection_id = 0;
  uint64_t num_rows = 0;
  uint64_t min_lsn = 0;
  uint64_t max_lsn = 0;
  std::vector<SegmentColumnInfo> columns;  // file order, "$lsn" last
  RowBatch rows;                           // columns in schema order (+ "$meta")
  std::vector<uint64_t> lsns;              // per row
};

// Encodes rows (matching `schema`) with their insert lsns into a segment file.
std::string EncodeSegment(const CollectionSchema& schema, uint64_t collection_id,
                          const RowBatch& rows, const std::vector<uint64_t>& lsns);

// Decodes and verifies every checksum. `name` is used in error messages
// (Corruption naming the file, the offset and the column).
Result<SegmentContents> DecodeSegment(std::string_view data, const std::string& name);

// Verifies one column block's checksum and decodes its `num_rows` rows
// (Corruption naming the file, the offset and the column otherwise).
Result<Column> DecodeSegmentColumn(std::string_view data, const SegmentColumnInfo& info, uint64_t num_rows,
                                   const std::string& name);

// Decodes only the header, directory and footer (no column data), verifying
// their checksums; for inspection.
Result<SegmentContents> DecodeSegmentLayout(std::string_view data, const std::string& name);

// Checks that the decoded columns have the schema's names, types and dims.
Status CheckSegmentMatchesSchema(const SegmentContents& seg, const CollectionSchema& schema,
                                 const std::string& name);

}  // namespace ark
