// Database::Collection: the in-memory state of one collection (internal to
// the Database implementation; not part of the public API).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/database.h"
#include "engine/manifest.h"
#include "engine/row_block.h"
#include "engine/tombstone_file.h"
#include "index/vector_index.h"

namespace ark {

// A request's database name: "" means "default".
inline std::string DbName(const std::string& database) {
  return database.empty() ? std::string(kDefaultDatabase) : database;
}

// NotFound "collection 'N' not found in database 'D'" (D: "default" if empty).
inline Status CollectionNotFound(const std::string& database, const std::string& name) {
  return Status::NotFound("collection '" + name + "' not found in database '" + DbName(database) + "'");
}

struct Database::Collection {
  uint64_t id = 0;
  std::string database;
  std::string name;
  std::shared_ptr<const CollectionSchema> schema;
  Position created;
  // Every data record of this collection at or before `flushed` is in files.
  Position flushed;
  std::atomic<int64_t> next_auto_id{1};

  // GUARDED_BY(mu_):
  std::vector<std::shared_ptr<RowBlock>> sealed;
  std::vector<ManifestSegment> segment_entries;  // parallel to `sealed`
  std::vector<std::string> tombstone_files;
  std::shared_ptr<GrowingSegment> growing = std::make_shared<GrowingSegment>();
  std::shared_ptr<GrowingSegment> frozen;  // being sealed, or null
  std::vector<Tombstone> pending_tombstones;  // deletes of rows outside the growing segment
  std::unordered_map<PrimaryKey, RowRef> live;  // key -> its one live row

  // Index definitions and built indexes: replaced as a whole with mu_ and
  // view_mu_ both held; read under either.
  std::shared_ptr<const CollectionIndexes> indexes = std::make_shared<const CollectionIndexes>();
  // GUARDED_BY(mu_): (segment file, field) -> spec being built in the pool.
  std::map<std::pair<std::string, std::string>, IndexSpec> building;
  // GUARDED_BY(mu_): (segment file, field) -> the last failed build (its spec
  // and error); not retried until the definition changes.
  std::map<std::pair<std::string, std::string>, std::pair<IndexSpec, Status>> build_errors;

  bool compacting = false;  // GUARDED_BY(mu_)

  std::map<std::string, std::string> properties;  // GUARDED_BY(mu_)
  CollectionLoadState load;                       // GUARDED_BY(mu_)

  // Partitions besides "_default": replaced as a whole with mu_ and view_mu_
  // both held; read under either. next_partition_id GUARDED_BY(mu_).
  std::shared_ptr<const PartitionMap> partitions = std::make_shared<const PartitionMap>();
  int64_t next_partition_id = 1;

  // GUARDED_BY(view_mu_): what snapshots see.
  std::shared_ptr<const std::vector<std::shared_ptr<RowBlock>>> published_sealed =
      std::make_shared<const std::vector<std::shared_ptr<RowBlock>>>();
  std::shared_ptr<GrowingSegment> published_frozen;
  std::shared_ptr<GrowingSegment> published_growing = growing;
  std::string published_database;
  std::string published_name;
};

// The files a record names, read and checked before the write lock is taken
// (PrepareRecord), or handed over by the primary that just built them.
struct Database::PreparedFiles {
  std::map<std::string, std::shared_ptr<RowBlock>> segments;             // segment file -> rows
  std::map<std::string, std::shared_ptr<const VectorIndex>> indexes;     // index file -> index
};

}  // namespace ark
