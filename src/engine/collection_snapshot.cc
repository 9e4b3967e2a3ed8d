#include "engine/collection_snapshot.h"

#include <unordered_map>

namespace ark {

void CollectionSnapshot::ForEachVisibleRow(
    const std::function<void(const RowBlock&, size_t)>& fn) const {
  for (const auto& block : *sealed_) {
    for (size_t r = 0; r < block->num_rows(); ++r) {
      if (block->VisibleAt(r, lsn_)) fn(*block, r);
    }
  }
  for (const auto& g : growing_) {
    for (size_t i = 0; i < g.count; ++i) {
      const RowBlock& block = *g.segment->at(i);
      for (size_t r = 0; r < block.num_rows(); ++r) {
        if (block.VisibleAt(r, lsn_)) fn(block, r);
      }
    }
  }
}

uint64_t CollectionSnapshot::CountRows() const {
  uint64_t n = 0;
  ForEachVisibleRow([&](const RowBlock&, size_t) { ++n; });
  return n;
}

RowBatch CollectionSnapshot::Get(const std::vector<PrimaryKey>& keys) const {
  struct Hit {
    const RowBlock* block = nullptr;
    size_t row = 0;
  };
  std::unordered_map<PrimaryKey, Hit> wanted;
  for (const auto& k : keys) wanted.emplace(k, Hit{});
  const size_t pk = schema_->PrimaryKeyIndex();
  for (const auto& block : *sealed_) {
    for (auto& [key, hit] : wanted) {
      auto it = block->pk_index().find(key);
      if (it != block->pk_index().end() && block->VisibleAt(it->second, lsn_)) {
        hit = {block.get(), it->second};
      }
    }
  }
  for (const auto& g : growing_) {
    for (size_t i = 0; i < g.count; ++i) {
      const RowBlock& block = *g.segment->at(i);
      const Column& keys_col = block.rows().columns[pk];
      for (size_t r = 0; r < block.num_rows(); ++r) {
        if (!block.VisibleAt(r, lsn_)) continue;
        auto it = wanted.find(PrimaryKeyAt(keys_col, r));
        if (it != wanted.end()) it->second = {&block, r};
      }
    }
  }
  RowBatch out = RowBatch::Empty(*schema_);
  for (const auto& k : keys) {
    auto it = wanted.find(k);
    if (it == wanted.end() || it->second.block == nullptr) continue;
    out.AppendRow(it->second.block->rows(), it->second.row);
    it->second.block = nullptr;  // a key asked twice is returned once
  }
  return out;
}

}  // namespace ark
