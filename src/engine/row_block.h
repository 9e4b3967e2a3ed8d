// RowBlock and GrowingSegment: the in-memory units readers and writers share.
//
// A RowBlock is an immutable set of rows plus one mutable thing: each row's
// delete lsn (0 = live), an atomic written only under the Database write lock
// and read by anyone. A row is visible in a snapshot taken at lsn S when its
// insert lsn <= S and its delete lsn is 0 or > S, so readers never lock.
//
// The growing segment is a list of RowBlocks, one per applied write. It is
// append-only with a fixed two-level directory (pages of slots allocated on
// demand, never moved), so a reader can walk the first `count` blocks while a
// writer appends more: a slot is filled before `count` is published (release)
// and never changed afterwards.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/lazy_segment.h"
#include "engine/row_batch.h"

namespace ark {

class RowBlock {
 public:
  // A block written by one WAL record: every row has insert lsn `lsn`.
  RowBlock(std::shared_ptr<const RowBatch> rows, uint64_t lsn)
      : rows_(std::move(rows)), block_lsn_(lsn), deleted_(new std::atomic<uint64_t>[rows_->num_rows]) {
    for (size_t i = 0; i < rows_->num_rows; ++i) deleted_[i].store(0, std::memory_order_relaxed);
  }
  // A sealed segment: per-row insert lsns, and an index key -> row for lookups.
  RowBlock(std::shared_ptr<const RowBatch> rows, std::vector<uint64_t> lsns, std::string file,
           size_t pk_column)
      : RowBlock(std::move(rows), 0) {
    lsns_ = std::move(lsns);
    for (uint64_t l : lsns_) max_lsn_ = std::max(max_lsn_, l);
    file_ = std::move(file);
    pk_index_.reserve(rows_->num_rows);
    for (size_t r = 0; r < rows_->num_rows; ++r) {
      pk_index_.emplace(PrimaryKeyAt(rows_->columns[pk_column], r), static_cast<uint32_t>(r));
    }
  }

  // A sealed segment opened lazily (engine/lazy_segment.h): columns other
  // than the key, "$partition" and "$lsn" are decoded on first use.
  RowBlock(std::shared_ptr<LazySegment> lazy, std::string file, size_t pk_column)
      : RowBlock(lazy->rows(), lazy->TakeLsns(), std::move(file), pk_column) {
    lazy_ = std::move(lazy);
  }

  // rows().columns[i] may be read once EnsureColumn(i) (or EnsureColumns())
  // succeeded; growing and eagerly read blocks always have every column. A
  // damaged lazy column fails here with Corruption naming its file.
  const RowBatch& rows() const { return *rows_; }
  Status EnsureColumn(size_t column) const { return lazy_ ? lazy_->EnsureColumn(column) : Status::OK(); }
  Status EnsureColumns() const { return lazy_ ? lazy_->EnsureAll() : Status::OK(); }
  const LazySegment* lazy() const { return lazy_.get(); }
  size_t num_rows() const { return rows_->num_rows; }
  uint64_t RowLsn(size_t row) const { return lsns_.empty() ? block_lsn_ : lsns_[row]; }
  uint64_t DeleteLsn(size_t row) const { return deleted_[row].load(std::memory_order_acquire); }
  void MarkDeleted(size_t row, uint64_t lsn) {
    if (deleted_[row].load(std::memory_order_relaxed) == 0) num_deleted_.fetch_add(1, std::memory_order_relaxed);
    deleted_[row].store(lsn, std::memory_order_release);
  }
  // Rows ever marked deleted (at any lsn). Zero means every row with an
  // insert lsn at or below a snapshot is visible in it: readers skip the
  // per-row check. Read with acquire after the rows it covers are published.
  size_t num_deleted() const { return num_deleted_.load(std::memory_order_acquire); }
  // The largest insert lsn in the block.
  uint64_t MaxLsn() const {
    if (lsns_.empty()) return block_lsn_;
    return max_lsn_;
  }
  // Every row's insert lsn becomes `lsn` (a segment imported from another
  // database: ManifestSegment::row_lsn). Only before the block is published.
  void OverrideRowLsns(uint64_t lsn) {
    lsns_.assign(rows_->num_rows, lsn);
    max_lsn_ = lsn;
  }
  bool VisibleAt(size_t row, uint64_t snapshot_lsn) const {
    if (RowLsn(row) > snapshot_lsn) return false;
    uint64_t d = DeleteLsn(row);
    return d == 0 || d > snapshot_lsn;
  }
  bool sealed() const { return !file_.empty(); }
  const std::string& file() const { return file_; }  // SHA-256 hex; empty when growing
  // Sealed blocks only: key -> row (includes deleted rows).
  const std::unordered_map<PrimaryKey, uint32_t>& pk_index() const { return pk_index_; }

