#include "index/hnsw_index.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "index/distance.h"  // includes hnswlib_private.h

namespace ark {
namespace {

using HnswGraph = hnswlib::HierarchicalNSW<float>;
using hnswlib::linklistsizeint;
using hnswlib::tableint;

// Seed of hnswlib's level generator: fixed, so single-threaded builds are
// reproducible.
constexpr size_t kRandomSeed = 100;

template <typename T>
void AppendPod(std::string* out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Bounds-checked reader over the payload; remembers the offset for messages.
class PodReader {
 public:
  explicit PodReader(std::string_view data) : data_(data) {}
  template <typename T>
  bool Read(T* v) {
    if (data_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Take(size_t n, const char** p) {
    if (data_.size() - pos_ < n) return false;
    *p = data_.data() + pos_;
    pos_ += n;
    return true;
  }
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

struct HnswIndex::Graph {
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

HnswIndex::HnswIndex(const IndexSpec& spec, uint64_t num_rows) : VectorIndex(spec, num_rows) {
  graph_ = std::make_unique<Graph>();
  graph_->space = index_internal::MakeSpace(spec.metric, spec.dim);
}

HnswIndex::~HnswIndex() = default;

Result<std::unique_ptr<HnswIndex>> HnswIndex::Build(const IndexSpec& spec, const float* data,
                                                    uint64_t num_rows, const BuildOptions& options) {
  if (num_rows > std::numeric_limits<tableint>::max() - 1) {
    return Status::InvalidArgument(fmt::format("HNSW: {} rows is more than a segment index holds", num_rows));
  }
  std::unique_ptr<HnswIndex> index(new HnswIndex(spec, num_rows));
  const uint32_t dim = spec.dim;
  const bool cosine = spec.metric == Metric::kCosine;
  try {
    index->graph_->hnsw = std::make_unique<HnswGraph>(index->graph_->space.get(), std::max<uint64_t>(num_rows, 1),
                                                    spec.hnsw_m, spec.hnsw_ef_construction, kRandomSeed);
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("hnswlib: allocating a graph of {} rows: {}", num_rows, e.what()));
  }
  HnswGraph* g = index->graph_->hnsw.get();

  std::atomic<uint64_t> next{0};
  std::mutex error_mu;
  std::string error;  // guarded by error_mu
  // Inserts rows next.. until `end`, several threads may share the counter.
  auto insert_until = [&](uint64_t end) {
    std::vector<float> buffer(cosine ? dim : 0);
    for (uint64_t i = next.fetch_add(1); i < end; i = next.fetch_add(1)) {
      if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
        next.store(end);
        return;
      }
      const float* row = data + i * dim;
      if (cosine) {
        std::memcpy(buffer.data(), row, dim * sizeof(float));
        index_internal::NormalizeRows(buffer.data(), 1, dim);
        row = buffer.data();
      }
      try {
        g->addPoint(row, static_cast<hnswlib::labeltype>(i));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (error.empty()) error = fmt::format("row {}: {}", i, e.what());
        next.store(end);
        return;
      }
    }
  };
  // The first point becomes the entry point; insert it alone (hnswlib's own
  // parallel insert does the same) so that others never race on it.
  insert_until(std::min<uint64_t>(num_rows, 1));
  next.store(1);  // the loop above consumed one extra ticket
  int threads = std::max(1, options.threads);
  if (threads == 1 || num_rows < 1000) {
    insert_until(num_rows);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(insert_until, num_rows);
    for (auto& t : pool) t.join();
  }
  if (!error.empty()) return Status::Internal("hnswlib: building the graph: " + error);
  if (options.cancel != nullptr && options.cancel->load()) return Status::Cancelled("HNSW build cancelled");
  ARK_RETURN_IF_ERROR(index->IndexLabels("built HNSW index"));
  return index;
}

Status HnswIndex::IndexLabels(std::string_view name) {
  const HnswGraph& g = *graph_->hnsw;
  internal_of_label_.assign(num_rows(), std::numeric_limits<tableint>::max());
  for (tableint internal = 0; internal < g.cur_element_count; ++internal) {
    hnswlib::labeltype label = g.getExternalLabel(internal);
    if (label >= num_rows() || internal_of_label_[label] != std::numeric_limits<tableint>::max()) {
      return Status::Corruption(fmt::format("{}: HNSW node {} has label {} (expected each of 0..{} once)",
                                            name, internal, label, num_rows() - 1));
    }
    internal_of_label_[label] = internal;
  }
  return Status::OK();
}

Result<std::string> HnswIndex::SerializePayload() const {
  // Byte-for-byte hnswlib 0.6.2 saveIndex(), into memory.
  const HnswGraph& g = *graph_->hnsw;
  std::string out;
  uint64_t links_bytes = 0;
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    links_bytes += 4 + (g.element_levels_[i] > 0 ? g.size_links_per_element_ * g.element_levels_[i] : 0);
  }
  out.reserve(128 + g.cur_element_count * g.size_data_per_element_ + links_bytes);
  AppendPod(&out, g.offsetLevel0_);
  AppendPod(&out, g.max_elements_);
  AppendPod(&out, g.cur_element_count);
  AppendPod(&out, g.size_data_per_element_);
  AppendPod(&out, g.label_offset_);
  AppendPod(&out, g.offsetData_);
  AppendPod(&out, g.maxlevel_);
  AppendPod(&out, g.enterpoint_node_);
  AppendPod(&out, g.maxM_);
  AppendPod(&out, g.maxM0_);
  AppendPod(&out, g.M_);
  AppendPod(&out, g.mult_);
  AppendPod(&out, g.ef_construction_);
  out.append(g.data_level0_memory_, g.cur_element_count * g.size_data_per_element_);
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    unsigned int size = g.element_levels_[i] > 0 ? g.size_links_per_element_ * g.element_levels_[i] : 0;
    AppendPod(&out, size);
    if (size > 0) out.append(g.linkLists_[i], size);
  }
  return out;
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::LoadPayload(const IndexSpec& spec, uint64_t num_rows,
                                                          std::string_view payload, std::string_view name) {
  auto corrupt = [&](size_t offset, const std::string& what) {
    return Status::Corruption(fmt::format("{}: HNSW payload offset {}: {}", name, offset, what));
  };
  PodReader in(payload);
  size_t offset_level0, max_elements, count, size_per_element, label_offset, offset_data, max_m, max_m0, m,
      ef_construction;
  int max_level;
  tableint entry_point;
  double mult;
  if (!in.Read(&offset_level0) || !in.Read(&max_elements) || !in.Read(&count) || !in.Read(&size_per_element) ||
      !in.Read(&label_offset) || !in.Read(&offset_data) || !in.Read(&max_level) || !in.Read(&entry_point) ||
      !in.Read(&max_m) || !in.Read(&max_m0) || !in.Read(&m) || !in.Read(&mult) || !in.Read(&ef_construction)) {
    return corrupt(in.offset(), "truncated graph header");
  }
  if (count != num_rows) return corrupt(16, fmt::format("graph has {} nodes, header says {} rows", count, num_rows));
  if (m != spec.hnsw_m) return corrupt(80, fmt::format("graph has M {}, header says {}", m, spec.hnsw_m));

  std::unique_ptr<HnswIndex> index(new HnswIndex(spec, num_rows));
  try {
    index->graph_->hnsw = std::make_unique<HnswGraph>(index->graph_->space.get(), std::max<uint64_t>(num_rows, 1),
                                                    spec.hnsw_m, spec.hnsw_ef_construction, kRandomSeed);
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("{}: hnswlib: allocating a graph of {} rows: {}", name, num_rows, e.what()));
  }
  HnswGraph& g = *index->graph_->hnsw;
  if (offset_level0 != g.offsetLevel0_ || size_per_element != g.size_data_per_element_ ||
      label_offset != g.label_offset_ || offset_data != g.offsetData_ || max_m != g.maxM_ || max_m0 != g.maxM0_ ||
      ef_construction != g.ef_construction_) {
    return corrupt(0, fmt::format("graph layout (element size {}, maxM0 {}) does not match dim {} M {} "
                                  "(expected element size {}, maxM0 {})",
                                  size_per_element, max_m0, spec.dim, spec.hnsw_m, g.size_data_per_element_,
                                  g.maxM0_));
  }
  const char* level0 = nullptr;
  if (!in.Take(count * size_per_element, &level0)) return corrupt(in.offset(), "truncated layer 0");
  if (count > 0) std::memcpy(g.data_level0_memory_, level0, count * size_per_element);
  // From here the destructor frees linkLists_[i] for i < cur_element_count
  // whose element_levels_[i] > 0; levels stay 0 until their list exists.
  g.cur_element_count = count;
  g.maxlevel_ = max_level;
  g.enterpoint_node_ = entry_point;
  g.mult_ = mult;
  g.revSize_ = 1.0 / mult;
  for (size_t i = 0; i < count; ++i) {
    unsigned int size;
    size_t at = in.offset();
    if (!in.Read(&size)) return corrupt(at, fmt::format("truncated link list size of node {}", i));
    if (size == 0) {
      g.linkLists_[i] = nullptr;
      continue;
    }
    const char* bytes;
    if (size % g.size_links_per_element_ != 0 || static_cast<int>(size / g.size_links_per_element_) > max_level ||
        !in.Take(size, &bytes)) {
      return corrupt(at, fmt::format("bad link list of node {} ({} bytes)", i, size));
    }
    g.linkLists_[i] = static_cast<char*>(malloc(size));
    if (g.linkLists_[i] == nullptr) return Status::ResourceExhausted(fmt::format("{}: out of memory", name));
    std::memcpy(g.linkLists_[i], bytes, size);
    g.element_levels_[i] = static_cast<int>(size / g.size_links_per_element_);
  }
  if (in.remaining() != 0) return corrupt(in.offset(), fmt::format("{} trailing bytes", in.remaining()));
  // Every neighbour must exist and live on the level it is linked from, so
  // that the search loop never reads outside the graph.
  if (count > 0 && (max_level < 0 || entry_point >= count || g.element_levels_[entry_point] != max_level)) {
    return corrupt(24, fmt::format("bad entry point {} / max level {}", entry_point, max_level));
  }
  for (tableint i = 0; i < count; ++i) {
    for (int level = 0; level <= g.element_levels_[i]; ++level) {
      linklistsizeint* list = level == 0 ? g.get_linklist0(i) : g.get_linklist(i, level);
      size_t size = g.getListCount(list);
      if (size > (level == 0 ? g.maxM0_ : g.maxM_)) {
        return corrupt(0, fmt::format("node {} level {} has {} neighbours", i, level, size));
      }
      const tableint* nb = reinterpret_cast<const tableint*>(list + 1);
      for (size_t j = 0; j < size; ++j) {
        if (nb[j] >= count || g.element_levels_[nb[j]] < level) {
          return corrupt(0, fmt::format("node {} level {} links to bad node {}", i, level, nb[j]));
        }
      }
    }
  }
  ARK_RETURN_IF_ERROR(index->IndexLabels(name));
  return index;
}

uint64_t HnswIndex::MemoryBytes() const {
  const HnswGraph& g = *graph_->hnsw;
  uint64_t bytes = g.max_elements_ * (g.size_data_per_element_ + sizeof(void*) + sizeof(int) +
                                      sizeof(std::mutex) + sizeof(hnswlib::vl_type) + sizeof(tableint));
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    if (g.element_levels_[i] > 0) bytes += g.size_links_per_element_ * g.element_levels_[i];
  }
  return bytes + HnswGraph::max_update_element_locks * sizeof(std::mutex);
}

HnswIndex::Links HnswIndex::ExportLinks(
    const std::function<void(uint64_t row, int level, const uint32_t* neighbours, size_t count)>& visit) const {
  const HnswGraph& g = *graph_->hnsw;
  Links links;
  if (g.cur_element_count == 0) return links;
  links.entry_point = g.getExternalLabel(g.enterpoint_node_);
  links.max_level = g.maxlevel_;
  links.levels.resize(num_rows());
  std::vector<uint32_t> neighbours;
  for (uint64_t row = 0; row < num_rows(); ++row) {
    const tableint id = internal_of_label_[row];
    const int top = g.element_levels_[id];
    links.levels[row] = top;
    for (int level = 0; level <= top; ++level) {
      const linklistsizeint* list = level == 0 ? g.get_linklist0(id) : g.get_linklist(id, level);
      const size_t size = g.getListCount(const_cast<linklistsizeint*>(list));
      const tableint* nb = reinterpret_cast<const tableint*>(list + 1);
      neighbours.resize(size);
      for (size_t j = 0; j < size; ++j) neighbours[j] = static_cast<uint32_t>(g.getExternalLabel(nb[j]));
      visit(row, level, neighbours.data(), size);
    }
  }
  return links;
}

template <bool kFiltered>
void HnswIndex::SearchOne(const float* query, size_t k, size_t ef, const FilterBitmap* filter, int64_t* ids,
                          float* scores) const {
  const HnswGraph& g = *graph_->hnsw;
  const Metric metric = spec().metric;
  for (size_t i = 0; i < k; ++i) {
    ids[i] = -1;
    scores[i] = index_internal::PaddingScore(metric);
  }
  if (g.cur_element_count == 0) return;
  const hnswlib::DISTFUNC<float> dist = g.fstdistfunc_;
  const void* param = g.dist_func_param_;

  // Greedy descent through the upper layers (unfiltered: they only route).
  tableint current = g.enterpoint_node_;
  float current_dist = dist(query, g.getDataByInternalId(current), param);
  for (int level = g.maxlevel_; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      const linklistsizeint* list = g.get_linklist(current, level);
      size_t size = g.getListCount(const_cast<linklistsizeint*>(list));
      const tableint* nb = reinterpret_cast<const tableint*>(list + 1);
      for (size_t j = 0; j < size; ++j) {
        float d = dist(query, g.getDataByInternalId(nb[j]), param);
        if (d < current_dist) {
          current_dist = d;
          current = nb[j];
          changed = true;
        }
      }
    }
  }

