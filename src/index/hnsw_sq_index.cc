#include "index/hnsw_sq_index.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include <faiss/IndexHNSW.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>
#include <fmt/format.h>

#include "index/hnsw_index.h"

namespace ark {
namespace {

using idx_t = faiss::Index::idx_t;

// faiss::HNSW::efSearch, fixed: see Search().
constexpr int kFaissEfSearch = 1;

faiss::MetricType FaissMetric(Metric m) { return m == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT; }

faiss::ScalarQuantizer::QuantizerType QuantizerOf(SqType type) {
  switch (type) {
    case SqType::kSq8: return faiss::ScalarQuantizer::QT_8bit;
    case SqType::kFp16: return faiss::ScalarQuantizer::QT_fp16;
    case SqType::kSq6: return faiss::ScalarQuantizer::QT_6bit;
  }
  return faiss::ScalarQuantizer::QT_8bit;
}

template <typename F>
Status FaissCall(std::string_view what, F&& f) {
  try {
    f();
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("faiss {}: {}", what, e.what()));
  }
}

void Normalize(float* v, uint32_t dim) {
  float norm = std::sqrt(faiss::fvec_norm_L2sqr(v, dim));
  if (norm > 0) {
    for (uint32_t i = 0; i < dim; ++i) v[i] /= norm;
  }
}

// faiss::HNSW searches for the smallest distances; for inner product it is
// handed the negated similarity (as FAISS's own IndexHNSW does internally).
struct NegatedDistance final : faiss::DistanceComputer {
  explicit NegatedDistance(faiss::DistanceComputer* inner) : inner(inner) {}
  void set_query(const float* x) override { inner->set_query(x); }
  float operator()(idx_t i) override { return -(*inner)(i); }
  float symmetric_dis(idx_t i, idx_t j) override { return -inner->symmetric_dis(i, j); }
  std::unique_ptr<faiss::DistanceComputer> inner;
};

// Query-to-SQ8-code distance, the same value as FAISS's QT_8bit / RS_minmax
// distance computer (component i decodes to vmin[i] + (code + 0.5) / 255 *
// vdiff[i]), rearranged so that the inner loop is one multiply-add per
// byte that the compiler vectorises for this machine. Hand-written because
// Debian's generic FAISS 1.7.3 build has no AVX2 SQ kernels and its
// per-component decode made HNSW_SQ 4.5-6x slower than float HNSW
// (docs/benchmarks/index.md); hnsw_sq_index_test checks it against FAISS's.
// Returns the cost the graph walk minimises: L2, or the negated inner product.
class Sq8Distance final : public faiss::DistanceComputer {
 public:
  Sq8Distance(const faiss::IndexScalarQuantizer& storage, bool inner_product)
      : codes_(storage.codes.data()),
        dim_(static_cast<size_t>(storage.d)),
        inner_product_(inner_product),
        vmin_(storage.sq.trained.data()),
        scale_(dim_),
        shifted_(dim_) {
    const float* vdiff = vmin_ + dim_;
    for (size_t i = 0; i < dim_; ++i) scale_[i] = vdiff[i] / 255.0f;
  }

  void set_query(const float* x) override {
    // L2:  sum (x - vmin - (c + 0.5) * scale)^2 = sum (shifted - c * scale)^2
    // IP:  sum x * (vmin + (c + 0.5) * scale)  = base + sum c * (x * scale)
    base_ = 0;
    for (size_t i = 0; i < dim_; ++i) {
      if (inner_product_) {
        shifted_[i] = x[i] * scale_[i];
        base_ += x[i] * (vmin_[i] + 0.5f * scale_[i]);
      } else {
        shifted_[i] = x[i] - vmin_[i] - 0.5f * scale_[i];
      }
    }
  }

// clang (the fuzz tree, -O1) reports the simd loops below as "not
// vectorized" (-Wpass-failed), an error under -Werror; they are still
// correct scalar loops there, and GCC's release build vectorizes them.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
  float operator()(idx_t i) override {
    const uint8_t* code = codes_ + static_cast<size_t>(i) * dim_;
    const float* shifted = shifted_.data();
    const float* scale = scale_.data();
    float acc = 0;
    if (inner_product_) {
#pragma omp simd reduction(+ : acc)
      for (size_t j = 0; j < dim_; ++j) acc += shifted[j] * static_cast<float>(code[j]);
      return -(base_ + acc);
    }
#pragma omp simd reduction(+ : acc)
    for (size_t j = 0; j < dim_; ++j) {
      const float d = shifted[j] - scale[j] * static_cast<float>(code[j]);
      acc += d * d;
    }
    return acc;
  }
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

