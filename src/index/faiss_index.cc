#include "index/faiss_index.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <fmt/format.h>

#include "core/coding.h"
#include "index/distance.h"

namespace ark {
namespace {

using index_internal::NormalizeRows;

faiss::MetricType FaissMetric(Metric m) {
  return m == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

bool IsIvf(IndexType t) { return t == IndexType::kIvfFlat || t == IndexType::kIvfSq8 || t == IndexType::kIvfPq; }

// The allow-filter as a FAISS selector (FAISS's own IDSelectorBitmap would
// allow stray bits past num_rows in the last byte; this one cannot).
struct AllowSelector final : faiss::IDSelector {
  explicit AllowSelector(FilterBitmap f) : filter(f) {}
  bool is_member(idx_t id) const override { return id >= 0 && filter.Test(static_cast<uint64_t>(id)); }
  FilterBitmap filter;
};

// Runs `f`, turning a FAISS (or allocation) exception into Internal.
template <typename F>
Status FaissCall(std::string_view what, F&& f) {
  try {
    f();
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("faiss {}: {}", what, e.what()));
  }
}

std::unique_ptr<faiss::Index> NewFaissIndex(const IndexSpec& spec) {
  faiss::MetricType metric = FaissMetric(spec.metric);
  if (spec.type == IndexType::kFlat) return std::make_unique<faiss::IndexFlat>(spec.dim, metric);
  auto* quantizer = new faiss::IndexFlat(spec.dim, metric);  // owned by the IVF index (own_fields)
  std::unique_ptr<faiss::IndexIVF> ivf;
  switch (spec.type) {
    case IndexType::kIvfFlat:
      ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, spec.dim, spec.nlist, metric);
      break;
    case IndexType::kIvfSq8:
      ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(quantizer, spec.dim, spec.nlist,
                                                             faiss::ScalarQuantizer::QT_8bit, metric);
      break;
    default: {
      auto pq = std::make_unique<faiss::IndexIVFPQ>(quantizer, spec.dim, spec.nlist, spec.pq_m,
                                                    spec.pq_nbits, metric);
      pq->pq.cp.min_points_per_centroid = 1;  // we validated rows >= 2^nbits; no stderr warning
      ivf = std::move(pq);
      break;
    }
  }
  ivf->own_fields = true;
  ivf->cp.min_points_per_centroid = 1;  // nlist <= rows is validated; silence FAISS's warning
  return ivf;
}

// Checks that a deserialized FAISS index is what the Ark header says.
// FAISS's reader checks little beyond array sizes: a payload whose checksums
// match but whose contents lie (a writer bug or a crafted file) could make a
// search read past the inverted lists or return ids outside the segment,
// which the engine would use as row numbers. So every structure a search
// touches is checked against the header (found by fuzz/index_fuzz.cc).
Status CheckIvfLayout(const faiss::IndexIVF& ivf, const IndexSpec& spec, uint64_t num_rows,
                      std::string_view name) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption(fmt::format("{}: FAISS {} payload: {}", name, IndexTypeName(spec.type), what));
  };
  const size_t dim = spec.dim;
  if (ivf.quantizer == nullptr || ivf.quantizer->d != ivf.d ||
      ivf.quantizer->ntotal != static_cast<faiss::Index::idx_t>(ivf.nlist)) {
    return corrupt(fmt::format("the coarse quantizer does not hold nlist = {} centroids of dim {}", ivf.nlist, dim));
  }
  size_t code_size = 0;
  switch (spec.type) {
    case IndexType::kIvfFlat:
      code_size = dim * sizeof(float);
      break;
    case IndexType::kIvfSq8: {
      const auto& sq = static_cast<const faiss::IndexIVFScalarQuantizer&>(ivf).sq;
      if (sq.qtype != faiss::ScalarQuantizer::QT_8bit || sq.d != dim || sq.code_size != dim ||
          sq.trained.size() != 2 * dim) {
        return corrupt("the scalar quantizer is not an 8-bit quantizer of the index dimension");
      }
      code_size = sq.code_size;
      break;
    }
    case IndexType::kIvfPq: {
      const auto& pq = static_cast<const faiss::IndexIVFPQ&>(ivf).pq;
      if (pq.d != dim || pq.M != spec.pq_m || pq.nbits != spec.pq_nbits || pq.M == 0 ||
          pq.dsub != dim / pq.M || pq.ksub != (size_t{1} << pq.nbits) ||
          pq.code_size != (pq.M * pq.nbits + 7) / 8 || pq.centroids.size() != dim * pq.ksub) {
        return corrupt(fmt::format("the product quantizer (d {}, M {}, nbits {}) does not match the header "
                                   "(dim {}, m {}, nbits {})",
                                   pq.d, pq.M, pq.nbits, dim, spec.pq_m, spec.pq_nbits));
      }
      code_size = pq.code_size;
      break;
    }
    default:
      return corrupt("not an IVF index");
  }
  if (ivf.code_size != code_size || ivf.invlists == nullptr || ivf.invlists->nlist != ivf.nlist ||
      ivf.invlists->code_size != code_size) {
    return corrupt(fmt::format("code size {} or inverted lists do not match the expected code size {}",
                               ivf.code_size, code_size));
  }
  const auto* arrays = dynamic_cast<const faiss::ArrayInvertedLists*>(ivf.invlists);
  if (arrays == nullptr) return corrupt("inverted lists are not in memory arrays");
  // Every row id in [0, num_rows) exactly once across the lists.
  std::vector<bool> seen(num_rows, false);
  uint64_t total = 0;
  for (size_t list = 0; list < ivf.nlist; ++list) {
    const auto& ids = arrays->ids[list];
    if (arrays->codes[list].size() != ids.size() * code_size) {
      return corrupt(fmt::format("inverted list {} holds {} ids but {} code bytes", list, ids.size(),
                                 arrays->codes[list].size()));
    }
    total += ids.size();
    for (faiss::Index::idx_t id : ids) {
      if (id < 0 || static_cast<uint64_t>(id) >= num_rows || seen[id]) {
        return corrupt(fmt::format("inverted list {} holds row id {}, outside [0, {}) or repeated", list, id,
                                   num_rows));
      }
      seen[id] = true;
    }
  }
  if (total != num_rows) return corrupt(fmt::format("inverted lists hold {} rows, header says {}", total, num_rows));
  return Status::OK();
}

