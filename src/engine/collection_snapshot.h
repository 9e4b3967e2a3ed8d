// CollectionSnapshot: an immutable read view of one collection.
//
// Holds shared references to the sealed segments, the segment being sealed
// (if any) and the growing segment's first `count` blocks, plus the lsn it was
// taken at. Rows written or deleted later are invisible to it. Taking one
// costs a few pointer copies; using one never blocks writers.
// Thread-safe: a snapshot is read-only and may be shared by threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/row_block.h"
#include "engine/schema.h"

namespace ark {

class CollectionSnapshot {
 public:
  struct GrowingView {
    std::shared_ptr<GrowingSegment> segment;
    size_t count = 0;
  };

  CollectionSnapshot(uint64_t collection_id, std::string database, std::string name,
                     std::shared_ptr<const CollectionSchema> schema,
                     std::shared_ptr<const std::vector<std::shared_ptr<RowBlock>>> sealed,
                     std::vector<GrowingView> growing, uint64_t lsn)
      : collection_id_(collection_id),
        database_(std::move(database)),
        name_(std::move(name)),
        schema_(std::move(schema)),
        sealed_(std::move(sealed)),
        growing_(std::move(growing)),
        lsn_(lsn) {}

  uint64_t collection_id() const { return collection_id_; }
  const std::string& database() const { return database_; }
  const std::string& name() const { return name_; }
  const CollectionSchema& schema() const { return *schema_; }
  uint64_t lsn() const { return lsn_; }
  // Sealed segments (content-addressed files), oldest first.
  const std::vector<std::shared_ptr<RowBlock>>& sealed() const { return *sealed_; }

  // Calls fn(block, row) for every visible row: sealed segments first, then
  // growing blocks in write order.
  void ForEachVisibleRow(const std::function<void(const RowBlock&, size_t)>& fn) const;
  uint64_t CountRows() const;
  // The visible rows with these keys, in request order (absent keys skipped).
  RowBatch Get(const std::vector<PrimaryKey>& keys) const;

 private:
  uint64_t collection_id_;
  std::string database_;
  std::string name_;
  std::shared_ptr<const CollectionSchema> schema_;
  std::shared_ptr<const std::vector<std::shared_ptr<RowBlock>>> sealed_;
  std::vector<GrowingView> growing_;  // the frozen segment (being sealed), then the growing one
  uint64_t lsn_;
};

}  // namespace ark