  float symmetric_dis(idx_t a, idx_t b) override {  // not used by search
    const uint8_t* ca = codes_ + static_cast<size_t>(a) * dim_;
    const uint8_t* cb = codes_ + static_cast<size_t>(b) * dim_;
    float acc = 0;
    for (size_t j = 0; j < dim_; ++j) {
      const float xa = vmin_[j] + (static_cast<float>(ca[j]) + 0.5f) * scale_[j];
      const float xb = vmin_[j] + (static_cast<float>(cb[j]) + 0.5f) * scale_[j];
      acc += inner_product_ ? xa * xb : (xa - xb) * (xa - xb);
    }
    return inner_product_ ? -acc : acc;
  }

 private:
  const uint8_t* codes_;
  size_t dim_;
  bool inner_product_;
  const float* vmin_;  // vmin[dim], then vdiff[dim] (FAISS's trained ranges)
  std::vector<float> scale_;
  std::vector<float> shifted_;
  float base_ = 0;
};

std::unique_ptr<faiss::DistanceComputer> CodeDistance(const faiss::IndexHNSW& index) {
  const auto& storage = static_cast<const faiss::IndexScalarQuantizer&>(*index.storage);
  if (storage.sq.qtype == faiss::ScalarQuantizer::QT_8bit && storage.sq.rangestat == faiss::ScalarQuantizer::RS_minmax) {
    return std::make_unique<Sq8Distance>(storage, index.metric_type == faiss::METRIC_INNER_PRODUCT);
  }
  std::unique_ptr<faiss::DistanceComputer> dc(index.storage->get_distance_computer());
  if (index.metric_type == faiss::METRIC_INNER_PRODUCT) return std::make_unique<NegatedDistance>(dc.release());
  return dc;
}

// Checks the loaded FAISS index against the header, so that a payload whose
// checksum matches but whose contents lie cannot make a search read outside
// the codes or the link table, or return an id outside the segment.
Status CheckLoaded(const faiss::IndexHNSW& index, const IndexSpec& spec, uint64_t num_rows, std::string_view name) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption(fmt::format("{}: FAISS HNSW_SQ payload: {}", name, what));
  };
  if (index.d != static_cast<int>(spec.dim) || index.ntotal != static_cast<idx_t>(num_rows) ||
      index.metric_type != FaissMetric(spec.metric)) {
    return corrupt(fmt::format("dim {} rows {} metric {}, header says dim {} rows {} metric {}", index.d,
                               index.ntotal, static_cast<int>(index.metric_type), spec.dim, num_rows,
                               MetricName(spec.metric)));
  }
  const auto* storage = dynamic_cast<const faiss::IndexScalarQuantizer*>(index.storage);
  if (storage == nullptr) return corrupt("storage is not a scalar quantizer");
  const faiss::ScalarQuantizer& sq = storage->sq;
  faiss::ScalarQuantizer expect(spec.dim, QuantizerOf(spec.sq_type));
  const size_t ranges = spec.sq_type == SqType::kFp16 ? 0 : 2 * size_t{spec.dim};
  if (sq.qtype != expect.qtype || sq.d != spec.dim || sq.code_size != expect.code_size ||
      storage->code_size != expect.code_size || sq.trained.size() != ranges || storage->d != index.d ||
      storage->ntotal != index.ntotal || storage->codes.size() != num_rows * expect.code_size) {
    return corrupt(fmt::format("storage is not {} codes of dim {} for {} rows", SqTypeName(spec.sq_type), spec.dim,
                               num_rows));
  }
  const faiss::HNSW& h = index.hnsw;
  const auto& cum = h.cum_nneighbor_per_level;
  if (cum.size() < 2 || cum[0] != 0 || cum[1] != 2 * static_cast<int>(spec.hnsw_m) ||
      (cum.size() > 2 && cum[2] - cum[1] != static_cast<int>(spec.hnsw_m)) ||
      h.efConstruction != static_cast<int>(spec.hnsw_ef_construction)) {
    return corrupt(fmt::format("graph parameters do not match M {} efConstruction {}", spec.hnsw_m,
                               spec.hnsw_ef_construction));
  }
  for (size_t l = 1; l < cum.size(); ++l) {
    if (cum[l] < cum[l - 1]) return corrupt(fmt::format("neighbour counts decrease at level {}", l));
  }
  if (h.levels.size() != num_rows || h.offsets.size() != num_rows + 1 || h.offsets[0] != 0) {
    return corrupt("levels or offsets do not cover the rows");
  }
  for (uint64_t i = 0; i < num_rows; ++i) {
    const int level = h.levels[i];
    if (level < 1 || static_cast<size_t>(level) >= cum.size() || level - 1 > h.max_level ||
        h.offsets[i + 1] != h.offsets[i] + static_cast<size_t>(cum[level])) {
      return corrupt(fmt::format("row {}: level {} or its link range is inconsistent", i, level));
    }
  }
  if (h.neighbors.size() != h.offsets[num_rows]) return corrupt("link table size does not match the offsets");
  for (size_t j = 0; j < h.neighbors.size(); ++j) {
    const int id = h.neighbors[j];
    if (id < -1 || id >= static_cast<int64_t>(num_rows)) return corrupt(fmt::format("link {} names row {}", j, id));
  }
  if (num_rows > 0) {
    if (h.entry_point < 0 || static_cast<uint64_t>(h.entry_point) >= num_rows ||
        h.levels[h.entry_point] - 1 != h.max_level) {
      return corrupt(fmt::format("entry point {} is not a node of the top level {}", h.entry_point, h.max_level));
    }
  }
  return Status::OK();
}

