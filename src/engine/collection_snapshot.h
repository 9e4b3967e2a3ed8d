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
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/index_definition.h"
#include "engine/row_block.h"
#include "engine/schema.h"
#include "engine/search.h"
#include "index/vector_index.h"

namespace ark {

namespace expr {
class Bitmap;
class Filter;
}

// A collection's index definitions and the built indexes of its sealed
// segments. Immutable once published; the Database replaces it as a whole.
struct CollectionIndexes {
  std::vector<IndexDefinition> definitions;
  // segment file (SHA-256 hex) -> field name -> the loaded index
  std::map<std::string, std::map<std::string, std::shared_ptr<const VectorIndex>>> built;
  // index file name of each entry in `built`, same shape
  std::map<std::string, std::map<std::string, std::string>> files;

  const IndexDefinition* FindByField(std::string_view field) const;
  const IndexDefinition* FindByName(std::string_view name) const;
  const VectorIndex* Built(const std::string& segment, const std::string& field) const;
};

// A collection's partitions other than "_default" (id 0): name -> id.
using PartitionMap = std::map<std::string, int64_t, std::less<>>;

class CollectionSnapshot {
 public:
  struct GrowingView {
    std::shared_ptr<GrowingSegment> segment;
    size_t count = 0;
  };

  CollectionSnapshot(uint64_t collection_id, std::string database, std::string name,
                     std::shared_ptr<const CollectionSchema> schema,
                     std::shared_ptr<const std::vector<std::shared_ptr<RowBlock>>> sealed,
                     std::vector<GrowingView> growing, uint64_t lsn,
                     std::shared_ptr<const CollectionIndexes> indexes = nullptr,
                     std::shared_ptr<const PartitionMap> partitions = nullptr)
      : collection_id_(collection_id),
        database_(std::move(database)),
        name_(std::move(name)),
        schema_(std::move(schema)),
        sealed_(std::move(sealed)),
        growing_(std::move(growing)),
        lsn_(lsn),
        indexes_(indexes ? std::move(indexes) : std::make_shared<const CollectionIndexes>()),
        partitions_(partitions ? std::move(partitions) : std::make_shared<const PartitionMap>()) {}

  // Partitions: every name, "_default" first, then by name.
  std::vector<std::string> PartitionNames() const;
  // The id of a partition; NotFound "partition not found[partition=X]".
  Result<int64_t> PartitionId(std::string_view name) const;
  // The same snapshot restricted to the named partitions (every read of the
  // copy — search, query, count, get, matching keys, visible rows — sees only
  // their rows). An empty list means every partition (no restriction).
  // NotFound naming the first unknown partition.
  Result<std::shared_ptr<const CollectionSnapshot>> Restrict(
      const std::vector<std::string>& partitions) const;
  bool restricted() const { return !scope_.empty(); }

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
  // Corruption naming the file when a hit's segment column is damaged
  // (columns are decoded on first use: engine/lazy_segment.h).
  Result<RowBatch> Get(const std::vector<PrimaryKey>& keys) const;
  const CollectionIndexes& indexes() const { return *indexes_; }

  // Top-k search (search.h). InvalidArgument naming the collection for a
  // bad field, dimension, metric, window or filter.
  Result<SearchResponse> Search(const SearchRequest& request) const;
  // The rows matching a filter, in segment order, after offset, up to limit.
  Result<RowBatch> Query(const QueryRequest& request) const;
  // Number of visible rows matching `filter` (empty = all).
  Result<uint64_t> Count(const std::string& filter, const nlohmann::json* params) const;
  // The primary keys of the visible rows matching `filter` (delete by filter).
  Result<std::vector<PrimaryKey>> MatchingKeys(const std::string& filter,
                                               const nlohmann::json* params) const;

 private:
  uint64_t collection_id_;
  std::string database_;
  std::string name_;
  std::shared_ptr<const CollectionSchema> schema_;
  std::shared_ptr<const std::vector<std::shared_ptr<RowBlock>>> sealed_;
  std::vector<GrowingView> growing_;  // the frozen segment (being sealed), then the growing one
  uint64_t lsn_;
  std::shared_ptr<const CollectionIndexes> indexes_;
  std::shared_ptr<const PartitionMap> partitions_;
  std::vector<int64_t> scope_;  // sorted partition ids; empty = all partitions

  // Row `row` of `block` is in scope (always true when unrestricted).
  bool InScope(const RowBlock& block, size_t row) const;
  // Bits of the rows of `block` in scope; returns how many.
  size_t ScopeBits(const RowBlock& block, expr::Bitmap* out) const;

  // Calls fn(block, allowed) for every block with at least one visible row
  // matching `filter`; `allowed` has one bit per block row, or is nullptr
  // when every row of the block qualifies.
  template <typename Fn>
  Status ForEachMatchingBlock(const expr::Filter& filter, Fn&& fn) const;
};

}  // namespace ark