  // Best-first search of layer 0 (hnswlib's searchBaseLayerST, with "not
  // allowed" playing the role of "deleted").
  using Pair = std::pair<float, tableint>;
  using Queue = std::priority_queue<Pair, std::vector<Pair>, HnswGraph::CompareByFirst>;
  auto allowed = [&](tableint id) { return !kFiltered || filter->Test(g.getExternalLabel(id)); };
  Queue top;         // best ef allowed so far, worst on top
  Queue candidates;  // to expand, nearest on top (negated distances)
  hnswlib::VisitedList* visited_list = g.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;
  float lower_bound = std::numeric_limits<float>::max();
  if (allowed(current)) {
    top.emplace(current_dist, current);
    lower_bound = current_dist;
  }
  candidates.emplace(-current_dist, current);
  visited[current] = tag;
  while (!candidates.empty()) {
    Pair candidate = candidates.top();
    if (-candidate.first > lower_bound && (top.size() == ef || !kFiltered)) break;
    candidates.pop();
    const int* list = reinterpret_cast<const int*>(g.get_linklist0(candidate.second));
    size_t size = g.getListCount(reinterpret_cast<linklistsizeint*>(const_cast<int*>(list)));
#ifdef USE_SSE
    _mm_prefetch(reinterpret_cast<const char*>(visited + *(list + 1)), _MM_HINT_T0);
    _mm_prefetch(g.data_level0_memory_ + (*(list + 1)) * g.size_data_per_element_ + g.offsetData_, _MM_HINT_T0);
#endif
    for (size_t j = 1; j <= size; ++j) {
      tableint id = static_cast<tableint>(list[j]);
#ifdef USE_SSE
      if (j < size) {
        _mm_prefetch(reinterpret_cast<const char*>(visited + list[j + 1]), _MM_HINT_T0);
        _mm_prefetch(g.data_level0_memory_ + list[j + 1] * g.size_data_per_element_ + g.offsetData_, _MM_HINT_T0);
      }
#endif
      if (visited[id] == tag) continue;
      visited[id] = tag;
      float d = dist(query, g.getDataByInternalId(id), param);
      if (top.size() < ef || lower_bound > d) {
        candidates.emplace(-d, id);
        if (allowed(id)) {
          top.emplace(d, id);
          if (top.size() > ef) top.pop();
        }
        if (!top.empty()) lower_bound = top.top().first;
      }
    }
  }
  g.visited_list_pool_->releaseVisitedList(visited_list);