// A candidate: cost is smaller-is-closer (L2 distance, negated similarity).
struct Candidate {
  float cost;
  int64_t id;
  bool operator<(const Candidate& o) const { return cost != o.cost ? cost < o.cost : id < o.id; }
};

}  // namespace

HnswSqIndex::HnswSqIndex(const IndexSpec& spec, uint64_t num_rows, std::unique_ptr<faiss::IndexHNSW> index)
    : VectorIndex(spec, num_rows), index_(std::move(index)) {}

HnswSqIndex::~HnswSqIndex() = default;

Result<std::unique_ptr<HnswSqIndex>> HnswSqIndex::Build(const IndexSpec& spec, const float* data,
                                                        uint64_t num_rows, const BuildOptions& options) {
  if (num_rows > static_cast<uint64_t>(std::numeric_limits<int>::max() - 1)) {
    return Status::InvalidArgument(fmt::format("HNSW_SQ: {} rows is more than a segment index holds", num_rows));
  }
  IndexSpec graph_spec = spec;
  graph_spec.type = IndexType::kHnsw;
  ARK_ASSIGN_OR_RETURN(auto graph, HnswIndex::Build(graph_spec, data, num_rows, options));

  std::vector<float> normalized;
  if (spec.metric == Metric::kCosine) {
    normalized.assign(data, data + num_rows * spec.dim);
    for (uint64_t i = 0; i < num_rows; ++i) Normalize(normalized.data() + i * spec.dim, spec.dim);
    data = normalized.data();
  }
  std::unique_ptr<faiss::IndexHNSW> index;
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(std::max(1, options.threads));
  Status built = FaissCall("build", [&] {
    index = std::make_unique<faiss::IndexHNSWSQ>(static_cast<int>(spec.dim), QuantizerOf(spec.sq_type),
                                                 static_cast<int>(spec.hnsw_m), FaissMetric(spec.metric));
    index->hnsw.efConstruction = static_cast<int>(spec.hnsw_ef_construction);
    index->hnsw.efSearch = kFaissEfSearch;
    const auto n = static_cast<idx_t>(num_rows);
    if (n > 0) {
      index->storage->train(n, data);
      index->storage->add(n, data);
    }
    index->ntotal = n;
    index->is_trained = true;
  });
  omp_set_num_threads(saved_threads);
  ARK_RETURN_IF_ERROR(built);

  // Copy hnswlib's links into FAISS's layout: node i's neighbours for levels
  // 0..levels[i]-1 at offsets[i] + cum_nneighbor_per_level[level], -1 padded;
  // hnswlib's layer-0 and upper-layer list sizes (2M, M) are FAISS's too.
  faiss::HNSW& h = index->hnsw;
  HnswIndex::Links links = graph->ExportLinks([](uint64_t, int, const uint32_t*, size_t) {});
  for (int top : links.levels) {
    while (h.cum_nneighbor_per_level.size() <= static_cast<size_t>(top) + 1) {
      h.assign_probas.push_back(0.0);
      h.cum_nneighbor_per_level.push_back(h.cum_nneighbor_per_level.back() + static_cast<int>(spec.hnsw_m));
    }
  }
  h.levels.resize(num_rows);
  h.offsets.assign(num_rows + 1, 0);
  for (uint64_t i = 0; i < num_rows; ++i) {
    h.levels[i] = links.levels[i] + 1;
    h.offsets[i + 1] = h.offsets[i] + static_cast<size_t>(h.cum_nb_neighbors(h.levels[i]));
  }
  h.neighbors.assign(h.offsets[num_rows], -1);
  Status copied = Status::OK();
  graph->ExportLinks([&](uint64_t row, int level, const uint32_t* neighbours, size_t count) {
    size_t begin = 0, end = 0;
    h.neighbor_range(static_cast<idx_t>(row), level, &begin, &end);
    if (count > end - begin) {
      copied = Status::Internal(fmt::format("HNSW_SQ: row {} has {} links on level {}, room for {}", row, count,
                                            level, end - begin));
      count = end - begin;
    }
    for (size_t j = 0; j < count; ++j) h.neighbors[begin + j] = static_cast<int>(neighbours[j]);
  });
  ARK_RETURN_IF_ERROR(copied);
  h.entry_point = num_rows > 0 ? static_cast<int>(links.entry_point) : -1;
  h.max_level = num_rows > 0 ? links.max_level : -1;
  return std::unique_ptr<HnswSqIndex>(new HnswSqIndex(spec, num_rows, std::move(index)));
}

