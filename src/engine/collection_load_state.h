// CollectionLoadState: the Milvus load state of one collection, durable (WAL
// op kOpSetLoadState, the manifest's per-collection "loadState").
//
// Ark serves every collection from memory or mapped files whatever this
// says: it is only the state Milvus clients see and act on (a released
// collection refuses reads with code 101, a partly loaded one reads only its
// loaded partitions). Kept by the engine so that a restart, a restore and a
// standby answer like the primary did. Plain value type.
#pragma once

#include <set>
#include <string>

namespace ark {

struct CollectionLoadState {
  // Nothing is loaded (collections/release, or every partition released).
  bool released = false;
  // Not released: the partitions loaded, "_default" included when it is;
  // empty = every partition (fully loaded). Never lists every partition:
  // Database::SetLoadState turns that into empty.
  std::set<std::string> partitions;

  bool FullyLoaded() const { return !released && partitions.empty(); }
  bool PartitionLoaded(const std::string& partition) const {
    return !released && (partitions.empty() || partitions.count(partition) > 0);
  }
  bool operator==(const CollectionLoadState&) const = default;
};

}  // namespace ark