  while (top.size() > k) top.pop();
  for (size_t i = top.size(); i-- > 0;) {
    ids[i] = static_cast<int64_t>(g.getExternalLabel(top.top().second));
    scores[i] = index_internal::ToMilvusScore(metric, top.top().first);
    top.pop();
  }
}

bool HnswPrefersExactScan(uint64_t allowed, uint64_t rows, size_t ef) {
  return static_cast<double>(allowed) * static_cast<double>(allowed) <=
         kHnswFilterWalkCost * static_cast<double>(ef) * static_cast<double>(rows);
}

Result<SearchResult> HnswIndex::Search(const float* queries, size_t num_queries, size_t k,
                                       const SearchParams& params, const FilterBitmap* filter) const {
  if (k == 0) return Status::InvalidArgument("search: limit (k) must be >= 1");
  const IndexSpec& s = spec();
  SearchResult out = index_internal::EmptyResult(s.metric, num_queries, k);
  if (num_queries == 0 || num_rows() == 0) return out;
  const size_t ef = std::max<size_t>(k, params.ef != 0 ? params.ef : kDefaultHnswSearchEf);
  bool exact = false;
  if (filter != nullptr) {
    uint64_t allowed = filter->Count();
    if (allowed == 0) return out;
    exact = params.exact_filter_fraction >= 0
                ? static_cast<double>(allowed) <= params.exact_filter_fraction * static_cast<double>(num_rows())
                : HnswPrefersExactScan(allowed, num_rows(), ef);
  }
  std::vector<float> normalized(s.metric == Metric::kCosine ? s.dim : 0);
  const HnswGraph& g = *graph_->hnsw;
  for (size_t q = 0; q < num_queries; ++q) {
    const float* query = queries + q * s.dim;
    if (s.metric == Metric::kCosine) {
      std::memcpy(normalized.data(), query, s.dim * sizeof(float));
      index_internal::NormalizeRows(normalized.data(), 1, s.dim);
      query = normalized.data();
    }
    int64_t* ids = &out.ids[q * k];
    float* scores = &out.distances[q * k];
    if (exact) {
      index_internal::ExactScanAllowed(
          *graph_->space, s.metric, query, k, *filter, num_rows(),
          [&](uint64_t label) { return g.getDataByInternalId(internal_of_label_[label]); }, ids, scores);
    } else if (filter != nullptr) {
      SearchOne<true>(query, k, ef, filter, ids, scores);
    } else {
      SearchOne<false>(query, k, ef, nullptr, ids, scores);
    }
  }
  return out;
}

}  // namespace ark