Status CheckLoaded(const faiss::Index& index, const IndexSpec& spec, uint64_t num_rows, std::string_view name) {
  bool type_ok = false;
  switch (spec.type) {
    case IndexType::kFlat: type_ok = dynamic_cast<const faiss::IndexFlat*>(&index) != nullptr; break;
    case IndexType::kIvfFlat: type_ok = dynamic_cast<const faiss::IndexIVFFlat*>(&index) != nullptr; break;
    case IndexType::kIvfSq8:
      type_ok = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&index) != nullptr;
      break;
    case IndexType::kIvfPq: type_ok = dynamic_cast<const faiss::IndexIVFPQ*>(&index) != nullptr; break;
    case IndexType::kHnsw: break;
    case IndexType::kHnswSq: break;  // HnswSqIndex
  }
  if (!type_ok) {
    return Status::Corruption(
        fmt::format("{}: FAISS payload is not a {} index", name, IndexTypeName(spec.type)));
  }
  if (index.d != static_cast<int>(spec.dim) || index.ntotal != static_cast<int64_t>(num_rows) ||
      index.metric_type != FaissMetric(spec.metric)) {
    return Status::Corruption(fmt::format(
        "{}: FAISS payload has dim {} rows {} metric {}, header says dim {} rows {} metric {}", name, index.d,
        index.ntotal, static_cast<int>(index.metric_type), spec.dim, num_rows, MetricName(spec.metric)));
  }
  if (IsIvf(spec.type)) {
    const auto& ivf = static_cast<const faiss::IndexIVF&>(index);
    if (ivf.nlist != spec.nlist) {
      return Status::Corruption(
          fmt::format("{}: FAISS payload has nlist {}, header says {}", name, ivf.nlist, spec.nlist));
    }
    return CheckIvfLayout(ivf, spec, num_rows, name);
  }
  return Status::OK();
}