  // JSON column `column` parsed, one pointer per row (nullptr for a value
  // that is not valid JSON), as the filter evaluator reads it. Parsed on
  // first use and kept for the block's life; thread-safe.
  const std::vector<const nlohmann::json*>& ParsedJson(size_t column) const;

 private:
  std::shared_ptr<const RowBatch> rows_;
  uint64_t block_lsn_;
  std::unique_ptr<std::atomic<uint64_t>[]> deleted_;
  std::vector<uint64_t> lsns_;
  uint64_t max_lsn_ = 0;
  std::atomic<size_t> num_deleted_{0};
  std::string file_;
  std::unordered_map<PrimaryKey, uint32_t> pk_index_;
  std::shared_ptr<LazySegment> lazy_;  // null unless opened lazily

  struct ParsedColumn {
    std::vector<nlohmann::json> docs;
    std::vector<const nlohmann::json*> ptrs;
  };
  mutable std::mutex json_mu_;
  mutable std::map<size_t, std::unique_ptr<ParsedColumn>> json_cache_;  // GUARDED_BY(json_mu_)
};

inline const std::vector<const nlohmann::json*>& RowBlock::ParsedJson(size_t column) const {
  std::lock_guard<std::mutex> lock(json_mu_);
  auto& slot = json_cache_[column];
  if (!slot) {
    auto parsed = std::make_unique<ParsedColumn>();
    const auto& strings = rows_->columns[column].strings;
    parsed->docs.reserve(strings.size());
    parsed->ptrs.reserve(strings.size());
    for (const auto& s : strings) {
      parsed->docs.push_back(nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false));
      parsed->ptrs.push_back(parsed->docs.back().is_discarded() ? nullptr : &parsed->docs.back());
    }
    slot = std::move(parsed);
  }
  return slot->ptrs;
}

class GrowingSegment {
 public:
  static constexpr size_t kPageSlots = 4096;
  static constexpr size_t kMaxPages = 4096;  // 16M writes per growing segment

  GrowingSegment() = default;
  GrowingSegment(const GrowingSegment&) = delete;
  GrowingSegment& operator=(const GrowingSegment&) = delete;

  // Writer only (under the Database write lock). False when full.
  bool Append(std::shared_ptr<RowBlock> block) {
    size_t n = count_.load(std::memory_order_relaxed);
    size_t page = n / kPageSlots;
    if (page >= kMaxPages) return false;
    if (!pages_[page]) pages_[page] = std::make_unique<Page>();
    (*pages_[page])[n % kPageSlots] = std::move(block);
    count_.store(n + 1, std::memory_order_release);
    return true;
  }
  // Any thread: blocks [0, count()) are safe to read.
  size_t count() const { return count_.load(std::memory_order_acquire); }
  const std::shared_ptr<RowBlock>& at(size_t i) const {
    return (*pages_[i / kPageSlots])[i % kPageSlots];
  }

  // Guarded by the Database write lock.
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t first_write_micros = 0;

 private:
  using Page = std::array<std::shared_ptr<RowBlock>, kPageSlots>;
  std::array<std::unique_ptr<Page>, kMaxPages> pages_;
  std::atomic<size_t> count_{0};
};

}  // namespace ark