Result<std::unique_ptr<HnswSqIndex>> HnswSqIndex::LoadPayload(const IndexSpec& spec, uint64_t num_rows,
                                                              std::string_view payload, std::string_view name) {
  faiss::VectorIOReader reader;
  reader.data.assign(payload.begin(), payload.end());
  std::unique_ptr<faiss::Index> loaded;
  Status s = FaissCall("read_index", [&] { loaded.reset(faiss::read_index(&reader)); });
  if (!s.ok()) return Status::Corruption(fmt::format("{}: {}", name, s.message()));
  auto* hnsw = dynamic_cast<faiss::IndexHNSWSQ*>(loaded.get());
  if (hnsw == nullptr) return Status::Corruption(fmt::format("{}: FAISS payload is not an HNSW_SQ index", name));
  loaded.release();
  std::unique_ptr<faiss::IndexHNSW> index(hnsw);
  ARK_RETURN_IF_ERROR(CheckLoaded(*index, spec, num_rows, name));
  if (index->hnsw.efSearch != kFaissEfSearch || index->hnsw.upper_beam != 1) {
    return Status::Corruption(fmt::format("{}: FAISS HNSW_SQ payload: efSearch {} upper_beam {}, expected {} and 1",
                                          name, index->hnsw.efSearch, index->hnsw.upper_beam, kFaissEfSearch));
  }
  return std::unique_ptr<HnswSqIndex>(new HnswSqIndex(spec, num_rows, std::move(index)));
}