// FAISS 1.7.3's reader trusts the sizes in an IVF_PQ payload: a quantizer
// claiming more centroids than the index has lists makes read_index overrun
// a heap buffer while it rebuilds the precomputed table, before Ark could
// look at the loaded index (found by index_fuzz; the input is
// fuzz/corpus/index_fuzz/regress-faiss-ivfpq-precomputed-table-overflow).
// So every size the reader acts on before the inverted lists is checked
// here against the Ark header first, walking FAISS's layout (index_write.cpp:
// "IwPQ", the index header, nlist, nprobe, the flat quantizer "IxF2"/"IxFI"
// with its header and codes, the direct map, by_residual, code_size, then
// the product quantizer's d, M, nbits and centroids). The inverted lists that
// follow are read by FAISS's own checked reader and by CheckIvfLayout.
Status ValidateIvfPqPayload(const IndexSpec& spec, uint64_t num_rows, std::string_view payload,
                            std::string_view name) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: FAISS IVF_PQ payload: {}", name, what));
  };
  if (spec.pq_nbits < 1 || spec.pq_nbits > 16 || spec.pq_m == 0) return bad("header has invalid m or nbits");
  Decoder d(payload);  // FAISS writes native (little-endian) scalars
  auto fourcc = [&](std::string_view want) {
    std::string_view got;
    return d.GetBytes(4, &got) && got == want;
  };
  auto byte = [&](uint8_t* out) {
    std::string_view b;
    if (!d.GetBytes(1, &b)) return false;
    *out = static_cast<uint8_t>(b[0]);
    return true;
  };
  auto skip_floats = [&](uint64_t n) {
    std::string_view ignored;
    return d.GetBytes(n * sizeof(float), &ignored);
  };
  // An index header: d (int32), ntotal (int64), two dummies (int64),
  // is_trained (bool), metric (int32; no argument for L2 and inner product).
  auto header = [&](std::string_view which, uint64_t want_rows) -> Status {
    uint32_t dim, metric;
    uint64_t ntotal, dummy1, dummy2;
    uint8_t trained;
    if (!d.GetFixed32(&dim) || !d.GetFixed64(&ntotal) || !d.GetFixed64(&dummy1) || !d.GetFixed64(&dummy2) ||
        !byte(&trained) || !d.GetFixed32(&metric)) {
      return bad(fmt::format("{} header cut short", which));
    }
    const auto want_metric = static_cast<uint32_t>(FaissMetric(spec.metric));
    if (dim != spec.dim || ntotal != want_rows || metric != want_metric || trained != 1) {
      return bad(fmt::format("{} header has dim {} rows {} metric {} trained {}, expected dim {} rows {} metric {}",
                             which, dim, ntotal, metric, trained, spec.dim, want_rows, want_metric));
    }
    return Status::OK();
  };
  if (!fourcc("IwPQ")) return bad("not an IndexIVFPQ (fourcc IwPQ)");
  ARK_RETURN_IF_ERROR(header("index", num_rows));
  uint64_t nlist, nprobe;
  if (!d.GetFixed64(&nlist) || !d.GetFixed64(&nprobe)) return bad("nlist cut short");
  if (nlist != spec.nlist) return bad(fmt::format("nlist {}, expected {}", nlist, spec.nlist));
  if (!fourcc(spec.metric == Metric::kL2 ? "IxF2" : "IxFI")) return bad("the quantizer is not a flat index");
  ARK_RETURN_IF_ERROR(header("quantizer", nlist));
  uint64_t floats;
  if (!d.GetFixed64(&floats)) return bad("quantizer centroids cut short");
  if (floats != nlist * spec.dim || !skip_floats(floats)) {
    return bad(fmt::format("quantizer holds {} floats, expected {}", floats, nlist * spec.dim));
  }
  uint8_t map_type, by_residual;
  uint64_t map_size, code_size, pq_d, pq_m, pq_nbits, centroids;
  if (!byte(&map_type) || !d.GetFixed64(&map_size)) return bad("direct map cut short");
  if (map_type != 0 || map_size != 0) return bad("unexpected direct map");
  if (!byte(&by_residual) || !d.GetFixed64(&code_size) || !d.GetFixed64(&pq_d) || !d.GetFixed64(&pq_m) ||
      !d.GetFixed64(&pq_nbits) || !d.GetFixed64(&centroids)) {
    return bad("product quantizer cut short");
  }
  if (pq_d != spec.dim || pq_m != spec.pq_m || pq_nbits != spec.pq_nbits || by_residual > 1) {
    return bad(fmt::format("product quantizer d {} M {} nbits {}, expected d {} M {} nbits {}", pq_d, pq_m, pq_nbits,
                           spec.dim, spec.pq_m, spec.pq_nbits));
  }
  if (code_size != (pq_m * pq_nbits + 7) / 8) return bad(fmt::format("code size {}", code_size));
  const uint64_t want_centroids = uint64_t{spec.dim} << pq_nbits;
  if (centroids != want_centroids || !skip_floats(centroids)) {
    return bad(fmt::format("product quantizer holds {} floats, expected {}", centroids, want_centroids));
  }
  return Status::OK();
}

}  // namespace

