// CollectionSnapshot's search, query, count and delete-by-filter scan.
#include <algorithm>
#include <atomic>
#include <bit>
#include <queue>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "engine/collection_snapshot.h"
#include "engine/segment_columns.h"
#include "expr/filter.h"
#include "index/exact_search.h"

namespace ark {

static_assert(std::endian::native == std::endian::little,
              "expr::Bitmap words are passed to the index as LSB-first bytes");

const IndexDefinition* CollectionIndexes::FindByField(std::string_view field) const {
  for (const auto& d : definitions) {
    if (d.field_name == field) return &d;
  }
  return nullptr;
}

const IndexDefinition* CollectionIndexes::FindByName(std::string_view name) const {
  for (const auto& d : definitions) {
    if (d.index_name == name) return &d;
  }
  return nullptr;
}

const VectorIndex* CollectionIndexes::Built(const std::string& segment,
                                            const std::string& field) const {
  auto s = built.find(segment);
  if (s == built.end()) return nullptr;
  auto f = s->second.find(field);
  return f == s->second.end() ? nullptr : f->second.get();
}

namespace {

// The first search after a lazy open (docs/engine.md, "Opening a database")
// loads the graphs it needs. With several to load they load side by side,
// one thread per core, instead of one after another. Load errors are left
// for each segment's own search to report, naming its file.
void LoadIndexesInParallel(const std::vector<const VectorIndex*>& cold) {
  if (cold.size() < 2) return;
  const size_t threads = std::min<size_t>(cold.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  auto work = [&next, &cold] {
    for (size_t i = next.fetch_add(1); i < cold.size(); i = next.fetch_add(1)) (void)cold[i]->MakeResident();
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no thread to spare: this one loads the rest
    }
  }
  work();
  for (auto& h : helpers) h.join();
}

// Bits of the rows of `block` visible at `lsn`; returns how many.
size_t VisibleBits(const RowBlock& block, uint64_t lsn, expr::Bitmap* out) {
  *out = expr::Bitmap(block.num_rows(), false);
  size_t n = 0;
  for (size_t r = 0; r < block.num_rows(); ++r) {
    if (block.VisibleAt(r, lsn)) {
      out->Set(r, true);
      ++n;
    }
  }
  return n;
}

}  // namespace

template <typename Fn>
Status CollectionSnapshot::ForEachMatchingBlock(const expr::Filter& filter, Fn&& fn) const {
  auto visit = [&](const RowBlock& block) -> Status {
    if (block.num_rows() == 0) return Status::OK();
    // Restricted to some partitions: only their rows qualify.
    expr::Bitmap scope;
    const bool scoped = !scope_.empty();
    if (scoped) {
      const size_t n = ScopeBits(block, &scope);
      if (n == 0) return Status::OK();
      if (n == block.num_rows()) scope = expr::Bitmap();
    }
    const bool whole = scope.size() == 0;  // no partition bit is clear
    // Fast path: nothing in the block was ever deleted and every row is
    // older than the snapshot, so every row is visible (no per-row check).
    const bool all_visible = block.num_deleted() == 0 && block.MaxLsn() <= lsn_;
    expr::Bitmap allowed;
    if (all_visible) {
      if (filter.MatchesAll()) {
        return whole ? fn(block, static_cast<const expr::Bitmap*>(nullptr)) : fn(block, &scope);
      }
      ARK_RETURN_IF_ERROR(filter.Evaluate(BlockColumns(*schema_, block), &allowed));
      if (!whole) allowed.And(scope);
      if (allowed.None()) return Status::OK();
      return fn(block, &allowed);
    }
    if (VisibleBits(block, lsn_, &allowed) == 0) return Status::OK();
    if (!whole) {
      allowed.And(scope);
      if (allowed.None()) return Status::OK();
    }
    if (!filter.MatchesAll()) {
      expr::Bitmap hits;
      ARK_RETURN_IF_ERROR(filter.Evaluate(BlockColumns(*schema_, block), &hits));
      allowed.And(hits);
      if (allowed.None()) return Status::OK();
    }
    return fn(block, &allowed);
  };
  for (const auto& block : *sealed_) ARK_RETURN_IF_ERROR(visit(*block));
  for (const auto& g : growing_) {
    for (size_t i = 0; i < g.count; ++i) ARK_RETURN_IF_ERROR(visit(*g.segment->at(i)));
  }
  return Status::OK();
}

Result<SearchResponse> CollectionSnapshot::Search(const SearchRequest& req) const {
  const std::string where = fmt::format("collection '{}'", name_);
  // The vector field.
  int field = -1;
  if (req.anns_field.empty()) {
    for (size_t i = 0; i < schema_->fields.size(); ++i) {
      if (schema_->fields[i].type != DataType::kFloatVector) continue;
      if (field >= 0) {
        return Status::InvalidArgument(fmt::format(
            "{} has several vector fields; annsField must name the one to search", where));
      }
      field = static_cast<int>(i);
    }
  } else {
    field = schema_->FieldIndex(req.anns_field);
    if (field < 0) {
      return Status::InvalidArgument(
          fmt::format("{}: annsField '{}' does not exist", where, req.anns_field));
    }
    if (schema_->fields[field].type != DataType::kFloatVector) {
      return Status::InvalidArgument(fmt::format("{}: annsField '{}' is {}, not a vector field",
                                                 where, req.anns_field,
                                                 DataTypeName(schema_->fields[field].type)));
    }
  }
  if (field < 0) return Status::InvalidArgument(fmt::format("{} has no vector field", where));
  const FieldSchema& fs = schema_->fields[field];
  const uint32_t dim = fs.dim;
  if (req.num_queries == 0) {
    return Status::InvalidArgument(fmt::format("{}: no query vectors", where));
  }
  if (req.vectors.size() != req.num_queries * dim) {
    return Status::InvalidArgument(fmt::format(
        "{}: field '{}' has dimension {}, but the query vectors hold {} floats for {} queries",
        where, fs.name, dim, req.vectors.size(), req.num_queries));
  }
  if (req.limit == 0) return Status::InvalidArgument(fmt::format("{}: limit must be at least 1", where));
  const size_t window = req.limit + req.offset;
  if (req.limit > kMaxSearchWindow || req.offset > kMaxSearchWindow || window > kMaxSearchWindow) {
    return Status::InvalidArgument(fmt::format("{}: limit + offset is {}, more than the maximum {}",
                                               where, window, kMaxSearchWindow));
  }
  const IndexDefinition* def = indexes_->FindByField(fs.name);
  Metric metric = Metric::kCosine;
  if (def != nullptr) {
    metric = def->spec.metric;
    if (req.metric && *req.metric != metric) {
      return Status::InvalidArgument(fmt::format(
          "{}: metric type mismatch: the index on field '{}' uses {}, the request asks for {}",
          where, fs.name, MetricName(metric), MetricName(*req.metric)));
    }
  } else if (req.metric) {
    metric = *req.metric;
  }
  for (float v : req.vectors) {
    if (!std::isfinite(v)) {
      return Status::InvalidArgument(fmt::format("{}: query vectors contain NaN or infinity", where));
    }
  }
  ARK_ASSIGN_OR_RETURN(expr::Filter filter,
                       CompileFilter(*schema_, name_, req.filter,
                                     req.filter_params.is_null() ? nullptr : &req.filter_params));

  // Per query, a bounded heap of the best `window` hits so far; the worst
  // kept hit on top. Ties break by (segment order, row) for determinism.
  struct Hit {
    float cost;  // smaller is closer (negated score for IP/COSINE)
    uint64_t seq;
    const RowBlock* block;
    uint32_t row;
    bool operator<(const Hit& o) const { return cost != o.cost ? cost < o.cost : seq < o.seq; }
  };
  if (req.filter.empty() && scope_.empty()) {  // every sealed segment will be searched
    std::vector<const VectorIndex*> cold;
    for (const auto& block : *sealed_) {
      const VectorIndex* index = indexes_->Built(block->file(), fs.name);
      if (index != nullptr && index->spec().metric == metric && !index->resident()) cold.push_back(index);
    }
    LoadIndexesInParallel(cold);
  }
  const bool larger_closer = LargerIsCloser(metric);
  std::vector<std::priority_queue<Hit>> heaps(req.num_queries);
  uint64_t block_seq = 0;

  Status st = ForEachMatchingBlock(filter, [&](const RowBlock& block, const expr::Bitmap* allowed) -> Status {
    const uint64_t seq_base = (block_seq++) << 32;
    const size_t rows = block.num_rows();
    const bool all = allowed == nullptr || allowed->All();
    FilterBitmap bm{all ? nullptr : reinterpret_cast<const uint8_t*>(allowed->words()), rows};
    const size_t k = std::min(window, rows);
    Result<SearchResult> res = Status::OK();
    const VectorIndex* index = block.sealed() ? indexes_->Built(block.file(), fs.name) : nullptr;
    bool indexed = index != nullptr && index->spec().metric == metric && index->num_rows() == rows;
    if (indexed) {
      SearchParams params = req.params;
      if (index->spec().refine) {  // HNSW_SQ re-ranks its candidates against the segment's float vectors
        Status raw = block.EnsureColumn(static_cast<size_t>(field));
        const Column& column = block.rows().columns[field];
        if (raw.ok() && column.floats.size() == rows * dim) params.raw_vectors = column.floats.data();
      }
      res = index->Search(req.vectors.data(), req.num_queries, k, params, all ? nullptr : &bm);
      // A graph that failed to load (a damaged file) is being rebuilt; until
      // then its segment is searched exactly (docs/index.md).
      if (!res.ok() && res.status().IsCorruption() && !index->resident()) indexed = false;
    }
    if (indexed) {
      // answered (or failed) by the index
    } else if (Status decoded = block.EnsureColumn(static_cast<size_t>(field)); !decoded.ok()) {
      res = decoded;  // a damaged vector column: never scanned
    } else {
      const Column& vectors = block.rows().columns[field];
      res = ExactSearch(metric, dim, vectors.floats.data(), rows, req.vectors.data(),
                        req.num_queries, k, all ? nullptr : &bm);
    }
    if (!res.ok()) {
      return Status(res.status().code(),
                    fmt::format("{}: searching segment {}: {}", where,
                                block.sealed() ? block.file().substr(0, 12) : std::string("(growing)"),
                                res.status().message()));
    }
    const SearchResult& r = *res;
    for (size_t q = 0; q < req.num_queries; ++q) {
      auto& heap = heaps[q];
      for (size_t i = 0; i < r.k; ++i) {
        int64_t id = r.id(q, i);
        if (id < 0) break;
        if (static_cast<uint64_t>(id) >= rows) continue;
        if (!all && !allowed->Get(static_cast<size_t>(id))) continue;
        float score = r.distance(q, i);
        Hit h{larger_closer ? -score : score, seq_base | static_cast<uint64_t>(id), &block,
              static_cast<uint32_t>(id)};
        if (heap.size() < window) {
          heap.push(h);
        } else if (h < heap.top()) {
          heap.pop();
          heap.push(h);
        }
      }
    }
    return Status::OK();
  });
  ARK_RETURN_IF_ERROR(st);

  const bool every_column = req.output_columns.empty();
  if (!every_column && req.output_columns.size() != schema_->NumColumns()) {
    return Status::InvalidArgument(fmt::format("{}: output_columns has {} flags for {} columns", where,
                                               req.output_columns.size(), schema_->NumColumns()));
  }
  SearchResponse out;
  out.metric = metric;
  out.queries.resize(req.num_queries);
  for (size_t q = 0; q < req.num_queries; ++q) {
    std::vector<Hit> hits;
    hits.reserve(heaps[q].size());
    while (!heaps[q].empty()) {
      hits.push_back(heaps[q].top());
      heaps[q].pop();
    }
    std::reverse(hits.begin(), hits.end());
    SearchHits& sh = out.queries[q];
    sh.rows = RowBatch::Empty(*schema_);
    // Sized once: appending row by row would regrow the vector column
    // (limit x dim floats) several times over, copying it each time.
    const size_t returned = hits.size() > req.offset ? hits.size() - req.offset : 0;
    sh.scores.reserve(returned);
    for (size_t c = 0; c < sh.rows.columns.size(); ++c) {
      if (every_column || req.output_columns[c]) sh.rows.columns[c].Reserve(returned);
    }
    for (size_t i = req.offset; i < hits.size(); ++i) {
      sh.scores.push_back(larger_closer ? -hits[i].cost : hits[i].cost);
      const RowBlock& block = *hits[i].block;
      if (every_column) {
        // The hit's segment decodes its columns on first use (a damaged one
        // fails the search naming its file rather than returning its rows).
        ARK_RETURN_IF_ERROR(block.EnsureColumns());
        sh.rows.AppendRow(block.rows(), hits[i].row);
        continue;
      }
      for (size_t c = 0; c < sh.rows.columns.size(); ++c) {
        if (!req.output_columns[c]) continue;
        ARK_RETURN_IF_ERROR(block.EnsureColumn(c));
        sh.rows.columns[c].AppendFrom(block.rows().columns[c], hits[i].row);
      }
      ++sh.rows.num_rows;
    }
  }
  return out;
}

Result<RowBatch> CollectionSnapshot::Query(const QueryRequest& req) const {
  if (req.limit && (*req.limit > kMaxSearchWindow || req.offset > kMaxSearchWindow ||
                    *req.limit + req.offset > kMaxSearchWindow)) {
    return Status::InvalidArgument(fmt::format(
        "collection '{}': limit + offset is {}, more than the maximum {}", name_,
        *req.limit + req.offset, kMaxSearchWindow));
  }
  ARK_ASSIGN_OR_RETURN(expr::Filter filter,
                       CompileFilter(*schema_, name_, req.filter,
                                     req.filter_params.is_null() ? nullptr : &req.filter_params));
  RowBatch out = RowBatch::Empty(*schema_);
  size_t skip = req.offset;
  const size_t limit = req.limit.value_or(SIZE_MAX);
  bool done = limit == 0;
  if (done) return out;
  ARK_RETURN_IF_ERROR(ForEachMatchingBlock(filter, [&](const RowBlock& block, const expr::Bitmap* allowed) {
    if (done) return Status::OK();
    bool decoded = false;
    for (size_t r = 0; r < block.num_rows(); ++r) {
      if (allowed != nullptr && !allowed->Get(r)) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      if (!decoded) {  // the block's columns, decoded on first use
        ARK_RETURN_IF_ERROR(block.EnsureColumns());
        decoded = true;
      }
      out.AppendRow(block.rows(), r);
      if (out.num_rows >= limit) {
        done = true;
        break;
      }
    }
    return Status::OK();
  }));
  return out;
}

Result<uint64_t> CollectionSnapshot::Count(const std::string& filter_text,
                                           const nlohmann::json* params) const {
  ARK_ASSIGN_OR_RETURN(expr::Filter filter, CompileFilter(*schema_, name_, filter_text, params));
  uint64_t n = 0;
  ARK_RETURN_IF_ERROR(ForEachMatchingBlock(filter, [&](const RowBlock& block, const expr::Bitmap* allowed) {
    n += allowed == nullptr ? block.num_rows() : allowed->Count();
    return Status::OK();
  }));
  return n;
}

Result<std::vector<PrimaryKey>> CollectionSnapshot::MatchingKeys(const std::string& filter_text,
                                                                 const nlohmann::json* params) const {
  ARK_ASSIGN_OR_RETURN(expr::Filter filter, CompileFilter(*schema_, name_, filter_text, params));
  const size_t pk = schema_->PrimaryKeyIndex();
  std::vector<PrimaryKey> keys;
  ARK_RETURN_IF_ERROR(ForEachMatchingBlock(filter, [&](const RowBlock& block, const expr::Bitmap* allowed) {
    const Column& col = block.rows().columns[pk];
    for (size_t r = 0; r < block.num_rows(); ++r) {
      if (allowed == nullptr || allowed->Get(r)) keys.push_back(PrimaryKeyAt(col, r));
    }
    return Status::OK();
  }));
  return keys;
}

}  // namespace ark