Result<std::string> HnswSqIndex::SerializePayload() const {
  faiss::VectorIOWriter writer;
  ARK_RETURN_IF_ERROR(FaissCall("write_index", [&] { faiss::write_index(index_.get(), &writer); }));
  return std::string(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
}

uint64_t HnswSqIndex::MemoryBytes() const {
  const auto& storage = static_cast<const faiss::IndexScalarQuantizer&>(*index_->storage);
  const faiss::HNSW& h = index_->hnsw;
  return storage.codes.size() + storage.sq.trained.size() * sizeof(float) + h.neighbors.size() * sizeof(int) +
         h.offsets.size() * sizeof(size_t) + h.levels.size() * sizeof(int);
}

Result<SearchResult> HnswSqIndex::Search(const float* queries, size_t num_queries, size_t k,
                                         const SearchParams& params, const FilterBitmap* filter) const {
  if (k == 0) return Status::InvalidArgument("search: limit (k) must be >= 1");
  const IndexSpec& s = spec();
  const uint64_t rows = num_rows();
  SearchResult out;
  out.num_queries = num_queries;
  out.k = k;
  out.ids.assign(num_queries * k, -1);
  const float padding = s.metric == Metric::kL2 ? std::numeric_limits<float>::infinity()
                                                : -std::numeric_limits<float>::infinity();
  out.distances.assign(num_queries * k, padding);
  if (num_queries == 0 || rows == 0) return out;
  uint64_t allowed = rows;
  if (filter != nullptr) {
    allowed = filter->Count();
    if (allowed == 0) return out;
  }
  const bool refine = s.refine && params.raw_vectors != nullptr;
  const double refine_k = params.refine_k > 0 ? params.refine_k : kDefaultRefineK;
  // Candidates taken from the codes: k, or ceil(k * refine_k) to re-rank.
  const size_t want = static_cast<size_t>(
      std::min<double>(static_cast<double>(rows), refine ? std::ceil(static_cast<double>(k) * refine_k) : k));
  const size_t ef = std::max<size_t>(want, params.ef != 0 ? params.ef : kDefaultHnswSearchEf);
  bool exact = false;
  if (filter != nullptr) {
    exact = params.exact_filter_fraction >= 0
                ? static_cast<double>(allowed) <= params.exact_filter_fraction * static_cast<double>(rows)
                : HnswPrefersExactScan(allowed, rows, ef);
  }
  // Graph candidates to ask for so that `want` of them pass the filter.
  const size_t graph_k =
      filter == nullptr ? want
                        : static_cast<size_t>(std::min<double>(
                              static_cast<double>(rows),
                              std::ceil(2.0 * static_cast<double>(want) * static_cast<double>(rows) /
                                        static_cast<double>(allowed))));

  // FAISS 1.7.3's HNSW::search sizes its candidate list max(hnsw.efSearch, k)
  // from the member, not from SearchParametersHNSW; the member is kept at 1
  // (kFaissEfSearch), so asking for search_k = max(ef, graph_k) results
  // runs the walk with ef = search_k.
  const size_t search_k = std::min<size_t>(rows, std::max(ef, graph_k));

  Status status = FaissCall("search", [&] {
    std::unique_ptr<faiss::DistanceComputer> dc = CodeDistance(*index_);
    faiss::VisitedTable visited(static_cast<int>(rows));
    faiss::SearchParametersHNSW hnsw_params;
    hnsw_params.efSearch = static_cast<int>(search_k);
    std::vector<float> query(s.dim);
    std::vector<float> graph_cost(search_k);
    std::vector<idx_t> graph_ids(search_k);
    std::vector<Candidate> candidates;
    for (size_t q = 0; q < num_queries; ++q) {
      std::copy(queries + q * s.dim, queries + (q + 1) * s.dim, query.begin());
      if (s.metric == Metric::kCosine) Normalize(query.data(), s.dim);
      dc->set_query(query.data());
      candidates.clear();
      if (!exact) {
        faiss::maxheap_heapify(search_k, graph_cost.data(), graph_ids.data());
        index_->hnsw.search(*dc, static_cast<int>(search_k), graph_ids.data(), graph_cost.data(), visited,
                            &hnsw_params);
        visited.advance();
        for (size_t i = 0; i < search_k; ++i) {
          const idx_t id = graph_ids[i];
          if (id < 0 || static_cast<uint64_t>(id) >= rows) continue;
          if (filter != nullptr && !filter->Test(static_cast<uint64_t>(id))) continue;
          candidates.push_back({graph_cost[i], id});
        }
        std::sort(candidates.begin(), candidates.end());
        if (candidates.size() > want) candidates.resize(want);
      }
      if (exact || (filter != nullptr && candidates.size() < std::min<uint64_t>(want, allowed))) {
        // Scan the allowed rows' codes (few of them, or the graph walk came up short).
        candidates.clear();
        for (uint64_t i = 0; i < rows; ++i) {
          if (filter->Test(i)) candidates.push_back({(*dc)(static_cast<idx_t>(i)), static_cast<int64_t>(i)});
        }
        const size_t keep = std::min(want, candidates.size());
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep),
                          candidates.end());
        candidates.resize(keep);
      }
      if (refine) {
        const float* raw_query = queries + q * s.dim;
        for (Candidate& c : candidates) {
          const float* row = params.raw_vectors + static_cast<uint64_t>(c.id) * s.dim;
          if (s.metric == Metric::kL2) {
            c.cost = faiss::fvec_L2sqr(raw_query, row, s.dim);
          } else if (s.metric == Metric::kIp) {
            c.cost = -faiss::fvec_inner_product(raw_query, row, s.dim);
          } else {
            const float norm = std::sqrt(faiss::fvec_norm_L2sqr(row, s.dim));
            c.cost = norm > 0 ? -faiss::fvec_inner_product(query.data(), row, s.dim) / norm : 0.0f;
          }
        }
        std::sort(candidates.begin(), candidates.end());
      }
      const size_t hits = std::min(k, candidates.size());
      for (size_t i = 0; i < hits; ++i) {
        out.ids[q * k + i] = candidates[i].id;
        out.distances[q * k + i] = s.metric == Metric::kL2 ? candidates[i].cost : -candidates[i].cost;
      }
    }
  });
  ARK_RETURN_IF_ERROR(status);
  return out;
}

}  // namespace ark