struct FaissIndex::Kernel {
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
};

FaissIndex::FaissIndex(const IndexSpec& spec, uint64_t num_rows, std::unique_ptr<faiss::Index> index)
    : VectorIndex(spec, num_rows),
      index_(std::move(index)),
      kernel_(std::make_unique<Kernel>(Kernel{index_internal::MakeSpace(spec.metric, spec.dim)})) {}

FaissIndex::~FaissIndex() = default;

Result<std::unique_ptr<FaissIndex>> FaissIndex::Build(const IndexSpec& spec, const float* data,
                                                      uint64_t num_rows, const BuildOptions& options) {
  std::vector<float> normalized;
  if (spec.metric == Metric::kCosine) {
    normalized.assign(data, data + num_rows * spec.dim);
    NormalizeRows(normalized.data(), num_rows, spec.dim);
    data = normalized.data();
  }
  std::unique_ptr<faiss::Index> index;
  // omp_set_num_threads affects only parallel regions started by this
  // thread; restore the caller's setting afterwards.
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(std::max(1, options.threads));
  Status built = FaissCall("build", [&] {
    index = NewFaissIndex(spec);
    if (!index->is_trained) index->train(static_cast<faiss::Index::idx_t>(num_rows), data);
    if (options.cancel != nullptr && options.cancel->load()) return;
    index->add(static_cast<faiss::Index::idx_t>(num_rows), data);
  });
  omp_set_num_threads(saved_threads);
  ARK_RETURN_IF_ERROR(built);
  if (options.cancel != nullptr && options.cancel->load()) {
    return Status::Cancelled(fmt::format("{} build cancelled", IndexTypeName(spec.type)));
  }
  return std::unique_ptr<FaissIndex>(new FaissIndex(spec, num_rows, std::move(index)));
}

Result<std::unique_ptr<FaissIndex>> FaissIndex::LoadPayload(const IndexSpec& spec, uint64_t num_rows,
                                                            std::string_view payload, std::string_view name) {
  if (spec.type == IndexType::kIvfPq) ARK_RETURN_IF_ERROR(ValidateIvfPqPayload(spec, num_rows, payload, name));
  faiss::VectorIOReader reader;
  reader.data.assign(payload.begin(), payload.end());
  std::unique_ptr<faiss::Index> index;
  Status s = FaissCall("read_index", [&] { index.reset(faiss::read_index(&reader)); });
  if (!s.ok()) return Status::Corruption(fmt::format("{}: {}", name, s.message()));
  ARK_RETURN_IF_ERROR(CheckLoaded(*index, spec, num_rows, name));
  return std::unique_ptr<FaissIndex>(new FaissIndex(spec, num_rows, std::move(index)));
}

Result<std::string> FaissIndex::SerializePayload() const {
  faiss::VectorIOWriter writer;
  ARK_RETURN_IF_ERROR(FaissCall("write_index", [&] { faiss::write_index(index_.get(), &writer); }));
  return std::string(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
}

uint64_t FaissIndex::MemoryBytes() const {
  const IndexSpec& s = spec();
  if (s.type == IndexType::kFlat) return num_rows() * s.dim * sizeof(float);
  const auto& ivf = static_cast<const faiss::IndexIVF&>(*index_);
  return num_rows() * (ivf.code_size + sizeof(faiss::Index::idx_t)) + uint64_t{s.nlist} * s.dim * sizeof(float);
}

Status FaissIndex::SearchFlatFiltered(const float* queries, size_t num_queries, size_t k,
                                      const FilterBitmap& filter, SearchResult* out) const {
  const float* base = static_cast<const faiss::IndexFlat&>(*index_).get_xb();
  const uint32_t dim = spec().dim;
  for (size_t q = 0; q < num_queries; ++q) {
    index_internal::ExactScanAllowed(
        *kernel_->space, spec().metric, queries + q * dim, k, filter, num_rows(),
        [&](uint64_t i) { return base + i * dim; }, &out->ids[q * k], &out->distances[q * k]);
  }
  return Status::OK();
}

Result<SearchResult> FaissIndex::Search(const float* queries, size_t num_queries, size_t k,
                                        const SearchParams& params, const FilterBitmap* filter) const {
  if (k == 0) return Status::InvalidArgument("search: limit (k) must be >= 1");
  const IndexSpec& s = spec();
  SearchResult out = index_internal::EmptyResult(s.metric, num_queries, k);
  if (num_queries == 0 || num_rows() == 0) return out;
  uint64_t allowed = num_rows();
  if (filter != nullptr) {
    allowed = filter->Count();
    if (allowed == 0) return out;
  }
  std::vector<float> normalized;
  if (s.metric == Metric::kCosine) {
    normalized.assign(queries, queries + num_queries * s.dim);
    NormalizeRows(normalized.data(), num_queries, s.dim);
    queries = normalized.data();
  }
  if (s.type == IndexType::kFlat && filter != nullptr) {
    ARK_RETURN_IF_ERROR(SearchFlatFiltered(queries, num_queries, k, *filter, &out));
    return out;
  }

  AllowSelector selector(filter != nullptr ? *filter : FilterBitmap{});
  faiss::SearchParametersIVF ivf_params;
  faiss::SearchParameters* search_params = nullptr;
  if (IsIvf(s.type)) {
    uint32_t nprobe = params.nprobe != 0 ? params.nprobe : std::min(s.nlist, kDefaultIvfNprobe);
    if (filter != nullptr) {
      double exact_fraction =
          params.exact_filter_fraction >= 0 ? params.exact_filter_fraction : kIvfExactFilterFraction;
      if (static_cast<double>(allowed) <= exact_fraction * static_cast<double>(num_rows())) nprobe = s.nlist;
      ivf_params.sel = &selector;
    }
    ivf_params.nprobe = std::min(nprobe, s.nlist);
    search_params = &ivf_params;
  }
  std::vector<faiss::Index::idx_t> labels(num_queries * k);
  ARK_RETURN_IF_ERROR(FaissCall("search", [&] {
    index_->search(static_cast<faiss::Index::idx_t>(num_queries), queries, static_cast<faiss::Index::idx_t>(k),
                   out.distances.data(), labels.data(), search_params);
  }));
  const float padding = index_internal::PaddingScore(s.metric);
  for (size_t i = 0; i < labels.size(); ++i) {
    out.ids[i] = labels[i];
    if (labels[i] < 0) {
      out.ids[i] = -1;
      out.distances[i] = padding;
    }
  }
  return out;
}

}  // namespace ark
